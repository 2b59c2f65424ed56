// Package e2e holds devport's end-to-end tests: they build the real
// binary and drive it the way a new user would, against real apache2,
// uvicorn, trust stores, curl and Chromium. It has no code of its own.
package e2e
