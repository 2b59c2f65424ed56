package gui

import (
	"fmt"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
)

// defaultImages lists the image each stack's containers use: the
// container.image.STACK setting, else the stack's default.
func (u *UI) defaultImages() string {
	var lines []string
	for _, st := range []string{stackdef.PHP, stackdef.Uvicorn} {
		img, from := stackdef.DefaultImage(st), "default"
		if u.opts.Host != nil {
			if v, ok, err := u.opts.Host.Setting(u.ctx, wire.SettingImagePrefix+st); err == nil && ok && v != "" {
				img, from = v, "setting "+wire.SettingImagePrefix+st
			}
		}
		lines = append(lines, fmt.Sprintf("%-8s %s (%s)", st, img, from))
	}
	return strings.Join(lines, "\n")
}
