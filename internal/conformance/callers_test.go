package conformance

import (
	"fmt"
)

// allowAll is the identity policy of the IAM users that variants run as:
// what such a variant checks is the operation, not the user's permissions.
const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// asUser makes IAM user u of the variant's account its caller, with an
// access key of its own and a policy that allows everything. Operations
// that act on the caller run so: ChangePassword ("Only IAM users can
// change their own password"), the login-profile and MFA operations
// without a UserName (they act on the calling user), AssumeRole ("Roles
// may not be assumed by root accounts"), GetSessionToken with an MFA code.
func (c *vctx) asUser(u string) error {
	if _, err := c.call("iam", "PutUserPolicy", obj{"UserName": u, "PolicyName": "cf-caller", "PolicyDocument": allowAll}); err != nil {
		return err
	}
	o, err := c.call("iam", "CreateAccessKey", obj{"UserName": u})
	if err != nil {
		return err
	}
	id, err1 := get(o, "AccessKey", "AccessKeyId")
	secret, err2 := get(o, "AccessKey", "SecretAccessKey")
	if err1 != nil || err2 != nil {
		return fmt.Errorf("CreateAccessKey answered no key")
	}
	c.caller = &account{ID: c.acct.ID, AccessKey: id.(string), SecretKey: secret.(string)}
	c.stash["caller-user"] = u
	return nil
}

// callerUser is the IAM user the variant runs as: made (with asUser) on
// first use.
func (c *vctx) callerUser() (string, error) {
	if u, ok := c.stash["caller-user"].(string); ok {
		return u, nil
	}
	u := c.name("caller")
	if _, err := c.call("iam", "CreateUser", obj{"UserName": u}); err != nil {
		return "", err
	}
	return u, c.asUser(u)
}

// enabledMFA creates a virtual MFA device and enables it for user u with
// the codes of the two steps before the current one, so that the current
// step's code is still unused for the variant (AWS accepts each code of a
// device once).
func enabledMFA(c *vctx, u string) (string, error) {
	serial, err := mfaDevice(c)
	if err != nil {
		return "", err
	}
	c1, _ := mfaCode(c, -2)
	c2, _ := mfaCode(c, -1)
	_, err = c.call("iam", "EnableMFADevice", obj{"UserName": u, "SerialNumber": serial, "AuthenticationCode1": c1, "AuthenticationCode2": c2})
	return serial, err
}

// invitee makes a fresh account, invites it into the variant's
// organization and returns the root user of the invited account with the
// handshake's id.
func invitee(c *vctx) (account, any, error) {
	a := c.h.freshAccount()
	o, err := c.call("organizations", "InviteAccountToOrganization", obj{"Target": obj{"Id": a.ID, "Type": "ACCOUNT"}})
	id, err := str(o, err, "Handshake", "Id")
	return a, id, err
}
