package certs

import (
	"context"
	"fmt"
	"os"
)

// javaStatus reports whether the system Java keystore holds the root.
func (a *Authority) javaStatus(ctx context.Context) StoreResult {
	res := StoreResult{Store: StoreJava, Location: javaCacerts}
	if _, err := os.Stat(javaCacerts); err != nil {
		res.Err = &MissingToolError{Tool: "Java keystore " + javaCacerts, Hint: "no system Java here (apt-get install ca-certificates-java)"}
		return res
	}
	keytool := findKeytool()
	if keytool == "" {
		res.Err = &MissingToolError{Tool: "keytool", Hint: "apt-get install default-jre-headless"}
		return res
	}
	aliases, err := javaAliases(ctx, keytool, a.cert)
	if err != nil {
		res.Err = err
		return res
	}
	res.Trusted = len(aliases) > 0
	return res
}

// trustJava imports the root into the system Java keystore, which Java
// programs (and Gradle, Maven, JetBrains IDEs) read instead of the system
// store. On Debian installing into the system store usually adds it here
// too, through the ca-certificates-java hook; this makes sure of it.
func (a *Authority) trustJava(ctx context.Context) StoreResult {
	res := a.javaStatus(ctx)
	if res.Err != nil || res.Trusted {
		if res.Trusted {
			res.Detail = "already trusted"
		}
		return res
	}
	if !canElevate() {
		res.Err, res.Detail = ErrNeedsRoot, "run as root, e.g. sudo devport trust --java"
		return res
	}
	alias := "devport-" + a.cert.SerialNumber.Text(16)
	if _, err := run(ctx, findKeytool(), "-J-Duser.language=en", "-importcert", "-noprompt", "-trustcacerts",
		"-keystore", javaCacerts, "-storepass", javaStorePass(), "-alias", alias, "-file", a.CertPath()); err != nil {
		res.Err = err
		return res
	}
	res = a.javaStatus(ctx)
	if res.Err == nil && !res.Trusted {
		res.Err = fmt.Errorf("imported as %s, but keytool does not list it", alias)
	}
	if res.Err == nil {
		res.Detail = "added as " + alias
	}
	return res
}

// untrustJava removes every keystore entry holding the root, whoever
// added it.
func (a *Authority) untrustJava(ctx context.Context) StoreResult {
	res := a.javaStatus(ctx)
	if res.Err != nil || !res.Trusted {
		return res
	}
	if !canElevate() {
		res.Err, res.Detail = ErrNeedsRoot, "run as root, e.g. sudo devport untrust"
		return res
	}
	n, err := removeFromJava(ctx, a.cert)
	if err != nil {
		res.Err = err
		return res
	}
	res = a.javaStatus(ctx)
	if res.Err == nil && res.Trusted {
		res.Err = fmt.Errorf("removed %d entries, but keytool still lists it", n)
	}
	if res.Err == nil {
		res.Detail = fmt.Sprintf("removed %d entries", n)
	}
	return res
}
