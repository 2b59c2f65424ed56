package proxy

import (
	"os"
	"runtime/debug"
)

// Garbage collector settings of a process whose hot path is this proxy.
const (
	// tunedGCPercent lets the heap grow to five times what is live
	// between collections. The proxy's live heap is small, and every
	// request allocates a few KiB (net/http's parsing and ReverseProxy's
	// clones), so collecting less often is the cheapest gain: about 10 %
	// more requests a second for about 11 MB more RSS under load
	// (docs/performance.md).
	tunedGCPercent = 400
	// tunedMemoryLimit caps what that growth may cost: near it the
	// collector runs as often as it must, whatever the percent.
	tunedMemoryLimit = 512 << 20
)

// TuneGC applies the proxy's collector settings to the process, leaving
// alone what the user chose through GOGC or GOMEMLIMIT. The engine and the
// benchmark binary call it once at start; a library caller decides for
// itself.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(tunedGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(tunedMemoryLimit)
	}
}
