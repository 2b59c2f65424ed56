// Package app wires devport together. It owns the Manager (the use cases:
// add, remove, start and stop projects, trust the CA, serve), the command
// line, and the control API that lets a CLI command act on a running engine.
//
// It is the only package that knows store, certs, proxy and stacks; those
// never import each other (deps_test.go holds that in place).
package app
