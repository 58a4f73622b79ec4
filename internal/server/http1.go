package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// HTTP1 serves HTTP/1.1 (and 1.0) on a listener, for an http.Handler.
//
// It exists because net/http's server, general as it must be, costs more
// than the rest of a request does: on the development machine a do-nothing
// net/http handler answering GetCallerIdentity's XML costs ~37 µs of server
// CPU per SDK request (per-request goroutine hand-offs to watch for a closed
// connection, a context per request, header maps built key by key, chunking
// logic, two writes), where this loop costs about half of that. AWS clients
// speak plain request/response HTTP/1.1 with a Content-Length to these APIs,
// and rampart buffers every answer, so the server needs much less:
//
//   - one goroutine per connection, requests served in order (pipelined
//     requests wait their turn);
//   - the request head read whole (at most MaxHeaderBytes), parsed strictly:
//     a malformed request line or header, obs-fold, a header name or value
//     with bytes HTTP forbids, a missing or repeated Host, Content-Length
//     and Transfer-Encoding together, differing Content-Lengths, or a
//     transfer coding other than chunked are answered 400 (or 501, 505,
//     431) and the connection is closed — no request smuggling through
//     lenient parsing;
//   - bodies by Content-Length or chunked (trailers read and dropped), and
//     "Expect: 100-continue" answered before the body is read;
//   - the handler's answer buffered and sent with one write, with
//     Content-Length (and Date) filled in;
//   - deadlines: IdleTimeout for the next request's first byte,
//     ReadHeaderTimeout for its head, ReadTimeout for its body,
//     WriteTimeout for the answer; TLS when the listener gives *tls.Conn
//     (the handshake under ReadHeaderTimeout); r.TLS is set then.
//
// The request's context is the server's: it is not cancelled when the
// client goes away (rampart's handlers are short and finish their
// transaction either way). HTTP/2 is not offered.
type HTTP1 struct {
	Handler           http.Handler
	ReadHeaderTimeout time.Duration // 0: 10 s
	ReadTimeout       time.Duration // 0: 60 s, for a request's body
	WriteTimeout      time.Duration // 0: 60 s
	IdleTimeout       time.Duration // 0: 120 s
	MaxHeaderBytes    int           // 0: 64 KiB
	Logger            *slog.Logger

	mu      sync.Mutex
	conns   map[*h1conn]struct{}
	ln      net.Listener
	closing atomic.Bool
	wg      sync.WaitGroup
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = http.ErrServerClosed

func (s *HTTP1) defaults() {
	if s.ReadHeaderTimeout == 0 {
		s.ReadHeaderTimeout = 10 * time.Second
	}
	if s.ReadTimeout == 0 {
		s.ReadTimeout = 60 * time.Second
	}
	if s.WriteTimeout == 0 {
		s.WriteTimeout = 60 * time.Second
	}
	if s.IdleTimeout == 0 {
		s.IdleTimeout = 120 * time.Second
	}
	if s.MaxHeaderBytes == 0 {
		s.MaxHeaderBytes = 64 << 10
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
}

// Serve accepts connections on l until Shutdown (it then returns
// ErrServerClosed) or until Accept fails.
func (s *HTTP1) Serve(l net.Listener) error {
	s.mu.Lock()
	s.defaults()
	if s.closing.Load() {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.ln = l
	s.conns = map[*h1conn]struct{}{}
	s.mu.Unlock()
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				// Out of file descriptors or a transient failure: back off
				// as net/http does rather than spin.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.Logger.Warn("accept failed; retrying", "err", err, "delay", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := &h1conn{s: s, nc: nc, remote: nc.RemoteAddr().String()}
		c.state.Store(stateIdle)
		s.mu.Lock()
		if s.closing.Load() {
			s.mu.Unlock()
			nc.Close()
			return ErrServerClosed
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go c.serve()
	}
}

// Shutdown stops accepting, closes idle connections, lets requests in
// flight finish (their connections close after the answer), and returns
// when all connections are gone or ctx ends (then it closes the rest).
func (s *HTTP1) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing.Store(true)
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		s.closeIdle(false)
		select {
		case <-done:
			return err
		case <-ctx.Done():
			s.closeIdle(true)
			<-done
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (s *HTTP1) closeIdle(all bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		// An idle connection is claimed (idle → closed) so that a request
		// arriving at the same moment is not half served.
		if all || c.state.CompareAndSwap(stateIdle, stateClosed) {
			c.nc.Close()
		}
	}
}

const (
	stateIdle int32 = iota
	stateActive
	stateClosed
)

// h1conn is one connection.
type h1conn struct {
	s      *HTTP1
	nc     net.Conn
	remote string
	tls    *tls.ConnectionState
	state  atomic.Int32
	br     *bufio.Reader
	head   []byte
	out    bytes.Buffer
	req    http.Request
	url    url.URL
	hdr    http.Header
	w      h1writer
	body   h1body
}

var h1readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4<<10) }}

func (c *h1conn) serve() {
	defer func() {
		if p := recover(); p != nil {
			// The value is not logged: it could carry request data.
			c.s.Logger.Error("panic serving a connection; closed it", "remote", c.remote, "type", fmt.Sprintf("%T", p))
		}
		c.nc.Close()
		if c.br != nil {
			c.br.Reset(nil)
			h1readers.Put(c.br)
		}
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
		c.s.wg.Done()
	}()
	if tc, ok := c.nc.(*tls.Conn); ok {
		tc.SetDeadline(time.Now().Add(c.s.ReadHeaderTimeout))
		if err := tc.HandshakeContext(context.Background()); err != nil {
			c.s.Logger.Debug("TLS handshake failed", "remote", c.remote, "err", err)
			return
		}
		tc.SetDeadline(time.Time{})
		st := tc.ConnectionState()
		c.tls = &st
	}
	c.br = h1readers.Get().(*bufio.Reader)
	c.br.Reset(c.nc)
	c.hdr = http.Header{}
	for {
		// Wait for the next request's first byte as an idle connection.
		c.nc.SetReadDeadline(time.Now().Add(c.s.IdleTimeout))
		if _, err := c.br.Peek(1); err != nil {
			return
		}
		if !c.state.CompareAndSwap(stateIdle, stateActive) {
			return // Shutdown claimed it
		}
		c.nc.SetReadDeadline(time.Now().Add(c.s.ReadHeaderTimeout))
		keep := c.serveOne()
		if !keep || c.s.closing.Load() {
			return
		}
		if !c.state.CompareAndSwap(stateActive, stateIdle) {
			return
		}
	}
}

// h1error is a request the server refuses before the handler sees it.
type h1error struct {
	status int
	msg    string
}

func (e *h1error) Error() string { return e.msg }

func badRequest(msg string) *h1error { return &h1error{http.StatusBadRequest, msg} }

// serveOne reads and answers one request; false means close the connection.
func (c *h1conn) serveOne() bool {
	if err := c.readRequest(); err != nil {
		var he *h1error
		if errors.As(err, &he) {
			c.writeError(he)
			c.lingerClose()
		}
		return false
	}
	r := &c.req
	if c.body.expectContinue {
		// Ask for the body only when the handler will read it: rampart
		// reads every body it accepts, so ask at once.
		c.nc.SetWriteDeadline(time.Now().Add(c.s.WriteTimeout))
		if _, err := io.WriteString(c.nc, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
			return false
		}
	}
	c.nc.SetReadDeadline(time.Now().Add(c.s.ReadTimeout))
	c.w.reset(r.Method == http.MethodHead)
	c.s.Handler.ServeHTTP(&c.w, r)
	keep := !r.Close && !c.s.closing.Load()
	// Whatever of the body the handler left unread must be consumed to
	// reach the next request; a large remainder closes the connection
	// instead (as net/http does).
	if keep && !c.body.done() {
		keep = c.body.drain(256 << 10)
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.s.WriteTimeout))
	if err := c.w.send(c, keep); err != nil {
		return false
	}
	if !keep && !c.body.done() {
		c.lingerClose()
	}
	return keep
}

// lingerClose closes the connection after an answer sent while the client
// may still be sending (an unread body, a refused request): closing at
// once would make the kernel reset the connection, and the client could
// lose the answer. So the write side is shut first and the client's bytes
// are read and dropped for a moment, as net/http does.
func (c *h1conn) lingerClose() {
	if tc, ok := c.nc.(interface{ CloseWrite() error }); ok {
		tc.CloseWrite()
		c.nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		io.CopyN(io.Discard, c.nc, 1<<20)
	}
	c.nc.Close()
}

// readRequest reads the head and prepares c.req.
func (c *h1conn) readRequest() error {
	head, err := c.readHead()
	if err != nil {
		return err
	}
	// One string holds the whole head: the method, target, header names
	// and values are substrings of it (one allocation per request).
	hs := string(head)
	line, rest, _ := strings.Cut(hs, "\n")
	line = strings.TrimSuffix(line, "\r")
	method, rest1, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest1, " ")
	if !ok1 || !ok2 || !validToken(method) || target == "" || strings.ContainsAny(target, " \t") {
		return badRequest("malformed request line")
	}
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		return badRequest("malformed HTTP version")
	}
	if major != 1 {
		return &h1error{http.StatusHTTPVersionNotSupported, "unsupported HTTP version"}
	}
	r := &c.req
	clear(c.hdr)
	*r = http.Request{
		Method: method, Proto: proto, ProtoMajor: major, ProtoMinor: minor,
		Header: c.hdr, RequestURI: target, RemoteAddr: c.remote, TLS: c.tls,
	}
	if err := c.parseTarget(target); err != nil {
		return err
	}
	if err := parseHeaders(rest, c.hdr); err != nil {
		return err
	}
	hosts := c.hdr["Host"]
	switch {
	case len(hosts) > 1:
		return badRequest("too many Host headers")
	case len(hosts) == 0 && minor >= 1:
		return badRequest("missing required Host header")
	case len(hosts) == 1:
		if !validHost(hosts[0]) {
			return badRequest("malformed Host header")
		}
		r.Host = hosts[0]
		delete(c.hdr, "Host") // as net/http: the host is r.Host
	}
	if r.URL.Host != "" {
		r.Host = r.URL.Host // RFC 9112 §3.2.2: an absolute-form target's authority wins
	}
	r.Close = shouldClose(minor, c.hdr["Connection"])
	return c.prepareBody()
}

// readHead reads up to and including the blank line that ends the head.
func (c *h1conn) readHead() ([]byte, error) {
	c.head = c.head[:0]
	lineStart := true // the next chunk begins a line
	for {
		chunk, err := c.br.ReadSlice('\n')
		if len(c.head)+len(chunk) > c.s.MaxHeaderBytes {
			return nil, &h1error{http.StatusRequestHeaderFieldsTooLarge, "request header too large"}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			c.head = append(c.head, chunk...)
			lineStart = false
			continue
		}
		if err != nil {
			return nil, err // EOF, a reset, or a slow head: drop the connection silently
		}
		blank := lineStart && (len(chunk) == 1 || len(chunk) == 2 && chunk[0] == '\r')
		lineStart = true
		if blank && len(c.head) == 0 {
			// RFC 9112 §2.2: empty lines before the request line are ignored.
			continue
		}
		c.head = append(c.head, chunk...)
		if blank {
			return c.head, nil
		}
	}
}

func (c *h1conn) parseTarget(target string) error {
	r := &c.req
	if target[0] == '/' && simpleTarget(target) {
		// The usual case ("/", "/path?query" with nothing escaped): no
		// url.Parse, no allocation.
		path, q, _ := strings.Cut(target, "?")
		c.url = url.URL{Path: path, RawQuery: q}
		r.URL = &c.url
		return nil
	}
	if target == "*" {
		return badRequest("unsupported request target")
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return badRequest("malformed request target")
	}
	if u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return badRequest("malformed request target")
	}
	r.URL = u
	return nil
}

// simpleTarget: only bytes that need no unescaping and that url.Parse
// would keep as they are (unreserved, sub-delims, ':', '@', '/', '?', '=').
func simpleTarget(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' {
			continue
		}
		switch b {
		case '-', '.', '_', '~', '/', '?', '=', '&', ':', '@', '!', '$', '\'', '(', ')', '*', '+', ',', ';':
			continue
		}
		return false
	}
	return strings.Count(s, "?") <= 1
}

// parseHeaders parses the header lines of a head (after the request line).
func parseHeaders(s string, h http.Header) error {
	for s != "" {
		line, rest, _ := strings.Cut(s, "\n")
		s = rest
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return badRequest("obsolete line folding")
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !validToken(name) {
			return badRequest("malformed header line")
		}
		value = strings.Trim(value, " \t")
		if !validFieldValue(value) {
			return badRequest("invalid header value")
		}
		key := canonicalKey(name)
		h[key] = append(h[key], value)
	}
	return nil
}

// canonicalKey returns name in canonical form, without allocating when it
// already is (the AWS SDKs send canonical names).
func canonicalKey(name string) string {
	upper := true
	for i := 0; i < len(name); i++ {
		b := name[i]
		if upper && 'a' <= b && b <= 'z' || !upper && 'A' <= b && b <= 'Z' {
			return textproto.CanonicalMIMEHeaderKey(name)
		}
		upper = b == '-'
	}
	return name
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return true
}

func isTokenByte(b byte) bool {
	if 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

// validFieldValue: RFC 9110 field-value: visible ASCII, obs-text, SP and
// HTAB; no CR, LF or NUL, nor other control bytes.
func validFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < ' ' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// validHost accepts what net/http does: a reg-name, IPv4 or bracketed
// IPv6 literal, with an optional port; no spaces, slashes or controls.
func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		b := h[i]
		if 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' {
			continue
		}
		if strings.IndexByte("-._~!$&'()*+,;=:[]%", b) < 0 {
			return false
		}
	}
	return true
}

func shouldClose(minor int, conn []string) bool {
	closeTok, keepAlive := false, false
	for _, v := range conn {
		for f := range strings.SplitSeq(v, ",") {
			f = strings.TrimSpace(f)
			closeTok = closeTok || strings.EqualFold(f, "close")
			keepAlive = keepAlive || strings.EqualFold(f, "keep-alive")
		}
	}
	if minor == 0 {
		return !keepAlive || closeTok
	}
	return closeTok
}

// prepareBody sets r.Body and r.ContentLength from the framing headers.
func (c *h1conn) prepareBody() error {
	r := &c.req
	h := c.hdr
	te, cl := h["Transfer-Encoding"], h["Content-Length"]
	c.body = h1body{br: c.br}
	if len(te) > 0 {
		if len(cl) > 0 {
			// RFC 9112 §6.1: a request with both is a smuggling attempt or
			// a broken client; refuse it and close.
			return badRequest("both Transfer-Encoding and Content-Length")
		}
		if r.ProtoMinor == 0 {
			return badRequest("Transfer-Encoding in an HTTP/1.0 request")
		}
		if len(te) != 1 || !strings.EqualFold(strings.TrimSpace(te[0]), "chunked") {
			return &h1error{http.StatusNotImplemented, "unsupported transfer coding"}
		}
		delete(h, "Transfer-Encoding")
		r.TransferEncoding = []string{"chunked"}
		r.ContentLength = -1
		c.body.chunked = httputil.NewChunkedReader(c.br)
	} else if len(cl) > 0 {
		n, err := parseContentLength(cl)
		if err != nil {
			return err
		}
		r.ContentLength = n
		c.body.remaining = n
	}
	if v := h["Expect"]; len(v) > 0 {
		if len(v) != 1 || !strings.EqualFold(v[0], "100-continue") {
			return &h1error{http.StatusExpectationFailed, "unsupported expectation"}
		}
		c.body.expectContinue = r.ProtoMinor >= 1 && (r.ContentLength != 0)
		delete(h, "Expect")
	}
	if r.ContentLength == 0 {
		r.Body = http.NoBody
	} else {
		r.Body = &c.body
	}
	return nil
}

func parseContentLength(vals []string) (int64, error) {
	first := strings.TrimSpace(vals[0])
	for _, v := range vals[1:] {
		if strings.TrimSpace(v) != first {
			return 0, badRequest("differing Content-Length values")
		}
	}
	if first == "" || len(first) > 18 {
		return 0, badRequest("malformed Content-Length")
	}
	var n int64
	for i := 0; i < len(first); i++ {
		b := first[i]
		if b < '0' || b > '9' {
			return 0, badRequest("malformed Content-Length")
		}
		n = n*10 + int64(b-'0')
	}
	return n, nil
}

// h1body is a request body: Content-Length bytes, or chunked.
type h1body struct {
	br             *bufio.Reader
	remaining      int64
	chunked        io.Reader
	eof            bool
	expectContinue bool
	err            error
}

func (b *h1body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.chunked != nil {
		if b.eof {
			return 0, io.EOF
		}
		n, err := b.chunked.Read(p)
		if errors.Is(err, io.EOF) {
			b.eof = true
			// The trailer section, up to its blank line: read, dropped.
			if terr := b.skipTrailers(); terr != nil {
				b.err = terr
				return n, terr
			}
			return n, io.EOF
		}
		if err != nil {
			b.err = err
		}
		return n, err
	}
	if b.remaining <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.br.Read(p)
	b.remaining -= int64(n)
	if errors.Is(err, io.EOF) && b.remaining > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

func (b *h1body) skipTrailers() error {
	total := 0
	for {
		line, err := b.br.ReadSlice('\n')
		if err != nil {
			return errors.New("malformed chunked trailer")
		}
		total += len(line)
		if total > 8<<10 {
			return errors.New("chunked trailer too large")
		}
		if len(line) < 2 || line[len(line)-2] != '\r' {
			return errors.New("malformed chunked trailer") // CRLF only here, as net/http
		}
		if len(line) == 2 {
			return nil
		}
		name, value, ok := strings.Cut(string(line[:len(line)-2]), ":")
		if !ok || !validToken(name) || !validFieldValue(value) {
			return errors.New("malformed chunked trailer")
		}
	}
}

func (b *h1body) Close() error { return nil }

func (b *h1body) done() bool {
	if b.err != nil {
		return false
	}
	if b.chunked != nil {
		return b.eof
	}
	return b.remaining <= 0
}

// drain reads what is left of the body, up to max bytes; false means the
// body was longer or broken, and the connection must close.
func (b *h1body) drain(max int64) bool {
	n, err := io.Copy(io.Discard, io.LimitReader(b, max+1))
	return err == nil && n <= max && b.done()
}

// h1writer buffers the handler's answer; send writes it in one piece.
type h1writer struct {
	header http.Header
	status int
	body   bytes.Buffer
	head   bool
}

func (w *h1writer) reset(head bool) {
	if w.header == nil {
		w.header = http.Header{}
	}
	clear(w.header)
	w.status = 0
	w.body.Reset()
	w.head = head
}

func (w *h1writer) Header() http.Header { return w.header }

func (w *h1writer) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
	}
}

func (w *h1writer) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}

func (w *h1writer) send(c *h1conn, keep bool) error {
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	out := &c.out
	out.Reset()
	out.WriteString("HTTP/1.1 ")
	writeStatus(out, status)
	h := w.header
	if v := h["Connection"]; len(v) > 0 && strings.EqualFold(v[0], "close") {
		keep = false
	}
	delete(h, "Connection")
	delete(h, "Transfer-Encoding")
	bodyLen := w.body.Len()
	if _, ok := h["Content-Length"]; !ok {
		var b [20]byte
		out.WriteString("Content-Length: ")
		out.Write(strconv.AppendInt(b[:0], int64(bodyLen), 10))
		out.WriteString("\r\n")
	}
	if _, ok := h["Date"]; !ok {
		out.WriteString("Date: ")
		out.WriteString(httpDate())
		out.WriteString("\r\n")
	}
	if _, ok := h["Content-Type"]; !ok && bodyLen > 0 {
		out.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
	}
	for k, vs := range h {
		if !validToken(k) {
			continue
		}
		for _, v := range vs {
			if !validFieldValue(v) {
				continue // never let a value split the response
			}
			out.WriteString(k)
			out.WriteString(": ")
			out.WriteString(v)
			out.WriteString("\r\n")
		}
	}
	if !keep {
		out.WriteString("Connection: close\r\n")
	}
	out.WriteString("\r\n")
	if !w.head {
		out.Write(w.body.Bytes())
	}
	_, err := c.nc.Write(out.Bytes())
	if out.Cap() > 64<<10 {
		*out = bytes.Buffer{}
	}
	if w.body.Cap() > 64<<10 {
		w.body = bytes.Buffer{}
	}
	return err
}

func writeStatus(out *bytes.Buffer, status int) {
	var b [3]byte
	out.Write(strconv.AppendInt(b[:0], int64(status), 10))
	out.WriteByte(' ')
	text := http.StatusText(status)
	if text == "" {
		text = "status code " + strconv.Itoa(status)
	}
	out.WriteString(text)
	out.WriteString("\r\n")
}

// writeError answers a request refused before the handler, and the
// connection closes after it.
func (c *h1conn) writeError(e *h1error) {
	c.nc.SetWriteDeadline(time.Now().Add(c.s.WriteTimeout))
	out := &c.out
	out.Reset()
	out.WriteString("HTTP/1.1 ")
	writeStatus(out, e.status)
	out.WriteString("Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ")
	msg := strconv.Itoa(e.status) + " " + http.StatusText(e.status) + ": " + e.msg + "\n"
	out.WriteString(strconv.Itoa(len(msg)))
	out.WriteString("\r\n\r\n")
	out.WriteString(msg)
	c.nc.Write(out.Bytes())
}

// httpDate is the Date header's value, formatted once per second.
func httpDate() string {
	now := time.Now().Unix()
	if d := dateCache.Load(); d != nil && d.sec == now {
		return d.text
	}
	d := &cachedDate{sec: now, text: time.Unix(now, 0).UTC().Format(http.TimeFormat)}
	dateCache.Store(d)
	return d.text
}

type cachedDate struct {
	sec  int64
	text string
}

var dateCache atomic.Pointer[cachedDate]
