//go:build !linux

package engine

// portHolders is not implemented outside Linux yet; callers then print
// the command that finds the holder instead.
func portHolders(port int) []PortHolder { return nil }
