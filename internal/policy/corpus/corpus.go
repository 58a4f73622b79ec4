// Package corpus runs IAM evaluation cases in the JSON Lines format of
// iam-eval-cases.md through [policy.Evaluate]. `rampart policy eval` is a
// thin wrapper around [Run].
package corpus

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/rampart/rampart/internal/policy"
)

// Case is one test case.
type Case struct {
	ID      string `json:"id"`
	Request struct {
		Principal       string                     `json:"principal"`
		Action          string                     `json:"action"`
		Resource        string                     `json:"resource"`
		ResourceAccount string                     `json:"resourceAccount"`
		Context         map[string]json.RawMessage `json:"context"`
	} `json:"request"`
	IdentityPolicies    []json.RawMessage   `json:"identityPolicies"`
	PermissionsBoundary json.RawMessage     `json:"permissionsBoundary"`
	SessionPolicy       json.RawMessage     `json:"sessionPolicy"`
	ResourcePolicy      json.RawMessage     `json:"resourcePolicy"`
	SCPs                [][]json.RawMessage `json:"scps"`
	RCPs                [][]json.RawMessage `json:"rcps"`
	Expect              string              `json:"expect"`
}

// Output is one line of output.
type Output struct {
	ID       string   `json:"id"`
	Decision string   `json:"decision"`
	Reasons  []string `json:"reasons,omitempty"`
}

// Run reads cases from in and writes one line per case to out, in order:
// {"id":"…","decision":"Allow|ExplicitDeny|ImplicitDeny"}, with explain also
// "reasons". A case that cannot be read or whose policies do not parse stops
// the run with an error naming the case.
func Run(in io.Reader, out io.Writer, explain bool) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	w := bufio.NewWriter(out)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var c Case
		if err := json.Unmarshal(b, &c); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		d, req, err := Evaluate(&c)
		if err != nil {
			return fmt.Errorf("line %d: case %s: %w", line, c.ID, err)
		}
		o := Output{ID: c.ID, Decision: d.Result.String()}
		if explain {
			o.Reasons = d.Reasons(req.Action)
			if m := d.Message(req); m != "" {
				o.Reasons = append(o.Reasons, m)
			}
		}
		enc, err := json.Marshal(o)
		if err != nil {
			return err
		}
		w.Write(enc)
		w.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return w.Flush()
}

func isNull(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}

// Evaluate builds the request and input of c and evaluates them.
func Evaluate(c *Case) (policy.Decision, *policy.Request, error) {
	req, in, err := Build(c)
	if err != nil {
		return policy.Decision{}, nil, err
	}
	return policy.Evaluate(req, in), req, nil
}

// ResourceKind is the kind of the resource policy of a request on res: a
// KMS key policy, a role trust policy, or an ordinary resource policy.
func ResourceKind(res string) policy.Kind {
	switch {
	case strings.HasPrefix(res, "arn:") && strings.Contains(res, ":kms:") && strings.Contains(res, ":key/"):
		return policy.KindKeyPolicy
	case strings.HasPrefix(res, "arn:") && strings.Contains(res, ":iam::") && strings.Contains(res, ":role/"):
		return policy.KindTrust
	}
	return policy.KindResource
}

// Build converts c into a request and the policies that apply.
func Build(c *Case) (*policy.Request, *policy.Input, error) {
	r := &c.Request
	var pr policy.Principal
	var err error
	if !strings.HasPrefix(r.Principal, "arn:") && strings.Contains(r.Principal, ".") {
		// A web identity named by its provider ("accounts.google.com",
		// "cognito-identity.amazonaws.com", …): rampart's extension of the
		// case format, for trust policies of sts:AssumeRoleWithWebIdentity.
		// OIDC and SAML provider ARNs are read by PrincipalFromARN.
		pr = policy.Principal{Type: policy.PrincipalWebIdentity, Provider: r.Principal}
	} else if pr, err = policy.PrincipalFromARN(r.Principal); err != nil {
		return nil, nil, err
	}
	ctx := policy.NewContext(len(r.Context))
	for k, raw := range r.Context {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, nil, fmt.Errorf("context %s: %w", k, err)
		}
		switch v := v.(type) {
		case []any:
			vals := make([]string, len(v))
			for i, e := range v {
				vals[i] = fmt.Sprint(e)
			}
			ctx.SetMulti(k, vals...)
		case string:
			ctx.Set(k, v)
		default:
			ctx.Set(k, fmt.Sprint(v))
		}
	}
	if pr.Type == policy.PrincipalAssumedRole {
		if v, multi, ok := ctx.Get("aws:PrincipalArn"); ok && !multi {
			pr.RoleARN = v[0]
		}
	}
	req := &policy.Request{Principal: pr, Action: r.Action, Resource: r.Resource,
		ResourceAccount: r.ResourceAccount, Context: ctx}
	in := &policy.Input{}
	parse := func(what string, doc json.RawMessage, k policy.Kind) (*policy.Policy, error) {
		p, err := policy.Parse(doc, k)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return p, nil
	}
	for i, d := range c.IdentityPolicies {
		p, err := parse(fmt.Sprintf("identityPolicies[%d]", i), d, policy.KindManaged)
		if err != nil {
			return nil, nil, err
		}
		in.Identity = append(in.Identity, p)
	}
	if !isNull(c.PermissionsBoundary) {
		if in.Boundary, err = parse("permissionsBoundary", c.PermissionsBoundary, policy.KindBoundary); err != nil {
			return nil, nil, err
		}
	}
	if !isNull(c.SessionPolicy) {
		p, err := parse("sessionPolicy", c.SessionPolicy, policy.KindSession)
		if err != nil {
			return nil, nil, err
		}
		in.Session = []*policy.Policy{p}
	}
	if !isNull(c.ResourcePolicy) {
		if in.Resource, err = parse("resourcePolicy", c.ResourcePolicy, ResourceKind(r.Resource)); err != nil {
			return nil, nil, err
		}
	}
	levels := func(what string, src [][]json.RawMessage, k policy.Kind) ([][]*policy.Policy, error) {
		out := make([][]*policy.Policy, len(src))
		for l, docs := range src {
			for i, d := range docs {
				p, err := parse(fmt.Sprintf("%s[%d][%d]", what, l, i), d, k)
				if err != nil {
					return nil, err
				}
				out[l] = append(out[l], p)
			}
		}
		return out, nil
	}
	if in.SCPs, err = levels("scps", c.SCPs, policy.KindSCP); err != nil {
		return nil, nil, err
	}
	if in.RCPs, err = levels("rcps", c.RCPs, policy.KindRCP); err != nil {
		return nil, nil, err
	}
	return req, in, nil
}
