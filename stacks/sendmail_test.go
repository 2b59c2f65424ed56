package stacks

import (
	"bufio"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// smtpSink accepts one SMTP session on a loopback port and records the
// envelope and the data; the test reads it after the client is done.
type smtpSink struct {
	addr  string
	rcpts []string
	from  string
	data  string
	done  chan struct{}
}

func newSMTPSink(t *testing.T) *smtpSink {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	s := &smtpSink{addr: l.Addr().String(), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		say := func(line string) { c.Write([]byte(line + "\r\n")) }
		say("220 sink")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			cmd := strings.TrimRight(line, "\r\n")
			switch up := strings.ToUpper(cmd); {
			case strings.HasPrefix(up, "MAIL FROM:"):
				s.from = cmd[len("MAIL FROM:"):]
				say("250 ok")
			case strings.HasPrefix(up, "RCPT TO:"):
				s.rcpts = append(s.rcpts, cmd[len("RCPT TO:"):])
				say("250 ok")
			case up == "DATA":
				say("354 go on")
				var b strings.Builder
				for {
					l, err := r.ReadString('\n')
					if err != nil || l == ".\r\n" {
						break
					}
					b.WriteString(l)
				}
				s.data = b.String()
				say("250 queued")
			case up == "QUIT":
				say("221 bye")
				return
			default:
				say("250 hello")
			}
		}
	}()
	return s
}

// TestPHPSendmail runs PHPSendmail as PHP's mail() runs sendmail_path, with
// the real php command, against an SMTP sink.
func TestPHPSendmail(t *testing.T) {
	testenv.Tool(t, "php")
	sink := newSMTPSink(t)
	host, port, _ := net.SplitHostPort(sink.addr)
	msg := "To: Ann <ann@example.test>, bob@example.test\nSubject: hi\nBcc: eve@example.test\nFrom: shop <shop@example.test>\n\nline one\n.dot line\n"
	cmd := exec.Command("sh", "-c", PHPSendmail)
	cmd.Env = append(cmd.Environ(), "MAIL_HOST="+host, "MAIL_PORT="+port)
	cmd.Stdin = strings.NewReader(msg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sendmail: %v\n%s", err, out)
	}
	<-sink.done
	if got, want := strings.Join(sink.rcpts, " "), "<ann@example.test> <bob@example.test> <eve@example.test>"; got != want {
		t.Errorf("recipients %q, want %q", got, want)
	}
	if sink.from != "<shop@example.test>" {
		t.Errorf("MAIL FROM %q", sink.from)
	}
	for _, want := range []string{"Subject: hi\r\n", "\r\nline one\r\n..dot line\r\n"} {
		if !strings.Contains(sink.data, want) {
			t.Errorf("data lacks %q:\n%s", want, sink.data)
		}
	}
	if strings.Contains(sink.data, "Bcc") {
		t.Errorf("the Bcc header went out:\n%s", sink.data)
	}

	t.Run("no server", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		_, port, _ := net.SplitHostPort(l.Addr().String())
		l.Close()
		cmd := exec.Command("sh", "-c", PHPSendmail)
		cmd.Env = append(cmd.Environ(), "MAIL_HOST=127.0.0.1", "MAIL_PORT="+port)
		cmd.Stdin = strings.NewReader("To: a@b.test\n\nx\n")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "cannot reach 127.0.0.1:"+port) {
			t.Fatalf("err %v, output %q: want a failure naming the address", err, out)
		}
	})
}
