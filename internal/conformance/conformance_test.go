package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rampart/rampart/internal/api"
	"github.com/rampart/rampart/internal/app"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/rampartest"
)

// kind is what a variant checks.
type kind int

const (
	valid   kind = iota // minimal or full input, over raw HTTP: 2xx
	viaSDK              // minimal input through the SDK client over the network
	invalid             // a constraint broken: 4xx, AWS's words, nothing changed
)

// variant is one generated request of an operation.
type variant struct {
	name  string // "minimal", "full", "sdk", "missing:UserName", "too-long:UserName"…
	kind  kind
	full  bool
	input obj
	// invalid variants: the validation clause AWS words for it ("" when
	// only the code can be checked, as for a wrong type).
	clause string
	// invalid variants: the error code the protocol answers, when only
	// one will do (SerializationException for a value the json protocols
	// cannot read as its type); "" for any declared or common code.
	code string
}

// variants generates the requests of op: the minimal and full valid
// inputs, the minimal input through the SDK, and the invalid inputs: one
// per required member (missing); on the input's own members, one per
// member and constraint it can break (too long, too short, not an enum
// value, above its maximum, below its minimum, not matching the pattern, a
// list with too many elements, a blob too long); one of the wrong type;
// then the same inside the input's structures, lists and maps, and broken
// timestamps and blobs (siteVariants).
func variants(h *harness, op *awsproto.Operation) []variant {
	vs := []variant{{name: "minimal", kind: valid}, {name: "full", kind: valid, full: true}, {name: "sdk", kind: viaSDK}}
	if op.Input == nil {
		return vs
	}
	base := func() obj {
		g := &Gen{Salt: h.salt(), Known: known(op.Service.Name, op.Name, h.runAcct.ID, h.salt)}
		return g.Input(op.Input, false)
	}
	for _, m := range op.Input.Members {
		if m.Required {
			in := base()
			delete(in, m.Name)
			vs = append(vs, variant{name: "missing:" + m.Name, kind: invalid, input: in,
				clause: "Value null at '" + lowerFirst(m.Name) + "' failed to satisfy constraint: Member must not be null"})
		}
	}
	add := func(name string, m *awsproto.Member, value any, constraint string) {
		in := base()
		in[m.Name] = value
		clause := ""
		if constraint != "" {
			quoted := "'" + text(value) + "' "
			if m.Shape.Sensitive {
				quoted = ""
			}
			clause = "Value " + quoted + "at '" + lowerFirst(m.Name) + "' failed to satisfy constraint: " + constraint
		}
		vs = append(vs, variant{name: name + ":" + m.Name, kind: invalid, input: in, clause: clause})
	}
	for _, m := range op.Input.Members {
		s := m.Shape
		if m.Location != "" && m.Location != "querystring" {
			continue
		}
		str := s.Kind == awsproto.KindString && len(s.Enum) == 0
		if str && s.Max != nil && *s.Max < 200000 {
			g := &Gen{Salt: h.salt()}
			add("too-long", m, g.TooLong(s), "Member must have length less than or equal to "+itoa(int(*s.Max)))
		}
		if str && s.Min != nil && *s.Min >= 1 {
			// The empty string: present, but shorter than the minimum
			// ("Value '' at 'keyId' failed to satisfy constraint: Member
			// must have length greater than or equal to 1").
			add("too-short", m, "", "Member must have length greater than or equal to "+itoa(int(*s.Min)))
		}
		if s.Kind == awsproto.KindString && len(s.Enum) > 0 {
			add("not-enum", m, "CONFORMANCE_NOT_A_VALUE", "Member must satisfy enum value set: ["+strings.Join(s.Enum, ", ")+"]")
		}
		if s.Kind == awsproto.KindInteger || s.Kind == awsproto.KindLong {
			if s.Max != nil && *s.Max < 1<<53 {
				add("above-max", m, int64(*s.Max)+1, "Member must have value less than or equal to "+itoa(int(*s.Max)))
			}
			if s.Min != nil && *s.Min > -(1<<53) {
				add("below-min", m, int64(*s.Min)-1, "Member must have value greater than or equal to "+itoa(int(*s.Min)))
			}
		}
		if str && s.Pattern != "" {
			if bad, ok := NotMatching(s); ok {
				add("pattern", m, bad, "Member must satisfy regular expression pattern: "+s.Pattern)
			}
		}
		if m.Location != "" {
			continue
		}
		if s.Kind == awsproto.KindBlob && s.Max != nil && *s.Max < 200000 {
			// The message quotes a blob as Java renders a ByteBuffer (or
			// not at all, if it is sensitive): only the rest is checked.
			in := base()
			in[m.Name] = make([]byte, int(*s.Max)+1)
			vs = append(vs, variant{name: "too-long:" + m.Name, kind: invalid, input: in,
				clause: "at '" + lowerFirst(m.Name) + "' failed to satisfy constraint: Member must have length less than or equal to " + itoa(int(*s.Max))})
		}
		if s.Kind == awsproto.KindList && s.Max != nil && *s.Max <= 100 {
			// A list with one element more than its maximum. The message
			// quotes a list of structures as Java renders it: only the
			// rest is checked.
			g := &Gen{Salt: h.salt(), Known: known(op.Service.Name, op.Name, h.runAcct.ID, h.salt)}
			in := g.Input(op.Input, false)
			var l []any
			for len(l) <= int(*s.Max) {
				v, ok := g.Member(s.Member, true, 1)
				if !ok {
					break
				}
				l = append(l, v)
			}
			if len(l) > int(*s.Max) {
				in[m.Name] = l
				vs = append(vs, variant{name: "too-many:" + m.Name, kind: invalid, input: in,
					clause: "at '" + lowerFirst(m.Name) + "' failed to satisfy constraint: Member must have length less than or equal to " + itoa(int(*s.Max))})
			}
		}
	}
	// A value of the wrong type: in the json protocols any member can
	// carry one; in query only non-string scalars can.
	for _, m := range op.Input.Members {
		if m.Location != "" {
			continue
		}
		raw := wrongType(op.Service.Protocol, m.Shape.Kind)
		if raw == "" {
			continue
		}
		in := base()
		in[m.Name] = raw
		code := ""
		if op.Service.Protocol != "query" {
			code = awsproto.CodeSerialization
		}
		vs = append(vs, variant{name: "wrong-type:" + m.Name, kind: invalid, input: in, code: code})
		break
	}
	return append(vs, siteVariants(h, op)...)
}

// wrongType is a value of the wrong type for a member of kind k: in the
// json protocols any member can carry one; in query, where every value is
// text, only numbers and booleans can.
func wrongType(protocol string, k awsproto.Kind) Raw {
	if protocol == "query" {
		switch k {
		case awsproto.KindInteger, awsproto.KindLong, awsproto.KindFloat, awsproto.KindDouble:
			return "twelve"
		case awsproto.KindBoolean:
			return "maybe"
		}
		return ""
	}
	switch k {
	case awsproto.KindInteger, awsproto.KindLong, awsproto.KindFloat, awsproto.KindDouble:
		return `"twelve"`
	case awsproto.KindBoolean:
		return `"maybe"`
	case awsproto.KindString, awsproto.KindBlob:
		return `12`
	case awsproto.KindStructure, awsproto.KindList, awsproto.KindMap:
		return `"x"`
	case awsproto.KindTimestamp:
		return `true`
	}
	return ""
}

// result is the outcome of one variant.
type result struct {
	op      *awsproto.Operation
	variant string
	ok      bool
	status  int
	code    string
	why     string
	noSDK   bool   // the SDK could not be given this input (a union): not judged by it
	message string // invalid variants: the error message, for CONFORMANCE_VERBOSE
}

// run sends one variant and checks the answer.
func (h *harness) run(op *awsproto.Operation, v variant) result {
	r := result{op: op, variant: v.name}
	fail := func(format string, args ...any) result {
		r.why = fmt.Sprintf(format, args...)
		return r
	}
	key := op.Service.Name + "." + op.Name
	if v.kind == invalid {
		h.writes.arm()
		x, err := h.send(h.runAcct, op, v.input)
		changed := h.writes.disarm()
		if err != nil {
			return fail("send: %v", err)
		}
		r.status, r.code, r.message = x.status, x.resp.Code, x.resp.Message
		switch {
		case x.status >= 500:
			return fail("%d %s: %s", x.status, x.resp.Code, x.resp.Message)
		case x.status < 400:
			return fail("accepted (%d)", x.status)
		case len(x.resp.Problems) > 0:
			return fail("error body: %s", strings.Join(x.resp.Problems, "; "))
		case !declared(op, x.resp.Code):
			return fail("error code %s is neither declared by the model nor common (%s)", x.resp.Code, x.resp.Message)
		case v.code != "" && x.resp.Code != v.code:
			return fail("code %s, want %s (%s)", x.resp.Code, v.code, x.resp.Message)
		}
		if len(changed) > 0 {
			return fail("state changed after a refused request: %s", strings.Join(changed, ", "))
		}
		if v.clause != "" && (x.resp.Code == "ValidationError" || x.resp.Code == "ValidationException") {
			if x.resp.Code != validationCode(op) {
				return fail("code %s, want %s", x.resp.Code, validationCode(op))
			}
			if want := validationMessage(v.clause); x.resp.Message != want && !strings.Contains(x.resp.Message, v.clause) {
				return fail("message %q, want %q", x.resp.Message, want)
			}
		} else if v.clause != "" && !strings.Contains(x.resp.Message, v.clause) {
			// A declared code other than the validation one (Organizations
			// answers InvalidInputException) must still word the violation
			// as AWS does.
			return fail("code %s for a constraint violation, want %s or the validation wording (%s)", x.resp.Code, validationCode(op), x.resp.Message)
		}
		r.ok = true
		return r
	}

	// Valid variants run as the root user of an account of their own (or
	// as the caller a fixture made, where the operation needs another).
	c := &vctx{h: h, acct: h.freshAccount(), op: op.Name, stash: map[string]any{}, resolved: map[string]bool{}}
	defer func() {
		for _, f := range c.cleanup {
			f()
		}
	}()
	g := &Gen{Salt: h.salt(), Known: known(op.Service.Name, op.Name, c.acct.ID, h.salt), Skip: skipInFull(op.Service.Name, op.Name)}
	c.in = g.Input(op.Input, v.full)
	if setup := setups[op.Service.Name]; setup != nil {
		if err := setup(c); err != nil {
			return fail("setup: %v", err)
		}
	}
	if setup := opSetups[key]; setup != nil {
		if err := setup(c); err != nil {
			return fail("setup: %v", err)
		}
	}
	if err := h.resolve(c, op); err != nil {
		return fail("fixture: %v", err)
	}
	// want is the code AWS answers instead of a success, for the
	// operations that cannot succeed here (rejections); "" for a success.
	want := ""
	if rj, ok := rejections[key]; ok {
		want = rj.minimal
		if v.full && rj.full != "" {
			want = rj.full
		}
	}
	if v.kind == viaSDK {
		err := sdkCall(context.Background(), h.sdkConfig(c.who()), op, c.in)
		if errors.Is(err, errNoSDK) {
			return fail("%v", err)
		}
		code, status := sdkOutcome(err)
		r.status, r.code = status, code
		switch {
		case status >= 500:
			return fail("%d: %v", status, err)
		case code != want && want == "":
			return fail("%v", err)
		case code != want:
			return fail("the rejections table expects %s, got %q (%v)", want, code, err)
		}
		r.ok = true
		return r
	}
	x, err := h.send(c.who(), op, c.in)
	if err != nil {
		return fail("send: %v", err)
	}
	r.status, r.code, r.message = x.status, x.resp.Code, x.resp.Message
	if x.status >= 500 {
		return fail("%d %s: %s", x.status, x.resp.Code, x.resp.Message)
	}
	x.resp.Problems = slices.DeleteFunc(x.resp.Problems, func(p string) bool { return slices.Contains(awsDeviations[key], p) })
	if len(x.resp.Problems) > 0 {
		return fail("response does not fit the model: %s", strings.Join(x.resp.Problems, "; "))
	}
	if err := sdkJudge(context.Background(), h.sdkConfig(c.who()), op, c.in, x.status, x.header, x.body, x.resp.Code); errors.Is(err, errNoSDK) {
		r.noSDK = true
	} else if err != nil {
		return fail("SDK: %v", err)
	}
	switch {
	case x.status < 300 && want != "":
		return fail("succeeded, but the rejections table expects %s", want)
	case x.status < 300:
	case !declared(op, x.resp.Code):
		return fail("error code %s is neither declared by the model nor common: %s", x.resp.Code, x.resp.Message)
	case x.resp.Code != want:
		// The minimal and the full input, with their fixtures, must
		// succeed unless the rejections table says why they cannot.
		return fail("%d %s: %s", x.status, x.resp.Code, x.resp.Message)
	}
	r.ok = true
	return r
}

// resolve fills the input members that name existing state with fixtures,
// in model order, each after the members it needs; a fixture that adds its
// member fills it in the minimal input too.
func (h *harness) resolve(c *vctx, op *awsproto.Operation) error {
	if op.Input == nil {
		return nil
	}
	done := map[string]bool{}
	var fill func(member string) error
	fill = func(member string) error {
		if done[member] {
			return nil
		}
		done[member] = true
		_, present := c.in[member]
		for i := range fixtures {
			f := &fixtures[i]
			if f.member != member || !f.applies(op.Service.Name, op.Name) || !present && !f.add {
				continue
			}
			for _, n := range f.needs {
				if err := fill(n); err != nil {
					return err
				}
			}
			v, err := f.make(c)
			if err != nil {
				return fmt.Errorf("%s: %w", member, err)
			}
			c.in[member] = v
			c.resolved[member] = true
			return nil
		}
		return nil
	}
	for _, m := range op.Input.Members {
		if err := fill(m.Name); err != nil {
			return err
		}
	}
	return nil
}

// TestConformance sends generated requests for every served operation and
// checks the answers against the models and the AWS SDK for Go v2. It
// prints the number of variants and passes per service and the time the
// run took; it fails below 100% (known failures, listed in knownFailures,
// are reported, not failed), and, on a whole run, when README.md's
// conformance table says other figures.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("conformance: skipped in -short mode")
	}
	var h *harness
	rotationFunction(t, &h)
	srv := rampartest.Start(t)
	h = newHarness(t, srv, api.Services())
	// The change recorder must see a write, or no refused request could
	// be caught changing state.
	h.writes.arm()
	_, err := h.call(h.runAcct, "iam", "CreateUser", obj{"UserName": "cf-recorder-check"})
	if seen := h.writes.disarm(); err != nil || len(seen) == 0 {
		t.Fatalf("the change recorder saw %v after a CreateUser (%v)", seen, err)
	}
	reg := app.Registry(app.Deps{})
	var ops []*awsproto.Operation
	served := map[*awsproto.Operation]bool{}
	for _, hd := range reg.Handlers() {
		ops = append(ops, hd.Operation)
		served[hd.Operation] = true
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Service.Name != ops[j].Service.Name {
			return ops[i].Service.Name < ops[j].Service.Name
		}
		return ops[i].Name < ops[j].Name
	})
	if only := os.Getenv("CONFORMANCE_ONLY"); only != "" {
		ops = slices.DeleteFunc(ops, func(op *awsproto.Operation) bool {
			return !strings.Contains(op.Service.Name+"."+op.Name, only)
		})
	}
	type tally struct{ total, pass, known, ok2xx, valid, noSDK int }
	per := map[string]*tally{}
	var failures, knownSeen, rejected []string
	start := time.Now()
	verbose := os.Getenv("CONFORMANCE_VERBOSE") != ""
	for _, op := range ops {
		key := op.Service.Name + "." + op.Name
		tl := per[op.Service.Name]
		if tl == nil {
			tl = &tally{}
			per[op.Service.Name] = tl
		}
		for _, v := range variants(h, op) {
			r := h.run(op, v)
			if verbose {
				t.Logf("%s.%s/%s: ok=%v %d %s %s%s", op.Service.Name, op.Name, v.name, r.ok, r.status, r.code, r.why, r.message)
			}
			tl.total++
			if r.noSDK {
				tl.noSDK++
			}
			if v.kind == valid {
				tl.valid++
				if r.ok && r.status < 300 {
					tl.ok2xx++
				}
				if r.ok && r.status >= 300 {
					rejected = append(rejected, fmt.Sprintf("%s/%s: %d %s", key, v.name, r.status, r.code))
				}
			}
			id := key + "/" + v.name
			if reason, isKnown := knownFailures[id]; isKnown {
				if r.ok {
					failures = append(failures, id+": passes now; remove it from knownFailures")
					continue
				}
				tl.known++
				knownSeen = append(knownSeen, fmt.Sprintf("%s: %s (known: %s)", id, r.why, reason))
				continue
			}
			if r.ok {
				tl.pass++
				continue
			}
			failures = append(failures, id+": "+r.why)
		}
	}
	var names []string
	for n := range per {
		names = append(names, n)
	}
	sort.Strings(names)
	var summary strings.Builder
	for _, n := range names {
		tl := per[n]
		fmt.Fprintf(&summary, "%s: %d/%d", n, tl.pass, tl.total-tl.known)
		if tl.known > 0 {
			fmt.Fprintf(&summary, " (+%d known failures)", tl.known)
		}
		fmt.Fprintf(&summary, "; valid inputs answered 2xx: %d/%d", tl.ok2xx, tl.valid)
		if tl.noSDK > 0 {
			fmt.Fprintf(&summary, "; not judged by the SDK (unions): %d", tl.noSDK)
		}
		summary.WriteString("\n")
	}
	t.Logf("conformance, variants passed per service (%v):\n%s", time.Since(start).Round(time.Millisecond), summary.String())
	if len(rejected) > 0 {
		t.Logf("valid inputs answered with the error the rejections table expects (%d):\n  %s", len(rejected), strings.Join(rejected, "\n  "))
	}
	if len(knownSeen) > 0 {
		t.Logf("known failures (%d):\n  %s", len(knownSeen), strings.Join(knownSeen, "\n  "))
	}
	if len(failures) > 0 {
		t.Errorf("%d variants failed:\n  %s", len(failures), strings.Join(failures, "\n  "))
	}
	if os.Getenv("CONFORMANCE_ONLY") == "" {
		counts := map[string][2]int{}
		for n, tl := range per {
			counts[n] = [2]int{tl.pass, tl.total - tl.known}
		}
		t.Run("README", func(t *testing.T) { checkReadme(t, counts) })
	}
}

// TestNotImplemented sends a request for every operation of the known
// models that rampart does not serve (the json, query and rest-json ones)
// and checks the NotImplemented answer; they are listed, not counted.
func TestNotImplemented(t *testing.T) {
	if testing.Short() {
		t.Skip("conformance: skipped in -short mode")
	}
	srv := rampartest.Start(t)
	h := newHarness(t, srv, api.Services())
	reg := app.Registry(app.Deps{})
	served := map[*awsproto.Operation]bool{}
	for _, hd := range reg.Handlers() {
		served[hd.Operation] = true
	}
	per := map[string]int{}
	var bad []string
	n := 0
	for _, svc := range api.Services() {
		switch svc.Protocol {
		case "json", "query", "rest-json":
		default:
			continue
		}
		for _, op := range svc.Operations {
			if served[op] {
				continue
			}
			// Unsigned where the operation needs no authentication, as
			// clients send it: an unsigned rest-json call (SSO's) carries
			// no credential scope and is placed by its path.
			x, err := h.sendSigned(h.runAcct, op, obj{}, !op.NoAuth)
			if err != nil {
				t.Fatalf("%s.%s: %v", svc.Name, op.Name, err)
			}
			n++
			per[svc.Name]++
			if x.status != 501 || x.resp.Code != awsproto.CodeNotImplemented {
				bad = append(bad, fmt.Sprintf("%s.%s: %d %s %s", svc.Name, op.Name, x.status, x.resp.Code, x.resp.Message))
			}
		}
	}
	var servedSvcs []string
	for _, s := range api.Services() {
		for _, op := range s.Operations {
			if served[op] {
				servedSvcs = append(servedSvcs, s.Name)
				break
			}
		}
	}
	var lines []string
	for _, s := range servedSvcs {
		var names []string
		for _, op := range h.svcs[s].Operations {
			if !served[op] {
				names = append(names, op.Name)
			}
		}
		lines = append(lines, fmt.Sprintf("%s (%d not served): %s", s, len(names), strings.Join(names, ", ")))
	}
	t.Logf("not served (answer NotImplemented), %d operations in %d models; in the served services:\n  %s", n, len(per), strings.Join(lines, "\n  "))
	if len(bad) > 0 {
		t.Errorf("%d unserved operations did not answer 501 NotImplemented:\n  %s", len(bad), strings.Join(bad, "\n  "))
	}
}
