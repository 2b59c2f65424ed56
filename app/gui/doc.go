// Package gui is devport's desktop interface: the project list, the
// new-project wizard, the logs view, the settings and the tray menu.
//
// Everything is built from a fyne.App passed in, and the widgets live in
// struct fields, so tests drive the real UI with fyne.io/fyne/v2/test
// against a real engine. This package never imports
// fyne.io/fyne/v2/app (GL, GLFW, systray): the launcher in app/desktop
// does, and it is the only one.
package gui
