// Package xconnect turns on RFC 8441 (websockets over HTTP/2) in
// net/http's HTTP/2 server for the program that imports it.
//
// Go 1.26 offers the extended CONNECT protocol only when GODEBUG holds
// http2xconnect=1 as net/http initialises; it is not a setting //go:debug
// can set. This package adds it to GODEBUG in its own init, which runs
// before net/http's: it imports nothing but os, and Go initialises the
// first ready package in import-path order, which puts
// github.com/devport/... ahead of net/http. main imports it for its side
// effect; TestEnabled fails if that ordering ever stops holding.
//
// Backends inherit the variable; only Go programs read it, and for them
// it has the same meaning.
package xconnect

import "os"

// Setting is what this package adds to GODEBUG.
const Setting = "http2xconnect=1"

func init() {
	v := os.Getenv("GODEBUG")
	switch {
	case v == "":
		os.Setenv("GODEBUG", Setting)
	case !contains(v, Setting):
		os.Setenv("GODEBUG", v+","+Setting)
	}
}

// contains reports whether the comma-separated list v holds item.
func contains(v, item string) bool {
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != ',' {
			i++
		}
		if v[:i] == item {
			return true
		}
		if i == len(v) {
			break
		}
		v = v[i+1:]
	}
	return false
}
