package gui

import (
	"context"
	"os/exec"
	"strings"
	"time"
)

// Tool is a backend tool and the version found on this machine.
type Tool struct {
	Name, Version string // Version is "not found: …" when missing
}

// toolProbes are the commands that print each tool's version.
var toolProbes = []struct {
	name string
	args []string
}{
	{"apache2", []string{"/usr/sbin/apache2", "-v"}},
	{"php", []string{"php", "-v"}},
	{"python", []string{"/usr/bin/python3", "--version"}},
	{"uvicorn", []string{"/usr/bin/python3", "-m", "uvicorn", "--version"}},
}

// DetectTools runs each probe and keeps the first line of its output.
func DetectTools(ctx context.Context) []Tool {
	out := make([]Tool, 0, len(toolProbes))
	for _, p := range toolProbes {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		b, err := exec.CommandContext(cctx, p.args[0], p.args[1:]...).CombinedOutput()
		cancel()
		v := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
		if err != nil {
			v = "not found (" + strings.Join(p.args, " ") + ": " + err.Error() + ")"
		}
		out = append(out, Tool{Name: p.name, Version: v})
	}
	return out
}
