//go:build ignore

// gen draws devport's icons: go run gen.go writes devport.png (256×256).
// A rounded teal square with a white padlock and a port "plug" bar; drawn in
// code so the icon needs no image tools to rebuild.
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
	const n = 256
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	bg := color.NRGBA{0x0f, 0x76, 0x6e, 0xff}
	fg := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	accent := color.NRGBA{0xfb, 0xbf, 0x24, 0xff}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if inRounded(x, y, 8, 8, n-8, n-8, 48) {
				img.Set(x, y, bg)
			}
			// lock body
			if inRounded(x, y, 72, 116, 184, 212, 14) {
				img.Set(x, y, fg)
			}
			// shackle: a ring segment above the body
			dx, dy := float64(x)-128, float64(y)-116
			r := math.Hypot(dx, dy)
			if y <= 116 && r >= 30 && r <= 46 {
				img.Set(x, y, fg)
			}
			if y > 100 && y <= 120 && ((x >= 82 && x <= 98) || (x >= 158 && x <= 174)) {
				img.Set(x, y, fg)
			}
			// keyhole as a port plug
			if inRounded(x, y, 116, 146, 140, 186, 6) {
				img.Set(x, y, accent)
			}
		}
	}
	f, err := os.Create("devport.png")
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func inRounded(x, y, x0, y0, x1, y1, r int) bool {
	if x < x0 || x >= x1 || y < y0 || y >= y1 {
		return false
	}
	cx, cy := x, y
	switch {
	case x < x0+r:
		cx = x0 + r
	case x >= x1-r:
		cx = x1 - r - 1
	}
	switch {
	case y < y0+r:
		cy = y0 + r
	case y >= y1-r:
		cy = y1 - r - 1
	}
	return math.Hypot(float64(x-cx), float64(y-cy)) <= float64(r)
}
