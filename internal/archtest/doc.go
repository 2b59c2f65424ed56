// Package archtest holds devport's architecture in place: its test lists,
// for every package of the module, the packages it may import, mirrors the
// table in docs/architecture.md, and fails on any import the table does
// not allow, naming the row to change. It has no code of its own.
package archtest
