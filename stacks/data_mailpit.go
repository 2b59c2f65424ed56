package stacks

import (
	"bufio"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// mailpit is the mailpit stack in the process runtime:
//
//	mailpit --listen 127.0.0.1:UIPORT --smtp 127.0.0.1:Port
//	  --database DataDir/mailpit.db --disable-version-check ...
//
// It keeps every message the app sends to Port, and shows them in its web
// UI and API on UIPORT, a free loopback port chosen at each start: Start's
// Upstream, which the proxy routes mail.DOMAIN to. SMTP accepts any login,
// as apps configured for a real server send one (DDEV does the same), and
// nothing reaches out: no version check, no reverse DNS of clients. Ready
// once the API answers 200 on /readyz and the SMTP port greets as Mailpit.
type mailpit struct {
	spec  Spec
	tools toolchain
	// freePort picks the UI port of an attempt (a test hands out a taken
	// one).
	freePort func(ctx context.Context, attempt int) (int, error)

	mu     sync.Mutex
	uiPort int // of the last attempt
}

func newMailpit(spec Spec, tools toolchain) *mailpit {
	return &mailpit{spec: spec, tools: tools, freePort: loopbackPort}
}

// mailpit finds the mailpit binary: it is no Debian package, so the
// missing error names the go install line.
func (t toolchain) mailpit() (string, error) {
	p, err := t.findData("mailpit", "")
	if err != nil {
		return "", &hintError{msg: "mailpit is not installed: " + mailpitInstall + " (or use --runtime container)", err: err}
	}
	return p, nil
}

var mailpitVersionRe = regexp.MustCompile(`v(\d+\.\d+(?:\.\d+)*)`)

// mailpitVersion reads the module version go install recorded in the
// binary, or, for a release build, `mailpit version --no-release-check`
// (plain `mailpit version` asks GitHub).
func mailpitVersion(bin string) ([]hostVersion, error) {
	if bi, err := buildinfo.ReadFile(bin); err == nil {
		if m := mailpitVersionRe.FindStringSubmatch(bi.Main.Version); m != nil {
			return []hostVersion{{short: shortVersion(m[1], 2), full: m[1], bin: bin}}, nil
		}
	}
	return versionOf(bin, []string{"version", "--no-release-check"}, mailpitVersionRe, 2)
}

func (m *mailpit) prepare(ctx context.Context, attempt int) (launch, error) {
	bin, err := m.tools.mailpit()
	if err != nil {
		return launch{}, err
	}
	have, err := mailpitVersion(bin)
	if err != nil {
		return launch{}, err
	}
	if _, err := pickVersion(m.spec.Stack, m.spec.Version, have); err != nil {
		return launch{}, err
	}
	if err := portFree(ctx, m.spec); err != nil {
		return launch{}, err
	}
	ui, err := m.freePort(ctx, attempt)
	if err != nil {
		return launch{}, fmt.Errorf("choose a port for mailpit's UI: %w", err)
	}
	m.mu.Lock()
	m.uiPort = ui
	m.mu.Unlock()
	if err := dataFolders(m.spec, nil, ""); err != nil {
		return launch{}, err
	}
	uiAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ui))
	smtpAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(m.spec.Port))
	return launch{
		path: bin,
		args: []string{
			"--listen", uiAddr,
			"--smtp", smtpAddr,
			"--database", filepath.Join(m.spec.DataDir, "mailpit.db"),
			"--disable-version-check",
			"--smtp-disable-rdns",
			"--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
		},
		dir:      m.spec.RunDir,
		env:      append(os.Environ(), m.spec.Env...),
		upstream: Upstream{Network: "tcp", Address: uiAddr},
		ready:    func(ctx context.Context) error { return mailpitReady(ctx, uiAddr, smtpAddr) },
	}, nil
}

// retry: the UI port, chosen a moment before mailpit binds it, was taken
// in between; the SMTP port is the service's own.
func (m *mailpit) retry(se *StartError) bool {
	m.mu.Lock()
	ui := ":" + strconv.Itoa(m.uiPort)
	m.mu.Unlock()
	for _, l := range se.Tail {
		if strings.Contains(l, ui) && strings.Contains(strings.ToLower(l), "address already in use") {
			return true
		}
	}
	return false
}

// cleanup: mailpit leaves nothing in the run folder.
func (m *mailpit) cleanup() {}

// mailpitReady wants 200 from the API's /readyz and Mailpit's greeting on
// the SMTP port: Mailpit serves its UI before it binds SMTP, and exits
// when that fails.
func mailpitReady(ctx context.Context, uiAddr, smtpAddr string) error {
	ctx, cancel := context.WithTimeout(ctx, clientTimeout)
	defer cancel()
	c := probeClient(Upstream{Network: "tcp", Address: uiAddr})
	defer c.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+uiAddr+"/readyz", nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", probeUserAgent)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz: %s", resp.Status)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", smtpAddr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	greeting, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read SMTP greeting: %w", err)
	}
	if !strings.HasPrefix(greeting, "220") || !strings.Contains(greeting, "Mailpit") {
		return errors.New("SMTP greeting is not Mailpit's: " + strings.TrimSpace(greeting))
	}
	_, _ = conn.Write([]byte("QUIT\r\n"))
	return nil
}
