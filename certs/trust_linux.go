package certs

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/smallstep/truststore"
)

// Linux system store.
//
// truststore writes the anchor (on Debian /usr/local/share/ca-certificates/
// <name>.crt) and runs update-ca-certificates. Its Uninstall deletes the
// anchor and runs update-ca-certificates again, which on Debian rebuilds the
// bundle but leaves, measured on Debian 12:
//   - /etc/ssl/certs/<name>.pem, a now dangling link to the anchor, and the
//     OpenSSL hash link <hash>.0 pointing at it: update-ca-certificates only
//     removes links for certificates it is told to remove, and cleans orphans
//     only when something else changed;
//   - the entry "debian:<name>.pem" in the Java keystore
//     /etc/ssl/certs/java/cacerts, added by the ca-certificates-java hook,
//     which is only told about added and removed links.
// untrustSystem removes both itself: the links that lead to the deleted
// anchor, and the keystore entries with the CA's fingerprint (keytool).
// `update-ca-certificates --fresh` is no substitute: measured here, it
// removed the links but not the Java entry, and it rewrote the whole Java
// keystore (adding every CA the keystore had been missing).

const (
	etcCertsDir = "/etc/ssl/certs"
	javaCacerts = "/etc/ssl/certs/java/cacerts"
)

// bundles are the system bundles, as in crypto/x509's root_linux.go.
var bundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Gentoo, Arch
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // Fedora, RHEL 7+
	"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL 6
	"/etc/ssl/ca-bundle.pem",                            // openSUSE
	"/etc/pki/tls/cacert.pem",                           // OpenELEC
	"/etc/ssl/cert.pem",                                 // Alpine
}

var firefoxProfiles = []string{
	".mozilla/firefox/*",
	"snap/firefox/common/.mozilla/firefox/*",
}

// certutilHint names the package with certutil on this distribution.
// (Decided by release files, not PATH, which may be minimal.)
func certutilHint() string {
	switch {
	case fileExists("/etc/debian_version"):
		return "apt-get install libnss3-tools"
	case fileExists("/etc/fedora-release"), fileExists("/etc/redhat-release"):
		return "dnf install nss-tools"
	case fileExists("/etc/arch-release"):
		return "pacman -S nss"
	case fileExists("/etc/alpine-release"):
		return "apk add nss-tools"
	default:
		return "install the NSS tools package (certutil)"
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// anchorPath is where truststore puts the CA, "" when it does not know this
// distribution.
func (a *Authority) anchorPath() string {
	if truststore.SystemTrustFilename == "" {
		return ""
	}
	return fmt.Sprintf(truststore.SystemTrustFilename, strings.ReplaceAll(a.storeName(), " ", "_"))
}

// systemState is what the system store holds of the CA.
type systemState struct {
	anchor, bundle     string
	inAnchor, inBundle bool
}

func (a *Authority) probeSystem() (systemState, error) {
	st := systemState{anchor: a.anchorPath()}
	if st.anchor == "" {
		return st, fmt.Errorf("%w: no known CA anchor directory", ErrNotSupported)
	}
	ok, err := exists(st.anchor)
	if err != nil {
		return st, err
	}
	st.inAnchor = ok
	for _, b := range bundles {
		if _, err := os.Stat(b); err == nil {
			st.bundle = b
			break
		}
	}
	if st.bundle == "" {
		return st, fmt.Errorf("%w: no CA bundle found", ErrNotSupported)
	}
	st.inBundle, err = pemFileContains(st.bundle, a.cert)
	return st, err
}

func (a *Authority) systemStatus(context.Context) StoreResult {
	st, err := a.probeSystem()
	res := StoreResult{Store: StoreSystem, Location: st.anchor, Err: err}
	switch {
	case err != nil:
	case st.inAnchor && st.inBundle:
		res.Trusted = true
	case st.inAnchor:
		res.Detail = "anchor present but not in " + st.bundle + ": run update-ca-certificates"
	case st.inBundle:
		res.Detail = "in " + st.bundle + " without its anchor: run update-ca-certificates"
	}
	return res
}

func (a *Authority) untrustSystem(ctx context.Context) StoreResult {
	st, err := a.probeSystem()
	res := StoreResult{Store: StoreSystem, Location: st.anchor}
	if err != nil {
		res.Err = err
		return res
	}
	if (st.inAnchor || st.inBundle) && !canElevate() {
		res.Err, res.Detail = ErrNeedsRoot, "run as root, e.g. sudo devport untrust"
		return res
	}
	var done []string
	var joined []error
	if st.inAnchor || st.inBundle {
		if err := ctx.Err(); err != nil {
			res.Err = err
			return res
		}
		if err := truststore.Uninstall(a.cert); err != nil {
			res.Err = truststoreErr(err)
			return res
		}
		done = append(done, "removed")
	}
	// Leftovers are cleaned even when the anchor was already gone: an
	// earlier uninstall may have left them.
	n, err := removeDanglingLinks(etcCertsDir, st.anchor)
	if n > 0 {
		done = append(done, fmt.Sprintf("%d dangling links in %s", n, etcCertsDir))
	}
	if err != nil {
		joined = append(joined, err)
	}
	n, err = removeFromJava(ctx, a.cert)
	if n > 0 {
		done = append(done, "Java keystore "+javaCacerts)
	}
	if err != nil {
		joined = append(joined, err)
	}
	after := a.systemStatus(ctx)
	res.Trusted = after.Trusted
	if after.Err == nil && (after.Trusted || after.Detail != "") {
		joined = append(joined, fmt.Errorf("CA still present after removal: %s", after.Detail))
	}
	if len(done) == 0 {
		done = append(done, "was not trusted")
	}
	res.Detail = strings.Join(done, "; ")
	res.Err = errors.Join(joined...)
	return res
}

// pemFileContains reports whether the PEM bundle at path has cert.
func pemFileContains(path string, cert *x509.Certificate) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return false, nil
		}
		if block.Type == "CERTIFICATE" && bytes.Equal(block.Bytes, cert.Raw) {
			return true, nil
		}
	}
}

var hashLink = regexp.MustCompile(`^([0-9a-f]{8})\.([0-9]+)$`)

// removeDanglingLinks deletes the links in dir whose chain leads to anchor
// and no longer resolves: update-ca-certificates' <name>.pem and OpenSSL's
// <hash>.N. Links that still resolve are left alone. OpenSSL looks up
// <hash>.0, <hash>.1, ... and stops at the first gap, so the remaining links
// of a hash are renumbered.
func removeDanglingLinks(dir, anchor string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
		return 0, err
	}
	// Collect first: removing <name>.pem would break the chain from <hash>.0.
	var doomed []string
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.Type()&fs.ModeSymlink == 0 || !linksTo(p, anchor) {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			continue
		}
		doomed = append(doomed, p)
	}
	var errs []error
	hashes := map[string]bool{}
	removed := 0
	for _, p := range doomed {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed++
		if m := hashLink.FindStringSubmatch(filepath.Base(p)); m != nil {
			hashes[m[1]] = true
		}
	}
	for h := range hashes {
		if err := renumberHashLinks(dir, h); err != nil {
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
}

// renumberHashLinks renames dir/<hash>.N links to 0, 1, 2... without gaps.
func renumberHashLinks(dir, hash string) error {
	matches, err := filepath.Glob(filepath.Join(dir, hash+".*"))
	if err != nil {
		return err
	}
	nums := []int{}
	for _, m := range matches {
		if sm := hashLink.FindStringSubmatch(filepath.Base(m)); sm != nil {
			n, _ := strconv.Atoi(sm[2])
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	for want, n := range nums {
		if n == want {
			continue
		}
		from := filepath.Join(dir, fmt.Sprintf("%s.%d", hash, n))
		to := filepath.Join(dir, fmt.Sprintf("%s.%d", hash, want))
		if err := os.Rename(from, to); err != nil {
			return err
		}
	}
	return nil
}

// linksTo reports whether following the symlink chain from p reaches target.
func linksTo(p, target string) bool {
	for range 8 {
		t, err := os.Readlink(p)
		if err != nil {
			return false
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(p), t)
		}
		if filepath.Clean(t) == target {
			return true
		}
		p = t
	}
	return false
}

// removeFromJava deletes every entry holding cert from the system Java
// keystore, found by SHA-256 fingerprint (Debian's hook names it
// "debian:<name>.pem", truststore's WithJava names it differently). It does
// nothing when there is no keystore or no keytool.
func removeFromJava(ctx context.Context, cert *x509.Certificate) (int, error) {
	if _, err := os.Stat(javaCacerts); err != nil {
		return 0, nil
	}
	keytool := findKeytool()
	if keytool == "" {
		return 0, nil
	}
	aliases, err := javaAliases(ctx, keytool, cert)
	if err != nil {
		return 0, err
	}
	pass := javaStorePass()
	for i, alias := range aliases {
		if _, err := run(ctx, keytool, "-J-Duser.language=en", "-delete", "-noprompt",
			"-keystore", javaCacerts, "-storepass", pass, "-alias", alias); err != nil {
			return i, err
		}
	}
	return len(aliases), nil
}

// javaAliases lists the aliases in the system Java keystore whose
// certificate is cert.
func javaAliases(ctx context.Context, keytool string, cert *x509.Certificate) ([]string, error) {
	out, err := run(ctx, keytool, "-J-Duser.language=en", "-list", "-keystore", javaCacerts, "-storepass", javaStorePass())
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(cert.Raw)
	hexParts := make([]string, len(sum))
	for i, b := range sum {
		hexParts[i] = fmt.Sprintf("%02X", b)
	}
	fingerprint := strings.Join(hexParts, ":")
	// Entries are "<alias>, <date>, trustedCertEntry," followed by
	// "Certificate fingerprint (SHA-256): AA:BB:...".
	var aliases []string
	var alias string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasSuffix(line, "trustedCertEntry,") {
			alias, _, _ = strings.Cut(line, ", ")
			continue
		}
		if _, fp, ok := strings.Cut(line, "(SHA-256): "); ok && alias != "" {
			if strings.EqualFold(strings.TrimSpace(fp), fingerprint) {
				aliases = append(aliases, alias)
			}
			alias = ""
		}
	}
	return aliases, sc.Err()
}

// findKeytool looks on PATH, in JAVA_HOME and in /usr/lib/jvm.
func findKeytool() string {
	if p, err := exec.LookPath("keytool"); err == nil {
		return p
	}
	if home := os.Getenv("JAVA_HOME"); home != "" {
		if p := filepath.Join(home, "bin", "keytool"); commandAt(p) {
			return p
		}
	}
	matches, _ := filepath.Glob("/usr/lib/jvm/*/bin/keytool")
	for _, p := range matches {
		if commandAt(p) {
			return p
		}
	}
	return ""
}

func commandAt(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// javaStorePass is the keystore password ca-certificates-java uses: the
// storepass from /etc/default/cacerts, default "changeit".
func javaStorePass() string {
	data, err := os.ReadFile("/etc/default/cacerts")
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "storepass="); ok {
				if v = strings.Trim(v, `'"`); v != "" {
					return v
				}
			}
		}
	}
	return "changeit"
}

// fileOwner returns the owner of path.
func fileOwner(path string) (uid, gid int, ok bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}
