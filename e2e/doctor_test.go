package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

type check struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Fix    string `json:"fix"`
}

func doctorChecks(t *testing.T, e *env) ([]check, result) {
	t.Helper()
	r := e.run("doctor", "--json")
	var cs []check
	if err := json.Unmarshal([]byte(r.stdout), &cs); err != nil {
		t.Fatalf("doctor --json: %v\n%s\n%s", err, r.stdout, r.stderr)
	}
	return cs, r
}

func findCheck(cs []check, prefix string) (check, bool) {
	for _, c := range cs {
		if strings.HasPrefix(c.Check, prefix) {
			return c, true
		}
	}
	return check{}, false
}

// TestDoctorBroken runs doctor on a fresh install: the CA is in no store
// and the domain resolves nowhere, and each failure must name its fix.
func TestDoctorBroken(t *testing.T) {
	testenv.Need(t, "apache2", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	e := newEnv(t)
	e.mustRun("add", e.copyExample("php-shop", "shop"), "--domain", "doctor-broken.test")
	cs, r := doctorChecks(t, e)
	if r.code == 0 {
		t.Errorf("doctor exited 0 with failing checks:\n%s", r.stdout)
	}
	tests := []struct {
		check   string
		ok      bool
		fixPart string
	}{
		{"data folder", true, ""},
		{"CA key", true, ""},
		{"CA in system store", false, "devport setup"},
		{"CA in nss store", false, "devport setup"},
		{"resolve doctor-broken.test", false, "devport setup"},
		{"stack php (shop)", true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.check, func(t *testing.T) {
			c, ok := findCheck(cs, tc.check)
			if !ok {
				t.Fatalf("no %q check in %+v", tc.check, cs)
			}
			if c.OK != tc.ok || !strings.Contains(c.Fix, tc.fixPart) {
				t.Errorf("got %+v, want ok=%v and a fix containing %q", c, tc.ok, tc.fixPart)
			}
		})
	}
	t.Run("text output gives fixes", func(t *testing.T) {
		r := e.run("doctor")
		if r.code == 0 || !strings.Contains(r.stdout, "FAIL") || !strings.Contains(r.stdout, "fix: devport setup") {
			t.Errorf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}
