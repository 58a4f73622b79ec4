package policy

import (
	"strings"

	"github.com/rampart/rampart/internal/arn"
)

// ConditionKeys returns the condition keys of s's Condition element, as
// written, each once (without regard to case), in document order.
func (s *Statement) ConditionKeys() []string {
	var out []string
	for i := range s.conds {
		out = appendKey(out, s.conds[i].rawKey)
	}
	return out
}

// VariableKeys returns the keys of the policy variables s uses in its
// Resource element and condition values (lower case), each once.
func (s *Statement) VariableKeys() []string {
	var out []string
	add := func(t *tmpl) {
		for _, p := range t.parts {
			if p.key != "" {
				out = appendKey(out, p.key)
			}
		}
	}
	for i := range s.resources {
		add(&s.resources[i])
	}
	for i := range s.conds {
		for j := range s.conds[i].vals {
			add(&s.conds[i].vals[j].s)
		}
	}
	return out
}

// AppliesTo reports whether s's Action (or NotAction) element covers action
// ("iam:ListUsers"), without looking at resources or conditions.
func (s *Statement) AppliesTo(action string) bool {
	for _, a := range s.actions {
		if arn.MatchFold(a, action) {
			return !s.notAction
		}
	}
	return s.notAction
}

// ContextKeys returns every context key p refers to, in Condition elements
// and as policy variables, each once (without regard to case), in document
// order, as IAM's GetContextKeysForCustomPolicy lists them.
func (p *Policy) ContextKeys() []string {
	var out []string
	for i := range p.stmts {
		for _, k := range p.stmts[i].ConditionKeys() {
			out = appendKey(out, k)
		}
		for _, k := range p.stmts[i].VariableKeys() {
			out = appendKey(out, k)
		}
	}
	return out
}

func appendKey(keys []string, k string) []string {
	for _, have := range keys {
		if strings.EqualFold(have, k) {
			return keys
		}
	}
	return append(keys, k)
}
