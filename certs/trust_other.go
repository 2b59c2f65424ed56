//go:build !linux

package certs

import (
	"context"
	"crypto/x509"
	"errors"
	"runtime"

	"github.com/smallstep/truststore"
)

// System store outside Linux: truststore adds the CA to the System keychain
// on macOS (with sudo) and to the ROOT store on Windows. Status asks the
// platform verifier, which on macOS and Windows reads the live store, to
// verify a fresh "localhost" leaf. (On other systems Go loads the system
// pool once per process, so a status after a change in the same process
// may be stale; truststore does not support them anyway.)

var firefoxProfiles = func() []string {
	switch runtime.GOOS {
	case "darwin":
		return []string{"Library/Application Support/Firefox/Profiles/*"}
	case "windows":
		return []string{"AppData/Roaming/Mozilla/Firefox/Profiles/*"}
	default:
		return []string{".mozilla/firefox/*"}
	}
}()

func certutilHint() string {
	if runtime.GOOS == "darwin" {
		return "brew install nss"
	}
	return "install the NSS tools (certutil)"
}

func systemLocation() string {
	switch runtime.GOOS {
	case "darwin":
		return "/Library/Keychains/System.keychain"
	case "windows":
		return "Windows ROOT certificate store"
	default:
		return runtime.GOOS + " system store"
	}
}

func (a *Authority) systemStatus(context.Context) StoreResult {
	res := StoreResult{Store: StoreSystem, Location: systemLocation()}
	if runtime.GOOS != "darwin" && runtime.GOOS != "windows" {
		res.Err = ErrNotSupported
		return res
	}
	leaf, err := a.Issue([]string{"localhost"})
	if err != nil {
		res.Err = err
		return res
	}
	_, err = leaf.Leaf.Verify(x509.VerifyOptions{DNSName: "localhost"})
	res.Trusted = err == nil
	return res
}

func (a *Authority) untrustSystem(ctx context.Context) StoreResult {
	res := a.systemStatus(ctx)
	if res.Err != nil || !res.Trusted {
		if res.Err == nil {
			res.Detail = "was not trusted"
		}
		return res
	}
	if err := ctx.Err(); err != nil {
		res.Err = err
		return res
	}
	if err := truststore.Uninstall(a.cert); err != nil {
		res.Err = truststoreErr(err)
		return res
	}
	res = a.systemStatus(ctx)
	if res.Err == nil && res.Trusted {
		res.Err = errors.New("removed, but the system still trusts it")
	}
	if res.Err == nil {
		res.Detail = "removed"
	}
	return res
}

func fileOwner(string) (uid, gid int, ok bool) { return 0, 0, false }
