package organizations

import (
	"context"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"
)

// on returns a rule's Resources: the ARNs of the roots, OUs, accounts and
// policies an operation names, so that identity policies can grant or deny
// Organizations actions per resource ("Resource types defined by AWS
// Organizations", Service Authorization Reference). Ids that name nothing
// in the caller's organization are left out (the handler answers
// …NotFoundException); with none left the action is checked against "*".
func on[I any](s *Service, ids func(*I) []*string) func(c *service.Call, in *I) []string {
	return func(c *service.Call, in *I) []string {
		if c.Principal == nil || s.st == nil {
			return nil
		}
		var out []string
		// Rules take no context; this read is as short as the request's own.
		_ = s.st.View(context.Background(), func(tx store.Tx) error {
			o, err := orgOf(tx, c.Principal.Account)
			if err != nil || o == nil {
				return err
			}
			for _, p := range ids(in) {
				if a := o.resourceARN(str(p)); a != "" {
					out = append(out, a)
				}
			}
			return nil
		})
		return out
	}
}

// resourceARN returns the ARN of the root, OU, account or policy id names
// in o, or "".
func (o *org) resourceARN(id string) string {
	switch {
	case id == "":
		return ""
	case id == o.RootID:
		return o.rootARN()
	case o.OUs[id] != nil:
		return o.ouARN(id)
	case o.Accounts[id] != nil:
		return o.accountARN(id)
	case o.policy(id) != nil:
		return o.policyARN(o.policy(id))
	}
	return ""
}

func ids(p ...*string) []*string { return p }
