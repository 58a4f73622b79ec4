package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"
)

// echo answers with what it saw of the request.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(400)
		fmt.Fprintf(w, "body: %v", err)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "%s %s path=%s query=%s host=%s len=%d te=%v tls=%v ua=%s target=%s body=%s",
		r.Method, r.Proto, r.URL.Path, r.URL.RawQuery, r.Host, r.ContentLength, r.TransferEncoding, r.TLS != nil,
		r.Header.Get("User-Agent"), r.Header.Get("X-Amz-Target"), body)
})

func startHTTP1(t *testing.T, h http.Handler, wrap func(net.Listener) net.Listener) (*HTTP1, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if wrap != nil {
		l = wrap(l)
	}
	s := &HTTP1{Handler: h, MaxHeaderBytes: 8 << 10}
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return s, addr
}

func TestHTTP1KeepAliveWithNetHTTPClient(t *testing.T) {
	_, addr := startHTTP1(t, echo, nil)
	client := &http.Client{Transport: &http.Transport{}}
	reused := 0
	for i := range 5 {
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) {
			if ci.Reused {
				reused++
			}
		}})
		body := strings.Repeat("x", i*1000)
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/p/a?x=1&y=2", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "TrentService.Encrypt")
		req.Header.Set("user-agent", "test-agent")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := fmt.Sprintf("POST HTTP/1.1 path=/p/a query=x=1&y=2 host=%s len=%d te=[] tls=false ua=test-agent target=TrentService.Encrypt body=%s", addr, len(body), body)
		if resp.StatusCode != 200 || string(got) != want {
			t.Fatalf("request %d: %d %q\nwant %q", i, resp.StatusCode, got, want)
		}
		if resp.Header.Get("Date") == "" || resp.ContentLength != int64(len(want)) {
			t.Fatalf("headers: %v", resp.Header)
		}
	}
	if reused != 4 {
		t.Fatalf("connection reused %d times, want 4", reused)
	}
}

// raw sends b on a fresh connection and returns everything the server
// writes until it closes the connection (or the deadline passes).
func raw(t *testing.T, addr, b string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, b); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read: %v (got %q); the server should have closed the connection", err, out)
	}
	return string(out)
}

func TestHTTP1RefusesMalformedRequests(t *testing.T) {
	_, addr := startHTTP1(t, echo, nil)
	for _, tc := range []struct{ name, req, status string }{
		{"no Host", "GET / HTTP/1.1\r\n\r\n", "400"},
		{"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400"},
		{"bad Host", "GET / HTTP/1.1\r\nHost: a b/c\r\n\r\n", "400"},
		{"CL and TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
		{"differing CLs", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "400"},
		{"signed CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", "400"},
		{"negative CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", "400"},
		{"gzip TE", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", "501"},
		{"chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", "501"},
		{"TE in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n", "400"},
		{"space in name", "GET / HTTP/1.1\r\nHost: a\r\nX A: 1\r\n\r\n", "400"},
		{"space before colon", "GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n", "400"},
		{"control byte", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\x01\r\n\r\n", "400"},
		{"bare CR in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r2\r\n\r\n", "400"},
		{"no colon", "GET / HTTP/1.1\r\nHost: a\r\nX-A\r\n\r\n", "400"},
		{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", "505"},
		{"bad version", "GET / HTTP/1.x\r\nHost: a\r\n\r\n", "400"},
		{"bad method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", "400"},
		{"extra spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "400"},
		{"asterisk", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "400"},
		{"bad target", "GET %zz HTTP/1.1\r\nHost: a\r\n\r\n", "400"},
		{"expect other", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx", "417"},
		{"head too large", "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("b", 9000) + "\r\n\r\n", "431"},
		{"many headers", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-A: 1234567890\r\n", 600) + "\r\n", "431"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := raw(t, addr, tc.req)
			if !strings.HasPrefix(out, "HTTP/1.1 "+tc.status+" ") || !strings.Contains(out, "Connection: close\r\n") {
				t.Fatalf("got %q, want status %s and the connection closed", out, tc.status)
			}
		})
	}
}

func TestHTTP1Framing(t *testing.T) {
	_, addr := startHTTP1(t, echo, nil)
	t.Run("pipelined and smuggling-proof", func(t *testing.T) {
		out := raw(t, addr, "POST /one HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcdGET /two HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		i, j := strings.Index(out, "path=/one"), strings.Index(out, "path=/two")
		if i < 0 || j < i || !strings.Contains(out, "body=abcd") || strings.Count(out, "HTTP/1.1 200 OK") != 2 {
			t.Fatalf("got %q", out)
		}
	})
	t.Run("chunked with trailers, then the next request", func(t *testing.T) {
		out := raw(t, addr, "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-Trailer: t\r\n\r\n"+
			"GET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		if !strings.Contains(out, "len=-1 te=[chunked]") || !strings.Contains(out, "body=abcdefg") || !strings.Contains(out, "path=/after") {
			t.Fatalf("got %q", out)
		}
	})
	t.Run("malformed chunk", func(t *testing.T) {
		out := raw(t, addr, "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")
		if !strings.HasPrefix(out, "HTTP/1.1 400 ") || !strings.Contains(out, "Connection: close") {
			t.Fatalf("got %q", out)
		}
	})
	t.Run("HTTP/1.0 closes", func(t *testing.T) {
		out := raw(t, addr, "GET /old HTTP/1.0\r\n\r\n")
		if !strings.Contains(out, "GET HTTP/1.0 path=/old") || !strings.Contains(out, "Connection: close") {
			t.Fatalf("got %q", out)
		}
	})
	t.Run("leading blank line", func(t *testing.T) {
		out := raw(t, addr, "\r\nGET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		if !strings.Contains(out, "path=/b") {
			t.Fatalf("got %q", out)
		}
	})
	t.Run("escaped path", func(t *testing.T) {
		out := raw(t, addr, "GET /a%20b/c?x=%2F HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		if !strings.Contains(out, "path=/a b/c query=x=%2F") {
			t.Fatalf("got %q", out)
		}
	})
	t.Run("HEAD has no body", func(t *testing.T) {
		out := raw(t, addr, "HEAD /h HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(out, "HTTP/1.1 200 OK") || !strings.HasSuffix(out, "\r\n\r\n") {
			t.Fatalf("got %q", out)
		}
	})
}

func TestHTTP1ExpectContinue(t *testing.T) {
	_, addr := startHTTP1(t, echo, nil)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
	br := bufio.NewReader(c)
	line, _ := br.ReadString('\n')
	blank, _ := br.ReadString('\n')
	if line != "HTTP/1.1 100 Continue\r\n" || blank != "\r\n" {
		t.Fatalf("got %q %q before sending the body", line, blank)
	}
	io.WriteString(c, "hello")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "body=hello") {
		t.Fatalf("got %q", body)
	}
}

func TestHTTP1UnreadLargeBodyClosesConnection(t *testing.T) {
	_, addr := startHTTP1(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(413) // answers without reading
	}), nil)
	out := raw(t, addr, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n"+strings.Repeat("x", 1000000))
	if !strings.HasPrefix(out, "HTTP/1.1 413 ") || !strings.Contains(out, "Connection: close") {
		t.Fatalf("got %.200q", out)
	}
}

func TestHTTP1NeverSplitsResponses(t *testing.T) {
	_, addr := startHTTP1(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["X-Evil"] = []string{"a\r\nSet-Cookie: injected=1"}
		w.Header()["Bad Name"] = []string{"x"}
		w.Header().Set("X-Good", "ok")
	}), nil)
	out := raw(t, addr, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if strings.Contains(out, "injected") || strings.Contains(out, "Bad Name") || !strings.Contains(out, "X-Good: ok\r\n") {
		t.Fatalf("got %q", out)
	}
}

func TestHTTP1ShutdownFinishesRequestsInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	s, addr := startHTTP1(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(entered)
			<-release
		}
		io.WriteString(w, "done "+r.URL.Path)
	}), nil)
	// An idle keep-alive connection, and a request in flight on another.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	io.WriteString(idle, "GET /idle HTTP/1.1\r\nHost: a\r\n\r\n")
	idleBR := bufio.NewReader(idle)
	if resp, err := http.ReadResponse(idleBR, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("idle connection's request: %v", err)
	} else {
		io.ReadAll(resp.Body)
	}
	result := make(chan string, 1)
	go func() { result <- raw(t, addr, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n") }()
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	// The idle connection is closed by Shutdown.
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idleBR.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: %v, want EOF", err)
	}
	close(release)
	out := <-result
	if !strings.Contains(out, "done /slow") || !strings.Contains(out, "Connection: close") {
		t.Fatalf("request in flight got %q", out)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Fatal("still accepting after Shutdown")
	}
}

func TestHTTP1TLS(t *testing.T) {
	cert := selfSigned(t)
	_, addr := startHTTP1(t, echo, func(l net.Listener) net.Listener {
		return tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	})
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}, ForceAttemptHTTP2: true}}
	resp, err := client.Post("https://"+addr+"/s", "text/plain", strings.NewReader("sealed"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 1 || !strings.Contains(string(body), "tls=true") || !strings.Contains(string(body), "body=sealed") {
		t.Fatalf("%s %q", resp.Proto, body)
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// FuzzHTTP1Request: whatever the bytes, parsing never panics, and a request
// this server accepts is one net/http's parser accepts too, with the same
// method, target, host, framing and body — the two never disagree about
// where a request ends (no request smuggling between them).
func FuzzHTTP1Request(f *testing.F) {
	for _, s := range []string{
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
		"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n",
		"GET /a%20b?x=1 HTTP/1.1\r\nhost: a:1\r\nx-amz-date: 1\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
		"\r\nGET http://h/p HTTP/1.1\r\nHost: h\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &h1conn{s: &HTTP1{MaxHeaderBytes: 8 << 10}, br: bufio.NewReaderSize(bytes.NewReader(b), 4<<10), hdr: http.Header{}}
		if err := c.readRequest(); err != nil {
			return
		}
		ours, err := io.ReadAll(c.req.Body)
		if err != nil {
			return
		}
		theirs, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(bytes.TrimLeft(b, "\r\n"))))
		if err != nil {
			t.Fatalf("accepted what net/http refuses (%v): %q", err, b)
		}
		tb, err := io.ReadAll(theirs.Body)
		if err != nil {
			t.Fatalf("net/http could not read the body we read (%v): %q", err, b)
		}
		r := &c.req
		if r.Method != theirs.Method || r.RequestURI != theirs.RequestURI || r.Host != theirs.Host ||
			!bytes.Equal(ours, tb) || r.ContentLength != theirs.ContentLength && r.ContentLength >= 0 {
			t.Fatalf("disagree on %q:\nours   %s %s host=%q len=%d body=%q\ntheirs %s %s host=%q len=%d body=%q", b,
				r.Method, r.RequestURI, r.Host, r.ContentLength, ours, theirs.Method, theirs.RequestURI, theirs.Host, theirs.ContentLength, tb)
		}
	})
}
