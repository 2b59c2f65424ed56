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

// The state colours, light and dark: running green, starting amber,
// failed red. The dots and the state's words take the same colour
// (stateColor, stateImportance), and as text each meets 4.5:1 against its
// background (TestStateColours); stopped is the disabled grey.
var stateColours = map[fyne.ThemeColorName][2]color.NRGBA{
	theme.ColorNameSuccess: {{R: 0x15, G: 0x80, B: 0x3d, A: 0xff}, {R: 0x4a, G: 0xde, B: 0x80, A: 0xff}},
	theme.ColorNameWarning: {{R: 0xb4, G: 0x53, B: 0x09, A: 0xff}, {R: 0xfb, G: 0xbf, B: 0x24, A: 0xff}},
	theme.ColorNameError:   {{R: 0xc8, G: 0x1e, B: 0x1e, A: 0xff}, {R: 0xf8, G: 0x71, B: 0x71, A: 0xff}},
}

func newLegibleTheme() fyne.Theme { return legibleTheme{theme.DefaultTheme()} }

func (t legibleTheme) Color(name fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	dark := v == theme.VariantDark
	if name == theme.ColorNameDisabled {
		if dark {
			return disabledDark
		}
		return disabledLight
	}
	if c, ok := stateColours[name]; ok {
		if dark {
			return c[1]
		}
		return c[0]
	}
	return t.Theme.Color(name, v)
}
