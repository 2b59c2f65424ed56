package gui

import (
	"fmt"
	"image/color"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// TestDisabledContrast: in light and dark, a disabled control's text meets
// WCAG AA (4.5:1) against the background and against a disabled button's
// fill (Fyne 2.7's default is about 1.3:1: the log says so); and the
// window uses the theme.
func TestDisabledContrast(t *testing.T) {
	def := theme.DefaultTheme()
	th := newLegibleTheme()
	for _, v := range []struct {
		name    string
		variant fyne.ThemeVariant
	}{{"light", theme.VariantLight}, {"dark", theme.VariantDark}} {
		for _, against := range []fyne.ThemeColorName{theme.ColorNameBackground, theme.ColorNameDisabledButton} {
			t.Run(fmt.Sprintf("%s against %s", v.name, against), func(t *testing.T) {
				bg := th.Color(against, v.variant)
				if got := contrast(th.Color(theme.ColorNameDisabled, v.variant), bg); got < 4.5 {
					t.Errorf("disabled text %.2f:1, want at least 4.5:1", got)
				}
				t.Logf("Fyne's default theme: %.2f:1", contrast(def.Color(theme.ColorNameDisabled, v.variant), def.Color(against, v.variant)))
			})
		}
	}
	r := newRig(t, false)
	if th := r.ui.app.Settings().Theme(); th == nil {
		t.Error("no theme")
	} else if _, ok := th.(legibleTheme); !ok {
		t.Errorf("the window's theme is %T, want legibleTheme", th)
	}
}

// TestStateColours: the state colours are distinct, and written on the
// background each meets WCAG AA, in light and dark.
func TestStateColours(t *testing.T) {
	th := newLegibleTheme()
	for _, v := range []struct {
		name    string
		variant fyne.ThemeVariant
	}{{"light", theme.VariantLight}, {"dark", theme.VariantDark}} {
		seen := map[color.Color]fyne.ThemeColorName{}
		for _, name := range []fyne.ThemeColorName{theme.ColorNameSuccess, theme.ColorNameWarning, theme.ColorNameError, theme.ColorNameDisabled} {
			t.Run(v.name+" "+string(name), func(t *testing.T) {
				c := th.Color(name, v.variant)
				if got := contrast(c, th.Color(theme.ColorNameBackground, v.variant)); got < 4.5 {
					t.Errorf("%.2f:1 against the background, want at least 4.5:1", got)
				}
				if other, ok := seen[c]; ok {
					t.Errorf("the same colour as %s", other)
				}
				seen[c] = name
			})
		}
	}
}

// contrast is WCAG's contrast ratio of two opaque colours.
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(c color.Color) float64 {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(n.R) + 0.7152*lin(n.G) + 0.0722*lin(n.B)
}
