//go:build unix

package stacks

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/testenv"
)

// TestRedis starts a private Redis, writes a key with redis-cli over TCP,
// and finds it again after a restart (the append-only file).
func TestRedis(t *testing.T) {
	requireStack(t, stackdef.Redis)
	cli := testenv.Tool(t, "redis-cli")
	spec := dataSpec(t, stackdef.Redis)
	spec.Database, spec.User, spec.Password = "", "", ""
	r := newData(t, spec)
	stopData(t, r)
	if _, ok := r.(Database); ok {
		t.Error("the redis runner is a Database")
	}
	redisCLI := func(t *testing.T, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, cli, append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(spec.Port)}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %q: %v: %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	runSteps(t, []step{
		{"start, then SET and GET over TCP", func(t *testing.T) {
			began := time.Now()
			up := startData(t, r)
			t.Logf("start took %s", time.Since(began).Round(time.Millisecond))
			if want := (Upstream{Network: "tcp", Address: "127.0.0.1:" + strconv.Itoa(spec.Port)}); up != want {
				t.Errorf("upstream %v, want %v", up, want)
			}
			if got := redisCLI(t, "SET", "cart:1", "three apples"); got != "OK" {
				t.Errorf("SET: %q", got)
			}
			if got := redisCLI(t, "GET", "cart:1"); got != "three apples" {
				t.Errorf("GET: %q", got)
			}
			if got := redisCLI(t, "CONFIG", "GET", "bind"); !strings.HasSuffix(got, "127.0.0.1") {
				t.Errorf("bind: %q", got)
			}
		}},
		{"the data survives a restart", func(t *testing.T) {
			restartData(t, r)
			assertLogSays(t, spec, "ready to exit, bye bye")
			if got := redisCLI(t, "GET", "cart:1"); got != "three apples" {
				t.Errorf("GET after the restart: %q", got)
			}
		}},
	})
}
