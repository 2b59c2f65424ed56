// Package engine is devport's engine: the Manager, the one place that wires
// the domain packages together (store, certs, stacks, proxy, resolve,
// manifest, export), and the control server that lets the CLI and the
// window of another process drive it.
//
// Every change of state is a Manager method that stores, publishes the new
// route table and emits its event: adding and removing projects, routes and
// settings, starting and stopping. Local offers those methods with the wire
// types, as wire.Client does for an engine in another process, so the faces
// (app/cli, app/gui) never need the domain packages themselves. The
// allow-list in internal/archtest holds these arrows in place.
package engine
