//go:build !linux

package app

// portHolders is not implemented outside Linux yet; callers then print
// the command that finds the holder instead.
func portHolders(port int) []PortHolder { return nil }
