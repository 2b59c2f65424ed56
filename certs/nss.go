package certs

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// NSS databases are managed with certutil directly rather than through
// truststore.WithFirefox. truststore computes its database paths from $HOME
// once, at package init (its nssDB and NSSProfile variables), so
// TrustOptions.Home could only be honoured by mutating those process-wide
// globals, and it silently does nothing when a database or certutil is
// missing. Calling certutil per database gives each database its own
// result, lets devport create ~/.pki/nssdb, and reports a missing certutil.
//
// The nickname is truststore's (storeName), so either tool finds the other's
// entry.

// nssDatabases lists the NSS databases under home: ~/.pki/nssdb first (even
// when it does not exist yet) and then every Firefox profile with a
// cert9.db.
func nssDatabases(home string) []string {
	dbs := []string{filepath.Join(home, ".pki", "nssdb")}
	for _, pattern := range firefoxProfiles {
		matches, _ := filepath.Glob(filepath.Join(home, pattern, "cert9.db"))
		for _, m := range matches {
			dbs = append(dbs, filepath.Dir(m))
		}
	}
	return dbs
}

func hasNSSDB(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "cert9.db"))
	return err == nil
}

func resolveHome(home string) (string, error) {
	if home != "" {
		return home, nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find home directory: %w", err)
	}
	return h, nil
}

// nssSetup finds home and certutil. When it returns a non-nil result, that
// is the whole answer for NSS.
func nssSetup(home string) (string, string, []StoreResult) {
	home, err := resolveHome(home)
	if err != nil {
		return "", "", []StoreResult{{Store: StoreNSS, Err: err}}
	}
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		missing := &MissingToolError{Tool: "certutil", Hint: certutilHint()}
		return home, "", []StoreResult{{
			Store:    StoreNSS,
			Location: filepath.Join(home, ".pki", "nssdb"),
			Detail:   missing.Error(),
			Err:      missing,
		}}
	}
	return home, certutil, nil
}

func (a *Authority) trustNSS(ctx context.Context, home string) []StoreResult {
	home, certutil, early := nssSetup(home)
	if early != nil {
		return early
	}
	var results []StoreResult
	for i, db := range nssDatabases(home) {
		res := StoreResult{Store: StoreNSS, Location: db}
		var created bool
		if i == 0 && !hasNSSDB(db) {
			if err := createNSSDB(ctx, certutil, home, db); err != nil {
				res.Err = err
				results = append(results, res)
				continue
			}
			created = true
		}
		trusted, err := a.nssHas(ctx, certutil, db)
		switch {
		case err != nil:
			res.Err = err
		case trusted:
			res.Trusted, res.Detail = true, "already trusted"
		default:
			_, err = run(ctx, certutil, "-A", "-d", "sql:"+db, "-t", "C,,", "-n", a.storeName(), "-i", a.CertPath())
			if err == nil {
				res.Trusted, err = a.nssHas(ctx, certutil, db)
			}
			switch {
			case err != nil:
				res.Err = err
			case !res.Trusted:
				res.Err = errors.New("certutil -A succeeded but the CA is not listed as a trusted CA")
			case created:
				res.Detail = "created database, added"
			default:
				res.Detail = "added"
			}
		}
		results = append(results, res)
	}
	return results
}

// createNSSDB creates an empty, passwordless database at db, as Chromium
// would on first start. When root creates it in another user's home, the
// new directories are handed to that user, or their browser could not
// open them.
func createNSSDB(ctx context.Context, certutil, home, db string) error {
	top := db
	for parent := filepath.Dir(top); parent != home && parent != filepath.Dir(parent); parent = filepath.Dir(parent) {
		if _, err := os.Stat(parent); err == nil {
			break
		}
		top = parent
	}
	if err := os.MkdirAll(db, 0o700); err != nil {
		return fmt.Errorf("create NSS database: %w", err)
	}
	if _, err := run(ctx, certutil, "-N", "-d", "sql:"+db, "--empty-password"); err != nil {
		return err
	}
	return chownLike(home, top)
}

func (a *Authority) untrustNSS(ctx context.Context, home string) []StoreResult {
	results, certutil, dbs := a.existingNSS(home)
	if certutil == "" {
		return results
	}
	for _, db := range dbs {
		res := StoreResult{Store: StoreNSS, Location: db}
		trusted, err := a.nssHas(ctx, certutil, db)
		if err == nil && trusted {
			_, err = run(ctx, certutil, "-D", "-d", "sql:"+db, "-n", a.storeName())
			if err == nil {
				res.Detail = "removed"
				res.Trusted, err = a.nssHas(ctx, certutil, db)
			}
		} else if err == nil {
			res.Detail = "was not trusted"
		}
		if err == nil && res.Trusted {
			err = errors.New("certutil -D succeeded but the CA is still listed")
		}
		res.Err = err
		results = append(results, res)
	}
	return results
}

func (a *Authority) statusNSS(ctx context.Context, home string) []StoreResult {
	results, certutil, dbs := a.existingNSS(home)
	if certutil == "" {
		return results
	}
	for _, db := range dbs {
		res := StoreResult{Store: StoreNSS, Location: db}
		res.Trusted, res.Err = a.nssHas(ctx, certutil, db)
		results = append(results, res)
	}
	return results
}

// existingNSS returns the databases that exist under home and certutil.
// When there is nothing to look at, or certutil is missing, it returns the
// final results and certutil "".
func (a *Authority) existingNSS(home string) ([]StoreResult, string, []string) {
	home, err := resolveHome(home)
	if err != nil {
		return []StoreResult{{Store: StoreNSS, Err: err}}, "", nil
	}
	var dbs []string
	for _, db := range nssDatabases(home) {
		if hasNSSDB(db) {
			dbs = append(dbs, db)
		}
	}
	if len(dbs) == 0 {
		return []StoreResult{{Store: StoreNSS, Location: filepath.Join(home, ".pki", "nssdb"), Detail: "no NSS database"}}, "", nil
	}
	_, certutil, early := nssSetup(home)
	if early != nil {
		return early, "", nil
	}
	return nil, certutil, dbs
}

// nssHas reports whether db holds this CA, under its nickname, with the
// "trusted CA for TLS" flag (C in the first trust field).
func (a *Authority) nssHas(ctx context.Context, certutil, db string) (bool, error) {
	list, err := run(ctx, certutil, "-L", "-d", "sql:"+db)
	if err != nil {
		return false, err
	}
	nick := a.storeName()
	listed := false
	for _, line := range strings.Split(string(list), "\n") {
		rest, ok := strings.CutPrefix(line, nick)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		flags := strings.SplitN(strings.TrimSpace(rest), ",", 2)[0]
		listed = strings.Contains(flags, "C")
	}
	if !listed {
		return false, nil
	}
	// The nickname is unique per install, but compare the certificate
	// itself so a stale entry never counts as trusted.
	out, err := run(ctx, certutil, "-L", "-d", "sql:"+db, "-n", nick, "-a")
	if err != nil {
		return false, err
	}
	for rest := out; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return false, nil
		}
		if bytes.Equal(block.Bytes, a.cert.Raw) {
			return true, nil
		}
	}
}

// chownLike gives path and everything below it to the owner of ref, when
// this process is root and ref belongs to someone else.
func chownLike(ref, path string) error {
	uid, gid, ok := fileOwner(ref)
	if !ok || os.Geteuid() != 0 || uid == 0 {
		return nil
	}
	return filepath.WalkDir(path, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}
