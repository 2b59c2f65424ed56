package resolve

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// DefaultTTL is the TTL of the answers: short, so that a resolver that
// cached a name forgets it soon after devport stops.
const DefaultTTL = 5 * time.Second

// Config configures a [Server].
type Config struct {
	// Addr is the UDP and TCP address to listen on, "127.0.0.1:0" (the
	// default) for a free port. It must be a loopback address unless LAN
	// is set: the responder is for this machine only.
	Addr string
	// TLDs are the managed top-level domains, such as "test". Every name
	// under them answers loopback; every name outside them is REFUSED.
	TLDs []string
	// TTL of the answers; DefaultTTL when zero.
	TTL time.Duration
	// LAN allows a non-loopback Addr.
	LAN bool
}

// Server is a DNS responder for the managed TLDs. For a name under one of
// them it answers A with 127.0.0.1, AAAA with ::1 (ANY with both) and any
// other type with an empty NOERROR answer (NODATA) and a synthetic SOA. The
// TLD itself exists but has no addresses. A name outside the TLDs gets
// REFUSED: the server never forwards, so it cannot leak queries or be used
// as an open resolver. A packet too short for a DNS header is dropped; one
// whose question cannot be parsed is answered FORMERR.
//
// Start it with [Server.Start] and stop it with [Server.Shutdown], which is
// safe to call after a failed Start and more than once.
type Server struct {
	tlds []string // fully qualified, lower case
	ttl  uint32
	addr string
	lan  bool

	mu      sync.Mutex
	started bool
	udp     net.PacketConn
	tcp     net.Listener
	conns   map[net.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup
}

// NewServer checks cfg and returns a server that is not listening yet.
func NewServer(cfg Config) (*Server, error) {
	if len(cfg.TLDs) == 0 {
		return nil, errors.New("dns server: TLDs: give at least one managed TLD, such as \"test\"")
	}
	s := &Server{addr: cfg.Addr, lan: cfg.LAN, conns: map[net.Conn]struct{}{}}
	if s.addr == "" {
		s.addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(s.addr)
	if err != nil {
		return nil, fmt.Errorf("dns server: Addr %q: %w", cfg.Addr, err)
	}
	if ip := net.ParseIP(host); !s.lan && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("dns server: Addr %q is not a loopback address: use 127.0.0.1 or ::1, or set LAN", cfg.Addr)
	}
	for _, t := range cfg.TLDs {
		n, err := normalizeTLD(t)
		if err != nil {
			return nil, fmt.Errorf("dns server: %w", err)
		}
		s.tlds = append(s.tlds, n)
	}
	ttl := cfg.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	s.ttl = uint32(ttl / time.Second)
	return s, nil
}

// Start binds UDP and TCP on the same port and serves in the background
// until [Server.Shutdown]. ctx bounds the binding only.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("dns server: already started")
	}
	host, port, _ := net.SplitHostPort(s.addr)
	var lc net.ListenConfig
	var lastErr error
	// With port 0 the UDP port the kernel picks may be taken for TCP:
	// try a few times.
	for attempt := 0; attempt < 5; attempt++ {
		udp, err := lc.ListenPacket(ctx, "udp", s.addr)
		if err != nil {
			return fmt.Errorf("dns server: listen on udp %s: %w", s.addr, err)
		}
		p := strconv.Itoa(udp.LocalAddr().(*net.UDPAddr).Port)
		tcp, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, p))
		if err != nil {
			udp.Close()
			lastErr = fmt.Errorf("dns server: listen on tcp %s: %w", net.JoinHostPort(host, p), err)
			if port != "0" {
				return lastErr
			}
			continue
		}
		s.udp, s.tcp, s.started = udp, tcp, true
		s.wg.Add(2)
		go s.serveUDP()
		go s.serveTCP()
		return nil
	}
	return lastErr
}

// Addr is the address the server listens on, for UDP and TCP alike, or ""
// before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.udp == nil {
		return ""
	}
	return s.udp.LocalAddr().String()
}

// Shutdown closes the listeners and open TCP connections and waits for the
// serving goroutines to end, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	if s.udp != nil {
		s.udp.Close()
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("dns server: shutdown: %w", ctx.Err())
	}
}

func (s *Server) serveUDP() {
	defer s.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.isClosed() {
				return
			}
			continue // a transient error (ICMP unreachable): keep serving
		}
		if resp, ok := s.answer(buf[:n], 512); ok {
			_, _ = s.udp.WriteTo(resp, from)
		}
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) serveTCP() {
	defer s.wg.Done()
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // out of file descriptors: back off
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// tcpIdle is how long a TCP connection may sit between queries (RFC 7766
// suggests seconds, not minutes).
const tcpIdle = 10 * time.Second

// serveConn answers length-prefixed queries on one TCP connection until the
// client closes it, it idles or the server shuts down.
func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	var lenBuf [2]byte
	buf := make([]byte, 65535)
	for {
		_ = c.SetDeadline(time.Now().Add(tcpIdle))
		if _, err := io.ReadFull(c, lenBuf[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(lenBuf[:]))
		if _, err := io.ReadFull(c, buf[:n]); err != nil {
			return
		}
		resp, ok := s.answer(buf[:n], 65535)
		if !ok {
			return // not even a header: the stream is not DNS
		}
		out := make([]byte, 2+len(resp))
		binary.BigEndian.PutUint16(out, uint16(len(resp)))
		copy(out[2:], resp)
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// ednsSize is the UDP payload size advertised back to EDNS clients (the
// DNS flag day 2020 value).
const ednsSize = 1232

// answer builds the response to one query. ok is false when the packet
// must be dropped: too short for a header, or itself a response.
func (s *Server) answer(req []byte, maxSize int) (resp []byte, ok bool) {
	var p dnsmessage.Parser
	h, err := p.Start(req)
	if err != nil || h.Response {
		return nil, false
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, OpCode: h.OpCode, RecursionDesired: h.RecursionDesired}
	qs, err := p.AllQuestions()
	if err != nil || len(qs) != 1 {
		rh.RCode = dnsmessage.RCodeFormatError
		return s.pack(rh, nil, nil, false), true
	}
	q := qs[0]
	edns, err := hasOPT(&p)
	if err != nil {
		rh.RCode = dnsmessage.RCodeFormatError
		return s.pack(rh, &q, nil, false), true
	}
	if h.OpCode != 0 {
		rh.RCode = dnsmessage.RCodeNotImplemented
		return s.pack(rh, &q, nil, edns), true
	}
	name := strings.ToLower(q.Name.String())
	tld := s.tldOf(name)
	if tld == "" || (q.Class != dnsmessage.ClassINET && q.Class != dnsmessage.ClassANY) {
		rh.RCode = dnsmessage.RCodeRefused
		return s.pack(rh, &q, nil, edns), true
	}
	rh.Authoritative = true
	var answers []dnsmessage.Resource
	if name != tld {
		hdr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: s.ttl}
		if q.Type == dnsmessage.TypeA || q.Type == dnsmessage.TypeALL {
			ah := hdr
			ah.Type = dnsmessage.TypeA
			answers = append(answers, dnsmessage.Resource{Header: ah, Body: &dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}}})
		}
		if q.Type == dnsmessage.TypeAAAA || q.Type == dnsmessage.TypeALL {
			ah := hdr
			ah.Type = dnsmessage.TypeAAAA
			answers = append(answers, dnsmessage.Resource{Header: ah, Body: &dnsmessage.AAAAResource{AAAA: [16]byte{15: 1}}})
		}
	}
	var soa *dnsmessage.Resource
	if len(answers) == 0 {
		soa = s.soa(tld)
	}
	out := s.packFull(rh, &q, answers, soa, edns)
	if len(out) > maxSize && !edns {
		rh.Truncated = true
		out = s.pack(rh, &q, nil, false)
	}
	return out, true
}

// tldOf returns the managed TLD that name is, or lies under, or "".
func (s *Server) tldOf(name string) string {
	for _, t := range s.tlds {
		if name == t || underTLD(name, t) {
			return t
		}
	}
	return ""
}

// hasOPT reports whether the additional section carries an EDNS OPT record.
func hasOPT(p *dnsmessage.Parser) (bool, error) {
	if err := p.SkipAllAnswers(); err != nil {
		return false, err
	}
	if err := p.SkipAllAuthorities(); err != nil {
		return false, err
	}
	for {
		h, err := p.AdditionalHeader()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if h.Type == dnsmessage.TypeOPT {
			return true, nil
		}
		if err := p.SkipAdditional(); err != nil {
			return false, err
		}
	}
}

// soa is the synthetic SOA record of a NODATA answer; its minimum sets the
// negative-caching TTL (RFC 2308) to the server's TTL.
func (s *Server) soa(tld string) *dnsmessage.Resource {
	zone := dnsmessage.MustNewName(tld)
	return &dnsmessage.Resource{
		Header: dnsmessage.ResourceHeader{Name: zone, Type: dnsmessage.TypeSOA, Class: dnsmessage.ClassINET, TTL: s.ttl},
		Body: &dnsmessage.SOAResource{
			NS: zone, MBox: dnsmessage.MustNewName("devport." + tld),
			Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, MinTTL: s.ttl,
		},
	}
}

func (s *Server) pack(h dnsmessage.Header, q *dnsmessage.Question, answers []dnsmessage.Resource, edns bool) []byte {
	return s.packFull(h, q, answers, nil, edns)
}

func (s *Server) packFull(h dnsmessage.Header, q *dnsmessage.Question, answers []dnsmessage.Resource, soa *dnsmessage.Resource, edns bool) []byte {
	msg := dnsmessage.Message{Header: h, Answers: answers}
	if q != nil {
		msg.Questions = []dnsmessage.Question{*q}
	}
	if soa != nil {
		msg.Authorities = []dnsmessage.Resource{*soa}
	}
	if edns {
		var opt dnsmessage.ResourceHeader
		if err := opt.SetEDNS0(ednsSize, dnsmessage.RCodeSuccess, false); err == nil {
			msg.Additionals = []dnsmessage.Resource{{Header: opt, Body: &dnsmessage.OPTResource{}}}
		}
	}
	out, err := msg.Pack()
	if err != nil {
		// Only a question name the parser accepted but the builder
		// refuses can get here: answer without it.
		msg = dnsmessage.Message{Header: dnsmessage.Header{ID: h.ID, Response: true, RCode: dnsmessage.RCodeFormatError}}
		out, _ = msg.Pack()
	}
	return out
}
