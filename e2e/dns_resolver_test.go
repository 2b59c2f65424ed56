package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// TestDNSResolver turns on the engine's DNS responder and asks it with
// dig, a real DNS client: loopback for the managed TLDs, REFUSED (never a
// forward) for anything else.
func TestDNSResolver(t *testing.T) {
	testenv.Need(t, "dig (bind9-dnsutils)", testenv.Have("dig"), testenv.InstallFix)
	e := newEnv(t)
	e.mustRun("add", "--name", "ext", "--domain", "ext.test", "--proxy", "http://127.0.0.1:9")

	t.Run("without systemd-resolved it says what to use instead", func(t *testing.T) {
		if fileExists("/run/systemd/system") {
			t.Skip("systemd runs here: split DNS may well be available")
		}
		r := e.run("dns", "resolver")
		if r.code == 0 || !strings.Contains(r.stderr, "use devport dns hosts") || !strings.Contains(r.stderr, "--responder-only") {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
	})

	dnsPort := freePort(t)
	out := e.mustRun("dns", "resolver", "--responder-only", "--port", fmt.Sprint(dnsPort))
	if !strings.Contains(out, fmt.Sprintf("127.0.0.1:%d", dnsPort)) {
		t.Errorf("dns resolver: %s", out)
	}
	g := e.serve("--https-port", fmt.Sprint(freePort(t)), "--http-port", fmt.Sprint(freePort(t)))
	if !strings.Contains(g.output(), "answering DNS for .test, .localhost on 127.0.0.1:") {
		t.Errorf("engine output:\n%s", g.output())
	}
	dig := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("dig", append([]string{"@127.0.0.1", "-p", fmt.Sprint(dnsPort), "+tries=1", "+time=2"}, args...)...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("dig %v: %v\n%s", args, err, b)
		}
		return string(b)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"A for a project", []string{"+short", "ext.test", "A"}, "127.0.0.1"},
		{"AAAA for a project", []string{"+short", "ext.test", "AAAA"}, "::1"},
		{"A for any name under the TLD", []string{"+short", "api.new.test", "A"}, "127.0.0.1"},
		{"over TCP", []string{"+tcp", "+short", "ext.test", "A"}, "127.0.0.1"},
		{"outside the TLDs is refused", []string{"example.com", "A"}, "status: REFUSED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := dig(tc.args...); !strings.Contains(got, tc.want) {
				t.Errorf("dig %v: want %q in\n%s", tc.args, tc.want, got)
			}
		})
	}
	var st struct{ Method string }
	if err := json.Unmarshal([]byte(e.mustRun("dns", "status", "--json")), &st); err != nil || st.Method != "resolver" {
		t.Errorf("dns status: %+v %v", st, err)
	}
	if err := g.stop(t); err != nil {
		t.Errorf("engine exit: %v\n%s", err, g.output())
	}
	if hosts, _ := os.ReadFile("/etc/hosts"); strings.Contains(string(hosts), "BEGIN devport") {
		t.Errorf("the resolver method wrote /etc/hosts")
	}
	e.mustRun("dns", "off")
}
