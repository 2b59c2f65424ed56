package resolve

import (
	"context"
	"strings"
)

// Choose picks the method for a TLD before anything is set up: "localhost"
// needs nothing ([MethodLocalhost]); otherwise split DNS with devport's
// responder ([MethodResolver]) where the OS supports it, else the hosts
// file ([MethodHosts]), which works everywhere. The caller then sets it up
// and confirms it with [Check]; when Check fails for MethodResolver (a VPN
// took DNS over), fall back to the hosts file.
func Choose(ctx context.Context, tld string) Method {
	if strings.EqualFold(strings.Trim(tld, ". "), "localhost") {
		return MethodLocalhost
	}
	if SplitAvailable(ctx) == nil {
		return MethodResolver
	}
	return MethodHosts
}
