package sts

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// XML signatures of SAML responses (XML-Signature Syntax and Processing,
// https://www.w3.org/TR/xmldsig-core1/), verified the one way SAML IdPs use
// them: an enveloped signature over an element referenced by its ID, with
// the transforms enveloped-signature and Exclusive XML Canonicalization
// without comments (https://www.w3.org/TR/xml-exc-c14n/), SHA-256 digests
// and RSA-SHA256. Anything else is refused.
//
// The document is parsed into a small tree with encoding/xml's RawToken, so
// that prefixes stay as written and namespaces are resolved here, as
// canonicalization needs. DOCTYPEs (entity expansion) and processing
// instructions are refused, and so are comments inside the root element:
// exclusive canonicalization drops comments, so a comment inside a text
// node ("admin<!---->@example.com") would leave the signature valid while
// a naive reader sees another value (comment injection).

const (
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	nsSAML      = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsSAMLP     = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsXML       = "http://www.w3.org/XML/1998/namespace"
	algExcC14N  = "http://www.w3.org/2001/10/xml-exc-c14n#"
	algEnvelope = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	algRSA256   = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	algSHA256   = "http://www.w3.org/2001/04/xmlenc#sha256"
)

var errBadXML = errors.New("malformed XML")

// xnode is an element.
type xnode struct {
	prefix, local string
	attrs         []xml.Attr        // without namespace declarations; Name.Space is the prefix
	decls         map[string]string // namespace declarations on this element: prefix ("" default) → URI
	parent        *xnode
	children      []any // *xnode or xtext
}

type xtext string

// parseXML reads a document into a tree, refusing what SAML does not need.
func parseXML(doc []byte) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	var root, cur *xnode
	depth := 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errBadXML
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > 64 {
				return nil, errBadXML
			}
			n := &xnode{prefix: t.Name.Space, local: t.Name.Local, parent: cur}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					n.decl("", a.Value)
				case a.Name.Space == "xmlns":
					n.decl(a.Name.Local, a.Value)
				default:
					n.attrs = append(n.attrs, a)
				}
			}
			if cur == nil {
				if root != nil {
					return nil, errBadXML
				}
				root = n
			} else {
				cur.children = append(cur.children, n)
			}
			cur = n
		case xml.EndElement:
			if cur == nil || t.Name.Space != cur.prefix || t.Name.Local != cur.local {
				return nil, errBadXML
			}
			depth--
			cur = cur.parent
		case xml.CharData:
			if cur != nil {
				cur.children = append(cur.children, xtext(t))
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, errBadXML
			}
		case xml.Comment:
			if cur != nil {
				return nil, fmt.Errorf("%w: comment inside the document", errBadXML)
			}
		case xml.ProcInst:
			if t.Target != "xml" || root != nil {
				return nil, errBadXML
			}
		case xml.Directive:
			return nil, fmt.Errorf("%w: DOCTYPE", errBadXML)
		}
	}
	if root == nil || cur != nil {
		return nil, errBadXML
	}
	// Every prefix must be declared.
	var check func(n *xnode) error
	check = func(n *xnode) error {
		if _, ok := n.lookup(n.prefix); !ok && n.prefix != "" {
			return errBadXML
		}
		for _, a := range n.attrs {
			if a.Name.Space != "" {
				if _, ok := n.lookup(a.Name.Space); !ok {
					return errBadXML
				}
			}
		}
		for _, c := range n.children {
			if e, ok := c.(*xnode); ok {
				if err := check(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := check(root); err != nil {
		return nil, err
	}
	return root, nil
}

func (n *xnode) decl(prefix, uri string) {
	if n.decls == nil {
		n.decls = map[string]string{}
	}
	n.decls[prefix] = uri
}

// lookup resolves a prefix in scope at n ("" is the default namespace,
// which is "" when undeclared).
func (n *xnode) lookup(prefix string) (string, bool) {
	if prefix == "xml" {
		return nsXML, true
	}
	for e := n; e != nil; e = e.parent {
		if uri, ok := e.decls[prefix]; ok {
			return uri, true
		}
	}
	return "", prefix == ""
}

func (n *xnode) ns() string { uri, _ := n.lookup(n.prefix); return uri }

func (n *xnode) is(ns, local string) bool { return n.local == local && n.ns() == ns }

// attr returns the value of an attribute without a prefix.
func (n *xnode) attr(local string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// child returns the children of n named ns:local.
func (n *xnode) child(ns, local string) []*xnode {
	var out []*xnode
	for _, c := range n.children {
		if e, ok := c.(*xnode); ok && e.is(ns, local) {
			out = append(out, e)
		}
	}
	return out
}

// first returns the only child named ns:local, or nil when there is not
// exactly one.
func (n *xnode) first(ns, local string) *xnode {
	if cs := n.child(ns, local); len(cs) == 1 {
		return cs[0]
	}
	return nil
}

// text is the concatenated character data of n's own text children.
func (n *xnode) text() string {
	var b strings.Builder
	for _, c := range n.children {
		if t, ok := c.(xtext); ok {
			b.WriteString(string(t))
		}
	}
	return b.String()
}

// walk calls fn on n and every element below it.
func (n *xnode) walk(fn func(*xnode)) {
	fn(n)
	for _, c := range n.children {
		if e, ok := c.(*xnode); ok {
			e.walk(fn)
		}
	}
}

// canonical renders n under Exclusive XML Canonicalization 1.0 without
// comments, leaving out the element skip (the enveloped signature), with
// the InclusiveNamespaces prefix list inclusive.
func canonical(n *xnode, skip *xnode, inclusive []string) []byte {
	var b bytes.Buffer
	c14n(&b, n, skip, map[string]string{}, inclusive)
	return b.Bytes()
}

func c14n(b *bytes.Buffer, n *xnode, skip *xnode, rendered map[string]string, inclusive []string) {
	// Namespaces visibly utilized: the element's prefix and its
	// attributes' prefixes; plus the inclusive prefixes in scope.
	used := map[string]bool{n.prefix: true}
	for _, a := range n.attrs {
		if a.Name.Space != "" && a.Name.Space != "xml" {
			used[a.Name.Space] = true
		}
	}
	for _, p := range inclusive {
		if p == "#default" {
			p = ""
		}
		if _, ok := n.lookup(p); ok && (p != "" || n.hasDefault()) {
			used[p] = true
		}
	}
	type decl struct{ prefix, uri string }
	var decls []decl
	next := rendered
	for p := range used {
		if p == "xml" {
			continue
		}
		uri, _ := n.lookup(p)
		prev, had := rendered[p]
		if p == "" && !had {
			prev, had = "", true // the default namespace starts out empty
		}
		if had && prev == uri {
			continue
		}
		decls = append(decls, decl{p, uri})
	}
	if len(decls) > 0 {
		next = make(map[string]string, len(rendered)+len(decls))
		for k, v := range rendered {
			next[k] = v
		}
		for _, d := range decls {
			next[d.prefix] = d.uri
		}
	}
	sort.Slice(decls, func(i, j int) bool { return decls[i].prefix < decls[j].prefix })

	type attr struct{ uri, local, qname, value string }
	attrs := make([]attr, 0, len(n.attrs))
	for _, a := range n.attrs {
		q := a.Name.Local
		uri := ""
		if a.Name.Space != "" {
			q = a.Name.Space + ":" + a.Name.Local
			uri, _ = n.lookup(a.Name.Space)
		}
		attrs = append(attrs, attr{uri, a.Name.Local, q, a.Value})
	}
	sort.Slice(attrs, func(i, j int) bool {
		if attrs[i].uri != attrs[j].uri {
			return attrs[i].uri < attrs[j].uri
		}
		return attrs[i].local < attrs[j].local
	})

	name := n.local
	if n.prefix != "" {
		name = n.prefix + ":" + n.local
	}
	b.WriteByte('<')
	b.WriteString(name)
	for _, d := range decls {
		if d.prefix == "" {
			b.WriteString(` xmlns="`)
		} else {
			b.WriteString(` xmlns:` + d.prefix + `="`)
		}
		escapeAttr(b, d.uri)
		b.WriteByte('"')
	}
	for _, a := range attrs {
		b.WriteString(" " + a.qname + `="`)
		escapeAttr(b, a.value)
		b.WriteByte('"')
	}
	b.WriteByte('>')
	for _, c := range n.children {
		switch x := c.(type) {
		case xtext:
			escapeText(b, string(x))
		case *xnode:
			if x != skip {
				c14n(b, x, skip, next, inclusive)
			}
		}
	}
	b.WriteString("</" + name + ">")
}

func (n *xnode) hasDefault() bool {
	uri, _ := n.lookup("")
	return uri != ""
}

func escapeText(b *bytes.Buffer, s string) {
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteRune(r)
		}
	}
}

func escapeAttr(b *bytes.Buffer, s string) {
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '"':
			b.WriteString("&quot;")
		case '\t':
			b.WriteString("&#x9;")
		case '\n':
			b.WriteString("&#xA;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteRune(r)
		}
	}
}

// errSignature is any failure of an XML signature.
var errSignature = errors.New("signature invalid")

// verifyEnveloped verifies sig, a ds:Signature child of the element it
// signs, with one of keys, and returns that element. The Reference must
// name its parent by ID ("#<ID>"), the ID must be unique in the document
// (root), and the algorithms must be the ones above.
func verifyEnveloped(root, sig *xnode, keys []*rsa.PublicKey) (*xnode, error) {
	signed := sig.parent
	if signed == nil {
		return nil, errSignature
	}
	id, ok := signed.attr("ID")
	if !ok || id == "" {
		return nil, errSignature
	}
	// The ID must name exactly one element: a second one (a wrapped copy)
	// could make another reader look at the other element.
	count := 0
	root.walk(func(e *xnode) {
		for _, a := range e.attrs {
			if (a.Name.Local == "ID" || a.Name.Local == "Id" || a.Name.Local == "AssertionID") && a.Value == id {
				count++
			}
		}
	})
	if count != 1 {
		return nil, errSignature
	}
	si := sig.first(nsDSig, "SignedInfo")
	sv := sig.first(nsDSig, "SignatureValue")
	if si == nil || sv == nil {
		return nil, errSignature
	}
	cm := si.first(nsDSig, "CanonicalizationMethod")
	sm := si.first(nsDSig, "SignatureMethod")
	refs := si.child(nsDSig, "Reference")
	if cm == nil || sm == nil || len(refs) != 1 {
		return nil, errSignature
	}
	if alg, _ := cm.attr("Algorithm"); alg != algExcC14N {
		return nil, errSignature
	}
	if alg, _ := sm.attr("Algorithm"); alg != algRSA256 {
		return nil, errSignature
	}
	ref := refs[0]
	if uri, _ := ref.attr("URI"); uri != "#"+id {
		return nil, errSignature
	}
	var inclusive []string
	ts := ref.first(nsDSig, "Transforms")
	if ts == nil {
		return nil, errSignature
	}
	var algs []string
	for _, t := range ts.child(nsDSig, "Transform") {
		alg, _ := t.attr("Algorithm")
		algs = append(algs, alg)
		if alg == algExcC14N {
			inclusive = prefixList(t)
		}
	}
	if len(algs) != 2 || algs[0] != algEnvelope || algs[1] != algExcC14N {
		return nil, errSignature
	}
	dm := ref.first(nsDSig, "DigestMethod")
	dv := ref.first(nsDSig, "DigestValue")
	if dm == nil || dv == nil {
		return nil, errSignature
	}
	if alg, _ := dm.attr("Algorithm"); alg != algSHA256 {
		return nil, errSignature
	}
	want, err := base64.StdEncoding.DecodeString(stripSpace(dv.text()))
	if err != nil {
		return nil, errSignature
	}
	sum := sha256.Sum256(canonical(signed, sig, inclusive))
	if subtle.ConstantTimeCompare(sum[:], want) != 1 {
		return nil, errSignature
	}
	sigBytes, err := base64.StdEncoding.DecodeString(stripSpace(sv.text()))
	if err != nil {
		return nil, errSignature
	}
	siSum := sha256.Sum256(canonical(si, nil, prefixList(cm)))
	for _, k := range keys {
		if rsa.VerifyPKCS1v15(k, crypto.SHA256, siSum[:], sigBytes) == nil {
			return signed, nil
		}
	}
	return nil, errSignature
}

// prefixList reads an ec:InclusiveNamespaces PrefixList under a transform
// or canonicalization method.
func prefixList(n *xnode) []string {
	in := n.first(algExcC14N, "InclusiveNamespaces")
	if in == nil {
		return nil
	}
	pl, _ := in.attr("PrefixList")
	return strings.Fields(pl)
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
}
