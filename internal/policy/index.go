package policy

import (
	"cmp"
	"slices"
	"strings"
)

// The action index. Parse files every statement under the keys its Action
// element can match, so that evaluation visits only the statements whose
// Action can match the request's action, at a cost that does not grow
// with the statements that cannot:
//
//   - a literal action ("s3:GetObject") under its service prefix and its
//     name;
//   - a pattern ("s3:Get*", "s3:List?ucket", "s3:*") under its service
//     prefix and the literal prefix of its name, before the first wildcard
//     ("get", "list", "");
//   - statements with NotAction, the action "*" or a wildcard in a service
//     prefix ("s*:Get*") on the always-visited list, Policy.wild.
//
// Keys are the lower-cased patterns, so ASCII case folding of the request's
// action finds every statement [arn.MatchFold] can match. A statement is
// filed only under keys that no other key of its own covers (a name or a
// longer prefix under one of its prefixes), so no action reaches it twice.

// svcIndex is the action index of one service prefix: statements by literal
// action name, and by the literal prefix of their action patterns. Both key
// lists are sorted; each statement list is in document order.
type svcIndex struct {
	names    []string
	named    [][]stmtRef
	prefixes []string
	prefixed [][]stmtRef
}

// stmtRef is a statement filed under a key. sure: every action that reaches
// it through this key matches its Action element (the key is a literal name,
// or the prefix of a pattern that is that prefix and a trailing "*"), so
// evaluation need not match the action again.
type stmtRef struct {
	stmt int32
	sure bool
}

// actionKey is one key of one statement while the index is built.
type actionKey struct {
	svc, name    string
	prefix, sure bool
	stmt         int32
}

// compareKeys orders the keys of one statement.
func compareKeys(a, b actionKey) int {
	if c := strings.Compare(a.svc, b.svc); c != 0 {
		return c
	}
	if c := strings.Compare(a.name, b.name); c != 0 {
		return c
	}
	// A prefix before the literal name it covers.
	switch {
	case a.prefix == b.prefix:
		return 0
	case a.prefix:
		return -1
	}
	return 1
}

// index builds p.byService and p.wild.
func (p *Policy) index() {
	n, most := 0, 0
	for i := range p.stmts {
		n += len(p.stmts[i].actions)
		most = max(most, len(p.stmts[i].actions))
	}
	all, keys := make([]actionKey, 0, n), make([]actionKey, 0, most)
	for i := range p.stmts {
		s := &p.stmts[i]
		wild := s.notAction
		for _, a := range s.actions {
			j := strings.IndexByte(a, ':')
			if j < 0 || strings.ContainsAny(a[:j], "*?") {
				wild = true
				break
			}
		}
		if wild {
			p.wild = append(p.wild, int32(i))
			continue
		}
		keys = keys[:0]
		for _, a := range s.actions {
			j := strings.IndexByte(a, ':')
			k := actionKey{svc: a[:j], name: a[j+1:], sure: true, stmt: int32(i)}
			if w := strings.IndexAny(k.name, "*?"); w >= 0 {
				k.sure = w == len(k.name)-1 && k.name[w] == '*'
				k.name, k.prefix = k.name[:w], true
			}
			keys = append(keys, k)
		}
		// In sorted order a key's covering prefixes come before it, and
		// every key between a prefix and one it covers starts with that
		// prefix: one pass with the last prefix kept drops covered keys.
		slices.SortFunc(keys, compareKeys)
		cover := -1 // in all
		for _, k := range keys {
			if c := cover; c >= 0 && all[c].svc == k.svc && strings.HasPrefix(k.name, all[c].name) {
				if k.prefix && k.name == all[c].name {
					all[c].sure = all[c].sure || k.sure // the same prefix from another pattern
				}
				continue
			}
			if n := len(all); n > 0 && all[n-1].stmt == k.stmt && all[n-1].svc == k.svc && all[n-1].name == k.name && !all[n-1].prefix && !k.prefix {
				continue // the same literal name twice
			}
			all = append(all, k)
			if k.prefix {
				cover = len(all) - 1
			}
		}
	}
	if len(all) == 0 {
		return
	}
	slices.SortFunc(all, func(a, b actionKey) int {
		if c := strings.Compare(a.svc, b.svc); c != 0 {
			return c
		}
		if a.prefix != b.prefix {
			if a.prefix {
				return 1
			}
			return -1
		}
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return cmp.Compare(a.stmt, b.stmt)
	})
	// Group the sorted keys: services, then within each its literal names
	// and then its prefixes. Everything is allocated once, at its size.
	services, groups := 0, 0
	for i := range all {
		if i == 0 || all[i].svc != all[i-1].svc {
			services++
		}
		if i == 0 || all[i].svc != all[i-1].svc || all[i].prefix != all[i-1].prefix || all[i].name != all[i-1].name {
			groups++
		}
	}
	p.byService = make(map[string]*svcIndex, services)
	ixs := make([]svcIndex, services)
	refs := make([]stmtRef, len(all))
	keyNames := make([]string, 0, groups)
	lists := make([][]stmtRef, 0, groups)
	for i := 0; i < len(all); {
		ix := &ixs[0]
		ixs = ixs[1:]
		p.byService[all[i].svc] = ix
		first, names := len(keyNames), -1
		for svc := all[i].svc; i < len(all) && all[i].svc == svc; {
			k := all[i]
			j := i
			for j < len(all) && all[j].svc == svc && all[j].prefix == k.prefix && all[j].name == k.name {
				refs[j] = stmtRef{stmt: all[j].stmt, sure: all[j].sure}
				j++
			}
			if k.prefix && names < 0 {
				names = len(keyNames)
			}
			keyNames, lists = append(keyNames, k.name), append(lists, refs[i:j:j])
			i = j
		}
		if names < 0 {
			names = len(keyNames)
		}
		last := len(keyNames)
		ix.names, ix.named = keyNames[first:names:names], lists[first:names:names]
		ix.prefixes, ix.prefixed = keyNames[names:last:last], lists[names:last:last]
	}
}

// scanIndex visits the statements of one service's index that can match
// the action; it returns true when a deny was found.
func (ev *evaluator) scanIndex(p *Policy, ix *svcIndex, principals bool, r *scanResult) bool {
	name := ev.act[ev.colon+1:]
	// Literal names: binary search.
	lo, hi := 0, len(ix.names)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ix.names[m] < string(name) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(ix.names) && ix.names[lo] == string(name) {
		for _, ref := range ix.named[lo] {
			if ev.visit(p, ref, principals, r) {
				return true
			}
		}
	}
	// Pattern prefixes, longest first. A prefix p of name sorts at or
	// before name, and every string between p and name starts with p; so
	// the greatest key e <= name is either a prefix of name or shares with
	// name all the prefixes left to find, which are then no longer than
	// their common prefix. Each step is one binary search and shortens the
	// target, so the cost does not grow with keys that cannot match.
	target, hi := len(name), len(ix.prefixes)
	for hi > 0 {
		// k: the greatest key in prefixes[:hi] that is <= name[:target].
		lo, h := 0, hi
		for lo < h {
			m := int(uint(lo+h) >> 1)
			if ix.prefixes[m] <= string(name[:target]) {
				lo = m + 1
			} else {
				h = m
			}
		}
		k := lo - 1
		if k < 0 {
			break
		}
		e := ix.prefixes[k]
		l := 0
		for l < len(e) && l < target && e[l] == name[l] {
			l++
		}
		if l == len(e) {
			for _, ref := range ix.prefixed[k] {
				if ev.visit(p, ref, principals, r) {
					return true
				}
			}
			if l == 0 {
				break
			}
			l--
		}
		target, hi = l, k
	}
	return false
}
