package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// cutProxy is a TCP proxy between the browser and a store (serve's
// embedded target, or versitygw) that breaks the connection of one part's
// upload: the first PUT it sees of part CutPart of a multipart upload (a
// URL with partNumber=CutPart), and any request for that same URL, has
// its connection reset after CutAfter bytes of its body have been passed
// on. Chromium silently sends a request again when a connection it reused
// breaks before the answer, on another connection, with the same URL: so
// every attempt with that URL is cut, and only the page's own retry,
// whose URL the backend signed anew, gets through. Everything else is
// passed on as it is.
//
// It reads each request's line and headers to find where the request
// ends (Content-Length; a chunked request, which browsers do not send for
// these uploads, ends the parsing and the rest of the connection is
// passed on as it is), and passes the answers back as they come.
type cutProxy struct {
	// URL is the proxy's base URL, http://127.0.0.1:PORT.
	URL string

	ln       net.Listener
	cutPart  int
	cutAfter int64

	mu     sync.Mutex
	target string    // host:port the connections go to
	cutURL string    // the URL of the part's PUT that is cut
	cuts   []cutInfo // the connections cut
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
	closed bool
}

// cutInfo describes a connection the proxy cut.
type cutInfo struct {
	Part int
	// Sent is how many bytes of the body were passed on before the cut.
	Sent int64
	// Length is the request's Content-Length.
	Length int64
}

// partNumberRE finds the part number in a request line.
var partNumberRE = regexp.MustCompile(`[?&]partNumber=(\d+)(?:&|\s|$)`)

// startCutProxy listens on a loopback port and returns the proxy, which
// forwards nothing until setTarget names where to; it is closed when the
// test ends. cutPart 0 cuts nothing.
func startCutProxy(t *testing.T, cutPart int, cutAfter int64) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cut proxy: %v", err)
	}
	p := &cutProxy{URL: "http://" + ln.Addr().String(), ln: ln, cutPart: cutPart, cutAfter: cutAfter, conns: make(map[net.Conn]bool)}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// setTarget sets the host:port the proxy forwards to.
func (p *cutProxy) setTarget(hostport string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = hostport
}

// Cuts returns the connections cut so far.
func (p *cutProxy) Cuts() []cutInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]cutInfo(nil), p.cuts...)
}

func (p *cutProxy) close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

// track records c, to be closed with the proxy; it reports false when the
// proxy is closed already.
func (p *cutProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *cutProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *cutProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(c)
		}()
	}
}

// serve relays one client connection.
func (p *cutProxy) serve(client net.Conn) {
	defer p.untrack(client)
	p.mu.Lock()
	target := p.target
	p.mu.Unlock()
	if target == "" {
		return
	}
	server, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	answers := make(chan struct{})
	go func() {
		defer close(answers)
		io.Copy(client, server)
		client.Close() // the server closed: so does the proxy
	}()
	if cut := p.relayRequests(bufio.NewReaderSize(client, 64<<10), server); cut {
		// A reset, as a broken network gives: no FIN, no answer.
		for _, c := range []net.Conn{client, server} {
			if tcp, ok := c.(*net.TCPConn); ok {
				tcp.SetLinger(0)
			}
			c.Close()
		}
	} else {
		// The client is done sending: let the server finish answering.
		if tcp, ok := server.(*net.TCPConn); ok {
			tcp.CloseWrite()
		}
	}
	<-answers
}

// relayRequests passes the requests read from r on to server, one after
// the other, and reports whether it cut the connection.
func (p *cutProxy) relayRequests(r *bufio.Reader, server net.Conn) (cut bool) {
	for {
		head, line, length, chunked, err := readHead(r)
		if err != nil {
			return false
		}
		if _, err := server.Write(head); err != nil {
			return false
		}
		if chunked {
			io.Copy(server, r)
			return false
		}
		if p.shouldCut(line) {
			n, _ := io.CopyN(server, r, min(p.cutAfter, length))
			p.mu.Lock()
			p.cuts = append(p.cuts, cutInfo{Part: p.cutPart, Sent: n, Length: length})
			p.mu.Unlock()
			return true
		}
		if _, err := io.CopyN(server, r, length); err != nil {
			return false
		}
	}
}

// shouldCut reports whether the request with the request line line is to
// be cut: a PUT of the part to cut, with the URL of the first one seen.
func (p *cutProxy) shouldCut(line string) bool {
	method, rest, _ := strings.Cut(line, " ")
	uri, _, _ := strings.Cut(rest, " ")
	if p.cutPart == 0 || method != "PUT" {
		return false
	}
	m := partNumberRE.FindStringSubmatch(uri)
	if m == nil || m[1] != strconv.Itoa(p.cutPart) {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cutURL == "" {
		p.cutURL = uri
	}
	return uri == p.cutURL
}

// readHead reads a request's line and headers, returning their bytes as
// they came, the request line, the Content-Length (0 when none), and
// whether the body is chunked.
func readHead(r *bufio.Reader) (head []byte, line string, length int64, chunked bool, err error) {
	var buf bytes.Buffer
	for {
		l, err := r.ReadSlice('\n')
		if err != nil {
			return nil, "", 0, false, err
		}
		buf.Write(l)
		if buf.Len() > 1<<20 {
			return nil, "", 0, false, errors.New("headers too long")
		}
		if len(bytes.TrimRight(l, "\r\n")) == 0 {
			if buf.Len() <= len(l) {
				buf.Reset() // a blank line between requests
				continue
			}
			break
		}
	}
	head = buf.Bytes()
	first, rest, _ := bytes.Cut(head, []byte("\n"))
	line = strings.TrimRight(string(first), "\r")
	hdr, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(rest))).ReadMIMEHeader()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, "", 0, false, err
	}
	if te := hdr.Get("Transfer-Encoding"); te != "" && !strings.EqualFold(te, "identity") {
		return head, line, 0, true, nil
	}
	if cl := hdr.Get("Content-Length"); cl != "" {
		length, err = strconv.ParseInt(cl, 10, 64)
		if err != nil || length < 0 {
			return nil, "", 0, false, errors.New("bad Content-Length")
		}
	}
	return head, line, length, false, nil
}
