package organizations

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	orgapi "github.com/rampart/rampart/internal/api/organizations"
)

// Tables this package owns.
//
// An organization is one document (TableOrg, keyed by organization id): its
// root, OUs, member accounts, policies, attachments, create-account statuses,
// delegated administrators and handshakes. Every operation reads the
// document, changes it in memory and writes it back in the same store
// transaction, so a request that fails changes nothing and the tree is never
// seen half-moved. AWS's default quotas (10 accounts, 1,000 OUs, 1,000
// policies per type) keep the document small; rampart allows up to
// [maxAccounts] accounts.
//
// TableMember maps every account that belongs to an organization (the
// management account included) to its organization id: it answers "which
// organization is the caller in?" and keeps an account in at most one.
// TableInvite maps "<invited account>/<handshake id>" to the organization
// that sent the invitation, so the invited account finds it.
const (
	TableOrg    = "organizations.org"
	TableMember = "organizations.member"
	TableInvite = "organizations.invite"
)

// Quotas ("Quotas for AWS Organizations",
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html).
const (
	maxOUDepth         = 5    // OUs nest at most five levels below the root
	maxOUs             = 1000 // OUs in an organization
	maxAccounts        = 1000 // accounts in an organization (AWS's default is 10, raised on request)
	maxPoliciesPerType = 1000 // policies of one type in an organization
	maxAttachments     = 5    // policies of one type attached to one root, OU or account
	maxTags            = 50   // tags on one resource
	maxDelegatedPerSvc = 1    // this quota varies by service; most allow one
	handshakeLifetime  = 15 * 24 * time.Hour
)

// org is the stored organization.
type org struct {
	ID         string    `json:"id"`
	Management string    `json:"management"` // management account id
	MgmtEmail  string    `json:"mgmtEmail,omitempty"`
	MgmtName   string    `json:"mgmtName,omitempty"`
	FeatureSet string    `json:"featureSet"`
	RootID     string    `json:"rootId"`
	Created    time.Time `json:"created"`
	// PolicyTypes are the policy types enabled on the root.
	PolicyTypes []string          `json:"policyTypes,omitempty"`
	RootTags    map[string]string `json:"rootTags,omitempty"`

	OUs      map[string]*ou           `json:"ous,omitempty"`
	Accounts map[string]*account      `json:"accounts"`
	Policies map[string]*storedPolicy `json:"policies,omitempty"` // customer managed
	// Attached lists the policies attached to each target (root, OU or
	// account id), in attachment order.
	Attached  map[string][]string             `json:"attached,omitempty"`
	Statuses  []*createStatus                 `json:"statuses,omitempty"`
	Delegated map[string]map[string]time.Time `json:"delegated,omitempty"` // account → service principal → since
	Invites   map[string]*handshake           `json:"invites,omitempty"`
	// ServiceAccess: the service principals with trusted access to the
	// organization, and since when (EnableAWSServiceAccess).
	ServiceAccess map[string]time.Time `json:"serviceAccess,omitempty"`
	// ResourcePolicy is the organization's resource policy (PutResourcePolicy), or nil.
	ResourcePolicy *resourcePolicy `json:"resourcePolicy,omitempty"`
}

type resourcePolicy struct {
	ID      string            `json:"id"`
	Content string            `json:"content"`
	Tags    map[string]string `json:"tags,omitempty"`
}

type ou struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Parent string            `json:"parent"`
	Tags   map[string]string `json:"tags,omitempty"`
}

type account struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Email        string            `json:"email"`
	Parent       string            `json:"parent"`
	State        string            `json:"state"` // ACTIVE, SUSPENDED
	JoinedMethod string            `json:"joinedMethod"`
	Joined       time.Time         `json:"joined"`
	Tags         map[string]string `json:"tags,omitempty"`
}

type storedPolicy struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Type        string            `json:"type"`
	Content     string            `json:"content"`
	Tags        map[string]string `json:"tags,omitempty"`
	Updated     time.Time         `json:"updated,omitzero"` // created or last changed
}

type createStatus struct {
	ID          string    `json:"id"`
	AccountName string    `json:"accountName"`
	Email       string    `json:"email"`
	State       string    `json:"state"`
	Requested   time.Time `json:"requested"`
	Completed   time.Time `json:"completed,omitzero"`
	AccountID   string    `json:"accountId,omitempty"`
	Failure     string    `json:"failure,omitempty"`
	// Tags are the tags the request gives the account, kept until it
	// succeeds.
	Tags map[string]string `json:"tags,omitempty"`
}

type handshake struct {
	ID        string            `json:"id"`
	Target    string            `json:"target"` // invited account id
	Email     string            `json:"email,omitempty"`
	Notes     string            `json:"notes,omitempty"`
	State     string            `json:"state"`
	Requested time.Time         `json:"requested"`
	Expires   time.Time         `json:"expires"`
	Tags      map[string]string `json:"tags,omitempty"`
}

// --- loading and saving ---

// errNoOrg is returned when the calling account belongs to no organization.
func errNoOrg() error {
	return orgapi.NewAWSOrganizationsNotInUseException("Your account is not a member of an organization.")
}

// errDenied is Organizations' answer to a member account calling an
// operation that only the management account (or a delegated
// administrator) may call.
func errDenied() error {
	return orgapi.NewAccessDeniedException("You don't have permissions to access this resource.")
}

// orgOf returns the organization account belongs to, or (nil, nil).
func orgOf(tx store.Tx, account string) (*org, error) {
	id, err := tx.Get(TableMember, account)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return getOrg(tx, string(id))
}

func getOrg(tx store.Tx, id string) (*org, error) {
	v, err := tx.Get(TableOrg, id)
	if err != nil {
		return nil, fmt.Errorf("organization %s: %w", id, err)
	}
	o := new(org)
	if err := json.Unmarshal(v, o); err != nil {
		return nil, fmt.Errorf("organization %s: %w", id, err)
	}
	if o.Accounts == nil {
		o.Accounts = map[string]*account{}
	}
	if o.OUs == nil {
		o.OUs = map[string]*ou{}
	}
	if o.Policies == nil {
		o.Policies = map[string]*storedPolicy{}
	}
	if o.Attached == nil {
		o.Attached = map[string][]string{}
	}
	if o.Delegated == nil {
		o.Delegated = map[string]map[string]time.Time{}
	}
	if o.Invites == nil {
		o.Invites = map[string]*handshake{}
	}
	return o, nil
}

func putOrg(tx store.Tx, o *org) error {
	v, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return tx.Put(TableOrg, o.ID, v)
}

// access says who may call an operation.
type access int

const (
	anyMember   access = iota // every account of the organization
	readOnly                  // the management account and delegated administrators
	managerOnly               // the management account
)

func (o *org) allow(account string, a access) error {
	switch {
	case account == o.Management:
		return nil
	case a == anyMember:
		return nil
	case a == readOnly && len(o.Delegated[account]) > 0:
		return nil
	}
	return errDenied()
}

// view runs fn on the caller's organization in a read-only transaction.
func (s *Service) view(ctx context.Context, a access, fn func(c *service.Call, o *org) error) error {
	c := service.CallFrom(ctx)
	return s.st.View(ctx, func(tx store.Tx) error {
		o, err := orgOf(tx, c.Principal.Account)
		if err != nil {
			return err
		}
		if o == nil {
			return errNoOrg()
		}
		if err := o.allow(c.Principal.Account, a); err != nil && !o.delegatedByPolicy(c, a) {
			return err
		}
		return fn(c, o)
	})
}

// update runs fn on the caller's organization and stores the result, in
// one transaction: when fn fails nothing changes.
func (s *Service) update(ctx context.Context, a access, fn func(tx store.Tx, c *service.Call, o *org) error) error {
	c := service.CallFrom(ctx)
	return s.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgOf(tx, c.Principal.Account)
		if err != nil {
			return err
		}
		if o == nil {
			return errNoOrg()
		}
		if err := o.allow(c.Principal.Account, a); err != nil && !o.delegatedByPolicy(c, a) {
			return err
		}
		if err := fn(tx, c, o); err != nil {
			return err
		}
		return putOrg(tx, o)
	})
}

// --- ids ---

const base36 = "0123456789abcdefghijklmnopqrstuvwxyz"

// randomString returns n characters of alphabet drawn uniformly from r.
func randomString(r io.Reader, alphabet string, n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, n+8)
	limit := 256 - 256%len(alphabet) // reject bytes that would bias the draw
	for len(out) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("random: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

func newID(c *service.Call, prefix string, n int) (string, error) {
	s, err := randomString(c.Rand, base36, n)
	if err != nil {
		return "", err
	}
	return prefix + s, nil
}

// newOUID forms an OU id as AWS does: "ou-", the root id's suffix, "-", eight
// random characters.
func newOUID(c *service.Call, o *org) (string, error) {
	for {
		id, err := newID(c, "ou-"+strings.TrimPrefix(o.RootID, "r-")+"-", 8)
		if err != nil {
			return "", err
		}
		if o.OUs[id] == nil {
			return id, nil
		}
	}
}

func newPolicyID(c *service.Call, o *org) (string, error) {
	for {
		id, err := newID(c, "p-", 8)
		if err != nil {
			return "", err
		}
		if o.Policies[id] == nil && managed[id] == nil {
			return id, nil
		}
	}
}

// --- ARNs (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html) ---

func (o *org) arn() string {
	return "arn:aws:organizations::" + o.Management + ":organization/" + o.ID
}

func (o *org) rootARN() string {
	return "arn:aws:organizations::" + o.Management + ":root/" + o.ID + "/" + o.RootID
}

func (o *org) ouARN(id string) string {
	return "arn:aws:organizations::" + o.Management + ":ou/" + o.ID + "/" + id
}

func (o *org) accountARN(id string) string {
	return "arn:aws:organizations::" + o.Management + ":account/" + o.ID + "/" + id
}

func (o *org) policyARN(p *storedPolicy) string {
	if m := managed[p.ID]; m != nil {
		return "arn:aws:organizations::aws:policy/" + strings.ToLower(p.Type) + "/" + p.ID
	}
	return "arn:aws:organizations::" + o.Management + ":policy/" + o.ID + "/" + strings.ToLower(p.Type) + "/" + p.ID
}

func (o *org) handshakeARN(id string) string {
	return "arn:aws:organizations::" + o.Management + ":handshake/" + o.ID + "/invite/" + id
}

// --- the tree ---

// isParent reports whether id names the root or an OU of o.
func (o *org) isParent(id string) bool {
	return id == o.RootID || o.OUs[id] != nil
}

// parentOf returns the parent of an OU or account id ("" for the root or
// an unknown id).
func (o *org) parentOf(id string) string {
	if u := o.OUs[id]; u != nil {
		return u.Parent
	}
	if a := o.Accounts[id]; a != nil {
		return a.Parent
	}
	return ""
}

// chain returns the root, then every OU down to parent (inclusive).
func (o *org) chain(parent string) []string {
	var ids []string
	for id := parent; id != ""; id = o.parentOf(id) {
		ids = append(ids, id)
		if id == o.RootID {
			break
		}
	}
	slices.Reverse(ids)
	return ids
}

// depth is the number of OUs from the root down to id (0 for the root).
func (o *org) depth(id string) int { return len(o.chain(id)) - 1 }

// path renders aws:PrincipalOrgPaths for a child of parent:
// "o-…/r-…/ou-…/".
func (o *org) path(parent string) string {
	var b strings.Builder
	b.WriteString(o.ID + "/")
	for _, id := range o.chain(parent) {
		b.WriteString(id + "/")
	}
	return b.String()
}

func parentType(o *org, id string) orgapi.ParentType {
	if id == o.RootID {
		return orgapi.ParentTypeRoot
	}
	return orgapi.ParentTypeOrganizationalUnit
}

// --- policies on targets ---

func (o *org) enabled(typ string) bool { return slices.Contains(o.PolicyTypes, typ) }

// attach attaches the AWS managed "full access" policies of every enabled
// type that has one to a new root, OU or account, as AWS does.
func (o *org) attachDefaults(target string) {
	for _, typ := range o.PolicyTypes {
		if id := defaultPolicy[typ]; id != "" && !slices.Contains(o.Attached[target], id) {
			o.Attached[target] = append(o.Attached[target], id)
		}
	}
}

// detachAll removes every attachment of target.
func (o *org) detachAll(target string) { delete(o.Attached, target) }

// policy returns a customer managed or AWS managed policy.
func (o *org) policy(id string) *storedPolicy {
	if p := o.Policies[id]; p != nil {
		return p
	}
	return managed[id]
}

// --- conversions ---

func (o *org) apiAccount(a *account) orgapi.Account {
	status := orgapi.AccountStatus(a.State)
	return orgapi.Account{
		Id: ptr(a.ID), Arn: ptr(o.accountARN(a.ID)), Email: ptr(a.Email), Name: ptr(a.Name),
		Status: status, State: orgapi.AccountState(a.State),
		Paths:        []string{o.path(a.Parent) + a.ID + "/"},
		JoinedMethod: orgapi.AccountJoinedMethod(a.JoinedMethod), JoinedTimestamp: ptr(a.Joined),
	}
}

func (o *org) apiOU(u *ou) *orgapi.OrganizationalUnit {
	return &orgapi.OrganizationalUnit{Id: ptr(u.ID), Arn: ptr(o.ouARN(u.ID)), Name: ptr(u.Name), Path: ptr(o.path(u.Parent) + u.ID + "/")}
}

func (o *org) apiRoot() orgapi.Root {
	r := orgapi.Root{Id: ptr(o.RootID), Arn: ptr(o.rootARN()), Name: ptr("Root"), PolicyTypes: []orgapi.PolicyTypeSummary{}}
	for _, t := range o.PolicyTypes {
		r.PolicyTypes = append(r.PolicyTypes, orgapi.PolicyTypeSummary{Type: orgapi.PolicyType(t), Status: orgapi.PolicyTypeStatusEnabled})
	}
	return r
}

func (o *org) apiOrganization() *orgapi.Organization {
	out := &orgapi.Organization{
		Id: ptr(o.ID), Arn: ptr(o.arn()), FeatureSet: orgapi.OrganizationFeatureSet(o.FeatureSet),
		MasterAccountArn: ptr(o.accountARN(o.Management)), MasterAccountId: ptr(o.Management),
		AvailablePolicyTypes: o.apiRoot().PolicyTypes,
	}
	if o.MgmtEmail != "" {
		out.MasterAccountEmail = ptr(o.MgmtEmail)
	}
	return out
}

func (o *org) apiPolicySummary(p *storedPolicy) *orgapi.PolicySummary {
	return &orgapi.PolicySummary{
		Id: ptr(p.ID), Arn: ptr(o.policyARN(p)), Name: ptr(p.Name), Description: ptr(p.Description),
		Type: orgapi.PolicyType(p.Type), AwsManaged: ptr(managed[p.ID] != nil),
	}
}

func (o *org) apiPolicy(p *storedPolicy) *orgapi.Policy {
	return &orgapi.Policy{PolicySummary: o.apiPolicySummary(p), Content: ptr(p.Content)}
}

func (s *createStatus) api() *orgapi.CreateAccountStatus {
	out := &orgapi.CreateAccountStatus{Id: ptr(s.ID), AccountName: ptr(s.AccountName), State: orgapi.CreateAccountState(s.State), RequestedTimestamp: ptr(s.Requested)}
	if !s.Completed.IsZero() {
		out.CompletedTimestamp = ptr(s.Completed)
	}
	if s.AccountID != "" && s.State == string(orgapi.CreateAccountStateSucceeded) {
		out.AccountId = ptr(s.AccountID)
	}
	out.FailureReason = orgapi.CreateAccountFailureReason(s.Failure)
	return out
}

func ptr[T any](v T) *T { return &v }

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// --- pagination ---

// page returns the items after the position named by token, at most max
// of them (def when max is nil), and the token for the next page. Items
// must be in a stable order; keys name them.
func page[T any](items []T, key func(T) string, token *string, max *int32, def int) ([]T, *string, error) {
	start := 0
	if token != nil && *token != "" {
		after, ok := decodeToken(*token)
		if !ok {
			return nil, nil, orgapi.NewInvalidInputException("The NextToken value isn't valid. Get the value for the NextToken parameter from the response to a previous call of the operation.").With("Reason", "INVALID_NEXT_TOKEN")
		}
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > after })
	}
	n := def
	if max != nil && *max > 0 {
		n = int(*max)
	}
	end := min(start+n, len(items))
	out := items[start:end]
	if end < len(items) {
		return out, ptr(encodeToken(key(items[end-1]))), nil
	}
	return out, nil, nil
}

func encodeToken(after string) string {
	return "v1." + hexEncode(after)
}

func decodeToken(tok string) (string, bool) {
	rest, ok := strings.CutPrefix(tok, "v1.")
	if !ok {
		return "", false
	}
	return hexDecode(rest)
}

func hexEncode(s string) string { return hex.EncodeToString([]byte(s)) }

func hexDecode(s string) (string, bool) {
	b, err := hex.DecodeString(s)
	return string(b), err == nil
}

// --- tags ---

func tagMap(tags []orgapi.Tag) (map[string]string, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, t := range tags {
		k := str(t.Key)
		if _, dup := m[k]; dup {
			return nil, orgapi.NewInvalidInputException("Duplicate tag key %s. Tag keys must be unique among the tags attached to the same entity.", k).With("Reason", "DUPLICATE_TAG_KEY")
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, orgapi.NewInvalidInputException("Tag keys can't start with the aws: prefix, which is reserved for AWS use.").With("Reason", "INVALID_SYSTEM_TAGS_PARAMETER")
		}
		m[k] = str(t.Value)
	}
	if len(m) > maxTags {
		return nil, tooManyTags()
	}
	return m, nil
}

func tooManyTags() error {
	return orgapi.NewConstraintViolationException("You have exceeded the number of tags allowed on this resource.").With("Reason", "MAX_TAG_LIMIT_EXCEEDED")
}

// checkTagAccess asks for organizations:TagResource when a create call
// carries tags, as AWS does ("If the request includes tags, then the
// requester must have the organizations:TagResource permission").
func checkTagAccess(ctx context.Context, c *service.Call, tags []orgapi.Tag) error {
	if len(tags) == 0 || c.Authz == nil {
		return nil
	}
	req := c.Request("organizations:TagResource")
	req.Keys = map[string][]string{}
	for _, t := range tags {
		req.Keys["aws:TagKeys"] = append(req.Keys["aws:TagKeys"], str(t.Key))
		req.Keys["aws:RequestTag/"+str(t.Key)] = []string{str(t.Value)}
	}
	return c.Authz.Authorize(ctx, req)
}

func apiTags(m map[string]string) []orgapi.Tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]orgapi.Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, orgapi.Tag{Key: ptr(k), Value: ptr(m[k])})
	}
	return out
}
