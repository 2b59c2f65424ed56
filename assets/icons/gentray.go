//go:build ignore

// gentray draws the tray icons: go run gentray.go writes tray-stopped.png,
// tray-running.png and tray-error.png (64×64). Each is the app's teal
// rounded square with a status dot: grey (all stopped), green (some
// running) or red (an error). PNG, because the tray cannot show SVG.
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
)

func main() {
	icons := map[string]color.NRGBA{
		"tray-stopped.png": {0x9c, 0xa3, 0xaf, 0xff},
		"tray-running.png": {0x22, 0xc5, 0x5e, 0xff},
		"tray-error.png":   {0xef, 0x44, 0x44, 0xff},
	}
	for name, dot := range icons {
		if err := write(name, draw(dot)); err != nil {
			log.Fatal(err)
		}
	}
}

func draw(dot color.NRGBA) *image.NRGBA {
	const n = 64
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	bg := color.NRGBA{0x0f, 0x76, 0x6e, 0xff}
	fg := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			if inRounded(fx, fy, 2, 2, 62, 62, 12) {
				img.Set(x, y, bg)
			}
			// padlock body and shackle
			if inRounded(fx, fy, 16, 28, 44, 52, 4) {
				img.Set(x, y, fg)
			}
			r := math.Hypot(fx-30, fy-28)
			if fy <= 28 && r >= 7 && r <= 11 {
				img.Set(x, y, fg)
			}
			// status dot with a white ring, bottom right
			d := math.Hypot(fx-48, fy-48)
			switch {
			case d <= 11:
				img.Set(x, y, dot)
			case d <= 14:
				img.Set(x, y, fg)
			}
		}
	}
	return img
}

func write(name string, img image.Image) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func inRounded(x, y, x0, y0, x1, y1, r float64) bool {
	if x < x0 || x >= x1 || y < y0 || y >= y1 {
		return false
	}
	cx, cy := x, y
	switch {
	case x < x0+r:
		cx = x0 + r
	case x >= x1-r:
		cx = x1 - r
	}
	switch {
	case y < y0+r:
		cy = y0 + r
	case y >= y1-r:
		cy = y1 - r
	}
	return math.Hypot(x-cx, y-cy) <= r
}
