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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// TestSoakAfterPause loads pages the way a browser does: a burst of
// parallel requests, a pause longer than the backend's keep-alive, and
// another burst. Every backend devport runs (Apache with mod_php, uvicorn,
// gunicorn, uWSGI) must answer every request: a 502 here is what users
// met in their first minute, when the proxy reused upstream connections
// the backend had already closed.
func TestSoakAfterPause(t *testing.T) {
	testenv.Tool(t, "apache2")
	testenv.Need(t, "python3-uvicorn and python3-fastapi", haveUvicorn(), testenv.InstallFix)
	testenv.Tool(t, "uwsgi")
	e := newEnv(t)
	sites := []struct{ name, example, stack, want string }{
		{"shop", "php-shop", "", "php-shop says hello"},
		{"api", "fastapi-api", "", "from fastapi-api"},
		{"guni", "fastapi-api", "gunicorn", "from fastapi-api"},
		{"flask", "flask-app", "uwsgi", "from flask-app"},
	}
	var names []string
	for _, s := range sites {
		args := []string{"add", e.copyExample(s.example, s.name), "--name", s.name}
		if s.stack != "" {
			args = append(args, "--stack", s.stack)
		}
		e.mustRun(args...)
		names = append(names, s.name)
	}
	port := freePort(t)
	g := e.serve("--start", strings.Join(names, ","), "--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)))
	defer g.stop(t)

	client := siteClient(t, e, port)
	// One burst of n parallel GETs to every site; it returns the answers
	// that were not a 200 with the page's words.
	burst := func(n int) []string {
		var mu sync.Mutex
		var bad []string
		var wg sync.WaitGroup
		for _, s := range sites {
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					code, body, err := get(client, fmt.Sprintf("https://%s.test:%d/?i=%d", s.name, port, i))
					if err != nil || code != http.StatusOK || !strings.Contains(strings.ToLower(body), strings.ToLower(s.want)) {
						mu.Lock()
						bad = append(bad, fmt.Sprintf("%s #%d: %d %v %.120s", s.name, i, code, err, body))
						mu.Unlock()
					}
				}()
			}
		}
		wg.Wait()
		return bad
	}
	steps := []struct {
		burst int
		pause time.Duration // before the burst
	}{
		{12, 0},
		{12, 7 * time.Second},  // longer than Apache's and uvicorn's default keep-alive (5 s)
		{40, 2 * time.Second},  // gunicorn's default keep-alive
		{40, 16 * time.Second}, // longer than the keep-alive devport gives every backend (15 s)
		{24, 0},
	}
	for i, st := range steps {
		time.Sleep(st.pause)
		began := time.Now()
		bad := burst(st.burst)
		t.Logf("burst %d: %d requests per site after a pause of %v, all answered in %v", i+1, st.burst, st.pause, time.Since(began).Round(time.Millisecond))
		if len(bad) > 0 {
			t.Errorf("burst %d (%d per site, after %v): %d of %d failed:\n%s", i+1, st.burst, st.pause, len(bad), st.burst*len(sites),
				strings.Join(bad, "\n"))
		}
	}
}

// siteClient is an HTTPS client that trusts e's CA and reaches every
// *.test name on 127.0.0.1:port, keeping its own connections alive as a
// browser does.
func siteClient(t *testing.T, e *env, port int) *http.Client {
	t.Helper()
	raw, err := os.ReadFile(strings.TrimSpace(e.mustRun("ca")))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(raw)
	var d net.Dialer
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port))
		},
		MaxIdleConnsPerHost: 64,
		ForceAttemptHTTP2:   true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func get(c *http.Client, url string) (int, string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
