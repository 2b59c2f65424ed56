//go:build !linux

package certs

import "context"

// The Java keystore is managed on Linux only for now; elsewhere the system
// store is what the platform's Java reads (macOS) or needs keytool by hand.
func (a *Authority) javaStatus(context.Context) StoreResult {
	return StoreResult{Store: StoreJava, Err: ErrNotSupported}
}

func (a *Authority) trustJava(ctx context.Context) StoreResult   { return a.javaStatus(ctx) }
func (a *Authority) untrustJava(ctx context.Context) StoreResult { return a.javaStatus(ctx) }
