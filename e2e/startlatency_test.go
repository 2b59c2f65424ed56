package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// TestStartLatency measures, for the PHP example as a process and as a
// container (image present), the time from `devport start` to the first
// 200 through the proxy over HTTPS. It only runs under DEVPORT_BENCH=1
// (make bench-runtimes); the targets on the reference machine are under
// 150 ms for the process and under 600 ms for the container.
func TestStartLatency(t *testing.T) {
	if os.Getenv("DEVPORT_BENCH") != "1" {
		t.Skip("a benchmark: run it with DEVPORT_BENCH=1 (make bench-runtimes)")
	}
	testenv.Need(t, "apache2 (the process runtime)", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	needDocker(t)
	runs := 7
	e := newEnv(t)
	t.Cleanup(e.removeHomeDocker)
	dir := e.copyExample("php-shop", "shop")
	e.mustRun("add", dir, "--name", "proc")
	e.mustRun("add", dir, "--name", "ctr", "--runtime", "container", "--image", phpImage)
	httpsPort, httpPort := freePort(t), freePort(t)
	g := e.serve("--https-port", fmt.Sprint(httpsPort), "--http-port", fmt.Sprint(httpPort))
	defer g.stop(t)

	pool := x509.NewCertPool()
	ca, err := os.ReadFile(strings.TrimSpace(e.mustRun("ca")))
	if err != nil || !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("read CA: %v", err)
	}
	firstOK := func(host string, deadline time.Duration) error {
		tr := &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: host},
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", httpsPort))
			},
			DisableKeepAlives: true,
		}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		end := time.Now().Add(deadline)
		for {
			resp, err := c.Get("https://" + host + "/")
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return nil
				}
				err = fmt.Errorf("status %s", resp.Status)
			}
			if time.Now().After(end) {
				return err
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for _, tc := range []struct{ name, project, target string }{
		{"php process", "proc", "150ms"},
		{"php container", "ctr", "600ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ds []time.Duration
			for range runs {
				t0 := time.Now()
				e.mustRun("start", tc.project)
				if err := firstOK(tc.project+".test", 30*time.Second); err != nil {
					t.Fatalf("no 200: %v", err)
				}
				ds = append(ds, time.Since(t0))
				e.mustRun("stop", tc.project)
			}
			slices.Sort(ds)
			target, _ := time.ParseDuration(tc.target)
			verdict := "within"
			if ds[len(ds)/2] > target {
				verdict = "OVER"
			}
			line := fmt.Sprintf("%-14s start -> first 200 via proxy: median %v, min %v, max %v (%d runs; target < %s: %s)",
				tc.name, ds[len(ds)/2].Round(time.Millisecond), ds[0].Round(time.Millisecond),
				ds[len(ds)-1].Round(time.Millisecond), runs, tc.target, verdict)
			t.Log(line)
			fmt.Println(line)
		})
	}
}
