// Package quietinit silences the standard logger while packages
// initialise. Fyne's lang package parses the locale in its init and logs
// three "Fyne error" lines when LANG is C or C.UTF-8 (the default in many
// containers), which every CLI command would otherwise print although no
// window is ever created. main imports this package and calls Restore as
// its first statement.
//
// It runs before Fyne's init because it depends on nothing but "io" and
// "log" (which Fyne's lang imports too), and its import path sorts before
// the third-party packages lang waits for (go-locale, go-i18n): Go
// initialises the first ready package in import-path order.
package quietinit

import (
	"io"
	"log"
	"os"
)

func init() { log.SetOutput(io.Discard) }

// Restore sends the standard logger to stderr again.
func Restore() { log.SetOutput(os.Stderr) }
