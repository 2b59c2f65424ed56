package resolve

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// TestSelfContained holds the package to the standard library and
// dnsmessage: the CLI, doctor and engine import resolve, never the reverse.
func TestSelfContained(t *testing.T) {
	if !testenv.Have("go") {
		t.Skip("no go command to list dependencies")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output(); err != nil || !strings.HasSuffix(strings.TrimSpace(string(gomod)), "go.mod") {
		t.Skip("not inside the devport module (a test binary run elsewhere)")
	}
	out, err := exec.CommandContext(ctx, "go", "list", "-deps", "github.com/devport/devport/resolve").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		first, _, _ := strings.Cut(dep, "/")
		std := !strings.Contains(first, ".")
		if std || dep == "golang.org/x/net/dns/dnsmessage" || dep == "github.com/devport/devport/resolve" {
			continue
		}
		t.Errorf("resolve depends on %s; only the standard library and golang.org/x/net/dns/dnsmessage are allowed", dep)
	}
}
