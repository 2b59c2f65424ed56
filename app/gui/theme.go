package gui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// legibleTheme is Fyne's default theme with disabled controls that can
// still be read: Fyne 2.7's disabled foreground (#e3e3e3 on white, #39393a
// on near-black) is about 1.3:1 against the background, so a disabled
// button's label all but vanishes. Here it meets WCAG AA's 4.5:1 against
// both the background and a disabled button's fill, in light and dark
// (TestDisabledContrast). Everything else is the default theme's.
type legibleTheme struct{ fyne.Theme }

// The disabled foregrounds.
var (
	disabledLight = color.NRGBA{R: 0x66, G: 0x66, B: 0x6b, A: 0xff}
	disabledDark  = color.NRGBA{R: 0xa1, G: 0xa1, B: 0xa8, A: 0xff}
)

func newLegibleTheme() fyne.Theme { return legibleTheme{theme.DefaultTheme()} }

func (t legibleTheme) Color(name fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if name == theme.ColorNameDisabled {
		if v == theme.VariantDark {
			return disabledDark
		}
		return disabledLight
	}
	return t.Theme.Color(name, v)
}
