//go:build !cgo

package store

// isUniqueViolation is never true without cgo: go-sqlite3 then compiles
// but cannot open a database, so no constraint can fail. (This file lets
// the packages above the store be vetted for other systems without a C
// toolchain: make vet.)
func isUniqueViolation(error) bool { return false }

// isBusy is never true without cgo, for the same reason.
func isBusy(error) bool { return false }
