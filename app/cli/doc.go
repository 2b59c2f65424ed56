// Package cli is devport's command line: flags, printing and progress
// rendering only. Commands that change projects, routes or settings go to
// the running engine through its control socket (wire.Client) or, when
// none runs, to a Manager of the store (engine.Local); both speak the same
// wire types. It never imports store, certs, stacks or proxy.
package cli
