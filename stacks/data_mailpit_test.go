//go:build unix

package stacks

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/smtp"
	"strconv"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/testenv"
)

// TestMailpit starts a private Mailpit under the supervisor, sends it a
// message over SMTP (with a login, as apps configured for a real server
// do), reads it back from the API on the upstream, and finds it again
// after a restart.
func TestMailpit(t *testing.T) {
	requireStack(t, stackdef.Mailpit)
	testenv.Tool(t, "mailpit")
	spec := dataSpec(t, stackdef.Mailpit)
	spec.Database, spec.User, spec.Password = "", "", ""
	sup, err := testSupervisor()
	if err != nil {
		t.Fatal(err)
	}
	spec.Supervisor = sup
	r := newData(t, spec)
	stopData(t, r)
	var up Upstream
	subjects := func(t *testing.T) []string {
		t.Helper()
		status, body := get(t, up, "/api/v1/messages", nil)
		if status != http.StatusOK {
			t.Fatalf("GET /api/v1/messages: %d %s", status, body)
		}
		var list struct {
			Messages []struct{ Subject string }
		}
		if err := json.Unmarshal([]byte(body), &list); err != nil {
			t.Fatalf("messages: %v: %s", err, body)
		}
		var out []string
		for _, m := range list.Messages {
			out = append(out, m.Subject)
		}
		return out
	}
	smtpAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(spec.Port))
	runSteps(t, []step{
		{"start, send over SMTP, read it from the API", func(t *testing.T) {
			began := time.Now()
			up = startData(t, r)
			t.Logf("start took %s; UI on %s", time.Since(began).Round(time.Millisecond), up)
			if host, _, _ := net.SplitHostPort(up.Address); up.Network != "tcp" || host != "127.0.0.1" || up.Address == smtpAddr {
				t.Errorf("upstream %v, want the UI on another loopback port", up)
			}
			msg := "From: shop@example.test\r\nTo: ann@example.test\r\nSubject: Your order\r\n\r\nThree apples.\r\n"
			auth := smtp.PlainAuth("", "app", "secret", "127.0.0.1")
			if err := smtp.SendMail(smtpAddr, auth, "shop@example.test", []string{"ann@example.test"}, []byte(msg)); err != nil {
				t.Fatalf("SendMail: %v", err)
			}
			waitSubjects(t, subjects, "[Your order]")
			if status, _ := get(t, up, "/", nil); status != http.StatusOK {
				t.Errorf("the web UI answered %d", status)
			}
		}},
		{"the messages survive a restart", func(t *testing.T) {
			restartData(t, r)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			var err error
			if up, err = r.Start(ctx); err != nil { // running: its upstream
				t.Fatal(err)
			}
			waitSubjects(t, subjects, "[Your order]")
		}},
	})
}

// waitSubjects waits a moment for the API to list want: Mailpit stores a
// message just after the SMTP session ends.
func waitSubjects(t *testing.T, subjects func(*testing.T) []string, want string) {
	t.Helper()
	var got []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got = subjects(t); fmt.Sprint(got) == want {
			return
		}
	}
	t.Errorf("subjects %v, want %s", got, want)
}
