package resolve

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
	"golang.org/x/net/dns/dnsmessage"
)

func startServer(t *testing.T, tlds ...string) *Server {
	t.Helper()
	s, err := NewServer(Config{Addr: "127.0.0.1:0", TLDs: tlds})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s
}

// goResolver is Go's own DNS client, forced onto network ("udp" or "tcp")
// and onto the test server.
func goResolver(addr, network string) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
}

func TestServerGoResolver(t *testing.T) {
	s := startServer(t, "test", ".example.")
	for _, network := range []string{"udp", "tcp"} {
		r := goResolver(s.Addr(), network)
		tests := []struct {
			name    string
			lookup  func(ctx context.Context) ([]string, error)
			want    []string
			wantErr bool
		}{
			{
				name: "A and AAAA under the TLD",
				lookup: func(ctx context.Context) ([]string, error) {
					return r.LookupHost(ctx, "shop.test")
				},
				want: []string{"127.0.0.1", "::1"},
			},
			{
				name: "deep name, mixed case, second TLD",
				lookup: func(ctx context.Context) ([]string, error) {
					return r.LookupHost(ctx, "API.Shop.Example")
				},
				want: []string{"127.0.0.1", "::1"},
			},
			{
				name: "only A",
				lookup: func(ctx context.Context) ([]string, error) {
					ips, err := r.LookupIP(ctx, "ip4", "shop.test")
					return ipStrings(ips), err
				},
				want: []string{"127.0.0.1"},
			},
			{
				name: "only AAAA",
				lookup: func(ctx context.Context) ([]string, error) {
					ips, err := r.LookupIP(ctx, "ip6", "shop.test")
					return ipStrings(ips), err
				},
				want: []string{"::1"},
			},
			{
				name: "TXT under the TLD is NODATA",
				lookup: func(ctx context.Context) ([]string, error) {
					return r.LookupTXT(ctx, "shop.test")
				},
				wantErr: true,
			},
			{
				name: "name outside the TLDs is refused",
				lookup: func(ctx context.Context) ([]string, error) {
					return r.LookupHost(ctx, "devport.invalid")
				},
				wantErr: true,
			},
			{
				name: "a name that merely ends in the TLD's letters is outside",
				lookup: func(ctx context.Context) ([]string, error) {
					return r.LookupHost(ctx, "shop.latest")
				},
				wantErr: true,
			},
		}
		for _, tc := range tests {
			t.Run(network+"/"+tc.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				got, err := tc.lookup(ctx)
				if tc.wantErr {
					if err == nil || len(got) != 0 {
						t.Fatalf("got %v, %v; want an error and nothing", got, err)
					}
					return
				}
				slices.Sort(got)
				if err != nil || !slices.Equal(got, tc.want) {
					t.Fatalf("got %v, %v; want %v", got, err, tc.want)
				}
			})
		}
	}
}

func ipStrings(ips []net.IP) []string {
	var out []string
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}

var digStatus = regexp.MustCompile(`status: (\w+)`)
var digFlags = regexp.MustCompile(`flags: ([a-z ]+);`)

// dig queries the server with Debian's dig and returns the status, the
// header flags and the answer records as "TYPE DATA".
func dig(t *testing.T, addr string, args ...string) (status, flags string, answers []string, authority int) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	argv := append([]string{"@" + host, "-p", port, "+tries=1", "+time=2", "+noall", "+comments", "+answer", "+authority"}, args...)
	out, err := exec.CommandContext(ctx, "dig", argv...).CombinedOutput()
	if err != nil {
		t.Fatalf("dig %s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	text := string(out)
	if m := digStatus.FindStringSubmatch(text); m != nil {
		status = m[1]
	}
	if m := digFlags.FindStringSubmatch(text); m != nil {
		flags = m[1]
	}
	section := ""
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, ";; ANSWER SECTION"):
			section = "answer"
		case strings.HasPrefix(line, ";; AUTHORITY SECTION"):
			section = "authority"
		case strings.HasPrefix(line, ";"), strings.TrimSpace(line) == "":
		default:
			f := strings.Fields(line)
			if section == "answer" && len(f) >= 5 {
				answers = append(answers, f[3]+" "+f[4])
			}
			if section == "authority" {
				authority++
			}
		}
	}
	return status, flags, answers, authority
}

func TestServerDig(t *testing.T) {
	if !testenv.Have("dig") {
		testenv.Need(t, "dig (bind9-dnsutils)", false, testenv.InstallFix)
	}
	s := startServer(t, "test")
	tests := []struct {
		name          string
		args          []string
		wantStatus    string
		wantAnswers   []string
		wantAuthority int
	}{
		{"A", []string{"shop.test", "A"}, "NOERROR", []string{"A 127.0.0.1"}, 0},
		{"AAAA", []string{"shop.test", "AAAA"}, "NOERROR", []string{"AAAA ::1"}, 0},
		{"ANY", []string{"shop.test", "ANY"}, "NOERROR", []string{"A 127.0.0.1", "AAAA ::1"}, 0},
		{"TXT is NODATA with an SOA", []string{"shop.test", "TXT"}, "NOERROR", nil, 1},
		{"MX is NODATA", []string{"a.b.shop.test", "MX"}, "NOERROR", nil, 1},
		{"the TLD itself has no address", []string{"test", "A"}, "NOERROR", nil, 1},
		{"outside the TLD is REFUSED", []string{"example.com", "A"}, "REFUSED", nil, 0},
		{"outside, no EDNS", []string{"+noedns", "example.com", "AAAA"}, "REFUSED", nil, 0},
		{"CHAOS class is REFUSED", []string{"-c", "CH", "version.bind", "TXT"}, "REFUSED", nil, 0},
		{"without EDNS", []string{"+noedns", "shop.test", "A"}, "NOERROR", []string{"A 127.0.0.1"}, 0},
	}
	for _, transport := range []string{"udp", "tcp"} {
		for _, tc := range tests {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				args := tc.args
				if transport == "tcp" {
					args = append([]string{"+tcp"}, args...)
				}
				status, flags, answers, authority := dig(t, s.Addr(), args...)
				if status != tc.wantStatus || !slices.Equal(answers, tc.wantAnswers) || authority != tc.wantAuthority {
					t.Fatalf("dig %v = %s %v (authority %d); want %s %v (authority %d)", args, status, answers, authority, tc.wantStatus, tc.wantAnswers, tc.wantAuthority)
				}
				if tc.wantStatus == "NOERROR" && !strings.Contains(flags, "aa") {
					t.Errorf("flags %q: want aa (authoritative)", flags)
				}
				if strings.Contains(flags, "ra") {
					t.Errorf("flags %q: the server must not claim recursion", flags)
				}
			})
		}
	}
}

// query sends one raw packet over UDP and returns the reply, or nil when
// none comes within timeout.
func query(t *testing.T, addr string, pkt []byte, timeout time.Duration) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(pkt); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func packQuery(t *testing.T, id uint16, name string, typ dnsmessage.Type) []byte {
	t.Helper()
	msg := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET}},
	}
	b, err := msg.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestServerMalformed(t *testing.T) {
	s := startServer(t, "test")
	good := packQuery(t, 7, "shop.test.", dnsmessage.TypeA)
	twoQuestions := func() []byte {
		msg := dnsmessage.Message{Header: dnsmessage.Header{ID: 9}, Questions: []dnsmessage.Question{
			{Name: dnsmessage.MustNewName("a.test."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET},
			{Name: dnsmessage.MustNewName("b.test."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET},
		}}
		b, _ := msg.Pack()
		return b
	}()
	response := slices.Clone(good)
	response[2] |= 0x80 // QR: a response, which must never be answered (no loops)
	notify := slices.Clone(good)
	notify[2] |= 4 << 3 // opcode NOTIFY

	tests := []struct {
		name      string
		pkt       []byte
		wantReply bool
		wantRCode dnsmessage.RCode
	}{
		{"three bytes", []byte{1, 2, 3}, false, 0},
		{"empty", []byte{}, false, 0},
		{"header and garbage", append([]byte{0, 42, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}, 0xff, 0xfe, 0xfd), true, dnsmessage.RCodeFormatError},
		{"header claims a question it lacks", []byte{0, 43, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}, true, dnsmessage.RCodeFormatError},
		{"no question", []byte{0, 44, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, true, dnsmessage.RCodeFormatError},
		{"two questions", twoQuestions, true, dnsmessage.RCodeFormatError},
		{"a response", response, false, 0},
		{"truncated question", good[:len(good)-3], true, dnsmessage.RCodeFormatError},
		{"opcode NOTIFY", notify, true, dnsmessage.RCodeNotImplemented},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			timeout := time.Second
			if !tc.wantReply {
				timeout = 200 * time.Millisecond
			}
			reply := query(t, s.Addr(), tc.pkt, timeout)
			if !tc.wantReply {
				if reply != nil {
					t.Fatalf("got a reply %x, want none", reply)
				}
			} else {
				var p dnsmessage.Parser
				h, err := p.Start(reply)
				if err != nil {
					t.Fatalf("reply %x: %v", reply, err)
				}
				if h.RCode != tc.wantRCode || !h.Response || h.ID != binary.BigEndian.Uint16(tc.pkt) {
					t.Fatalf("reply header %+v, want rcode %v for id %d", h, tc.wantRCode, binary.BigEndian.Uint16(tc.pkt))
				}
			}
			// The server is still up and answers a good query.
			var p dnsmessage.Parser
			h, err := p.Start(query(t, s.Addr(), good, 2*time.Second))
			if err != nil || h.RCode != dnsmessage.RCodeSuccess {
				t.Fatalf("good query after %s: %+v, %v", tc.name, h, err)
			}
		})
	}

	t.Run("tcp garbage then a good query", func(t *testing.T) {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		// A length prefix promising more than is sent, then close: the
		// server must give up on that connection only.
		if _, err := c.Write([]byte{0xff, 0xff, 1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if got, err := goResolver(s.Addr(), "tcp").LookupHost(ctx, "shop.test"); err != nil || len(got) != 2 {
			t.Fatalf("after garbage: %v, %v", got, err)
		}
	})
}

func TestServerLifecycle(t *testing.T) {
	ctx := context.Background()
	t.Run("config errors", func(t *testing.T) {
		for _, cfg := range []Config{
			{Addr: "127.0.0.1:0"},
			{Addr: "0.0.0.0:0", TLDs: []string{"test"}},
			{Addr: "192.0.2.1:53", TLDs: []string{"test"}},
			{Addr: "localhost", TLDs: []string{"test"}},
			{Addr: "127.0.0.1:0", TLDs: []string{"bad tld"}},
		} {
			if _, err := NewServer(cfg); err == nil {
				t.Errorf("NewServer(%+v) accepted it", cfg)
			}
		}
	})
	t.Run("shutdown before start and twice", func(t *testing.T) {
		s, err := NewServer(Config{TLDs: []string{"test"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if s.Addr() != "" {
			t.Fatalf("Addr before Start = %q", s.Addr())
		}
	})
	t.Run("stops answering and closes idle TCP connections", func(t *testing.T) {
		s, err := NewServer(Config{TLDs: []string{"test"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ctx); err == nil {
			t.Fatal("second Start succeeded")
		}
		addr := s.Addr()
		idle, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer idle.Close()
		time.Sleep(50 * time.Millisecond) // let the server accept it
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := s.Shutdown(sctx); err != nil {
			t.Fatalf("Shutdown with an idle TCP client: %v", err)
		}
		_ = idle.SetReadDeadline(time.Now().Add(time.Second))
		_, err = idle.Read(make([]byte, 1))
		var ne net.Error
		if err == nil || errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("idle connection still open after Shutdown: read gave %v, want EOF", err)
		}
		if reply := query(t, addr, packQuery(t, 1, "shop.test.", dnsmessage.TypeA), 200*time.Millisecond); reply != nil {
			t.Fatal("answered after Shutdown")
		}
		if err := s.Shutdown(ctx); err != nil {
			t.Fatalf("second Shutdown: %v", err)
		}
	})
	t.Run("IPv6 loopback and a custom TTL", func(t *testing.T) {
		s, err := NewServer(Config{Addr: "[::1]:0", TLDs: []string{"test"}, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ctx); err != nil {
			testenv.Need(t, "IPv6 loopback ("+err.Error()+")", false, testenv.InstallFix)
		}
		defer s.Shutdown(ctx)
		reply := query(t, s.Addr(), packQuery(t, 3, "x.test.", dnsmessage.TypeAAAA), time.Second)
		var m dnsmessage.Message
		if err := m.Unpack(reply); err != nil || len(m.Answers) != 1 || m.Answers[0].Header.TTL != 60 {
			t.Fatalf("reply %+v, %v; want one answer with TTL 60", m, err)
		}
	})
}

// FuzzAnswer feeds arbitrary packets to the responder: it must not panic,
// and every reply must be a well-formed DNS response.
func FuzzAnswer(f *testing.F) {
	s, err := NewServer(Config{TLDs: []string{"test"}})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{
		{}, {0}, {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0},
		{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 4, 's', 'h', 'o', 'p', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1, 0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		resp, ok := s.answer(pkt, 512)
		if !ok {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(resp)
		if err != nil || !h.Response {
			t.Fatalf("reply to %x is not a response: %x, %v", pkt, resp, err)
		}
	})
}
