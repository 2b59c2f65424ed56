package certs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/smallstep/truststore"
)

// Store names used in StoreResult.Store.
const (
	StoreSystem = "system"
	StoreNSS    = "nss"
	StoreJava   = "java"
)

// TrustOptions selects the trust stores Trust, Untrust and TrustStatus
// work on.
type TrustOptions struct {
	// System is the operating system's store: on Debian the anchor in
	// /usr/local/share/ca-certificates and the bundle that curl, Python and
	// Go read. Changing it needs root.
	System bool
	// NSS is Chromium's <Home>/.pki/nssdb (created when missing; Chromium on
	// Linux reads only NSS) and every Firefox profile that has a database.
	// It works as the user who owns Home.
	NSS bool
	// Java is the system Java keystore (/etc/ssl/certs/java/cacerts on
	// Debian), which Java tools read instead of the system store.
	Java bool
	// Home is the home directory holding the NSS databases; default
	// os.UserHomeDir().
	Home string
}

// StoreResult is the outcome for one trust store (one NSS database each).
type StoreResult struct {
	Store    string // StoreSystem, StoreNSS or StoreJava
	Location string // anchor file or database directory
	Trusted  bool   // the CA is trusted there now (checked, not assumed)
	Detail   string // what was done or what to do, for the user
	Err      error  // nil when the store is in the wanted state
}

// Report is one StoreResult per store; String renders one line each.
type Report []StoreResult

// state is the word String shows for a result.
func (s StoreResult) state() string {
	var missing *MissingToolError
	switch {
	case s.Trusted:
		return "trusted"
	case errors.As(s.Err, &missing), errors.Is(s.Err, ErrNotSupported):
		return "skipped"
	case s.Err != nil:
		return "failed"
	default:
		return "not trusted"
	}
}

// String renders one line per store, e.g.
//
//	system  trusted  /usr/local/share/ca-certificates/devport_local_CA_....crt
//	nss  skipped  certutil not found: apt-get install libnss3-tools
func (r Report) String() string {
	lines := make([]string, 0, len(r))
	for _, s := range r {
		state := s.state()
		fields := []string{s.Store, state}
		if state != "skipped" && s.Location != "" {
			fields = append(fields, s.Location)
		}
		if s.Detail != "" {
			fields = append(fields, s.Detail)
		}
		if s.Err != nil && state != "skipped" {
			msg := strings.Join(strings.Fields(strings.ReplaceAll(s.Err.Error(), "\n", " | ")), " ")
			fields = append(fields, "error: "+msg)
		}
		lines = append(lines, strings.Join(fields, "  "))
	}
	return strings.Join(lines, "\n")
}

// err joins the errors of all results, each prefixed with its store.
func (r Report) err() error {
	var errs []error
	for _, s := range r {
		if s.Err != nil {
			errs = append(errs, fmt.Errorf("%s trust store %s: %w", s.Store, s.Location, s.Err))
		}
	}
	return errors.Join(errs...)
}

// Trust adds the root to the selected stores. Stores that already trust it
// are left alone. The Report always has a result per selected store; the
// error joins the failures (a missing certutil counts: NSS is not trusted).
func (a *Authority) Trust(ctx context.Context, o TrustOptions) (Report, error) {
	a.trustMu.Lock()
	defer a.trustMu.Unlock()
	var r Report
	if o.System {
		r = append(r, a.trustSystem(ctx))
	}
	if o.NSS {
		r = append(r, a.trustNSS(ctx, o.Home)...)
	}
	if o.Java {
		r = append(r, a.trustJava(ctx))
	}
	return r, r.err()
}

// Untrust removes the root from the selected stores, including what
// truststore.Uninstall leaves behind on Debian (dangling links in
// /etc/ssl/certs, the Java keystore entry). A result is Trusted only if the
// CA is still found after removal.
func (a *Authority) Untrust(ctx context.Context, o TrustOptions) (Report, error) {
	a.trustMu.Lock()
	defer a.trustMu.Unlock()
	var r Report
	if o.System {
		r = append(r, a.untrustSystem(ctx))
	}
	if o.NSS {
		r = append(r, a.untrustNSS(ctx, o.Home)...)
	}
	if o.Java {
		r = append(r, a.untrustJava(ctx))
	}
	return r, r.err()
}

// TrustStatus checks each selected store for the root: the system anchor
// file and bundle, and each NSS database through certutil.
func (a *Authority) TrustStatus(ctx context.Context, o TrustOptions) Report {
	var r Report
	if o.System {
		r = append(r, a.systemStatus(ctx))
	}
	if o.NSS {
		r = append(r, a.statusNSS(ctx, o.Home)...)
	}
	if o.Java {
		r = append(r, a.javaStatus(ctx))
	}
	return r
}

// storeName is the name truststore derives from the CA (its uniqueName):
// the CN and the decimal serial. It names the system anchor file (spaces
// become underscores) and is the nickname in NSS databases.
func (a *Authority) storeName() string {
	return a.cert.Subject.CommonName + " " + a.cert.SerialNumber.String()
}

// canElevate reports whether changing the system store can work: as root,
// or through sudo, which truststore uses whenever it is on PATH.
func canElevate() bool {
	if os.Geteuid() == 0 {
		return true
	}
	_, err := exec.LookPath("sudo")
	return err == nil
}

// truststoreErr turns truststore's CmdError into a CommandError that keeps
// the command's output.
func truststoreErr(err error) error {
	var ce *truststore.CmdError
	if errors.As(err, &ce) {
		return &CommandError{Args: ce.Cmd().Args, Output: tail(ce.Out(), 5), Err: ce.Err()}
	}
	if errors.Is(err, truststore.ErrNotSupported) || errors.Is(err, truststore.ErrTrustNotSupported) {
		return fmt.Errorf("%w: %w", ErrNotSupported, err)
	}
	return err
}

// run executes a helper command and returns its combined output; a failure
// is a *CommandError with the tail of the output.
func run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	// Keep helper output in English so it can be parsed.
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, &CommandError{Args: args, Output: tail(out, 5), Err: err}
	}
	return out, nil
}

// trustSystem installs the root into the OS store through truststore,
// unless it is there already, and checks the result for real.
func (a *Authority) trustSystem(ctx context.Context) StoreResult {
	res := a.systemStatus(ctx)
	if res.Err != nil {
		return res
	}
	if res.Trusted {
		res.Detail = "already trusted"
		return res
	}
	if !canElevate() {
		res.Err, res.Detail = ErrNeedsRoot, "run as root, e.g. sudo devport trust"
		return res
	}
	if err := ctx.Err(); err != nil {
		res.Err = err
		return res
	}
	// truststore.Install with no options touches only the system store:
	// NSS and Java are opt-in (WithFirefox, WithJava). It cannot be
	// cancelled; on Debian it runs tee and update-ca-certificates.
	if err := truststore.Install(a.cert); err != nil {
		res.Err = truststoreErr(err)
		return res
	}
	res = a.systemStatus(ctx)
	if res.Err == nil && !res.Trusted {
		res.Err = errors.New("installed, but the system store does not hold it")
	}
	if res.Err == nil {
		res.Detail = "added"
	}
	return res
}
