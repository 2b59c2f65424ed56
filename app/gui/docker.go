package gui

import (
	"context"
	"fmt"
	"strings"

	"github.com/devport/devport/app"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
)

// DockerReason says why the container runtime cannot be used here, or ""
// when a Docker engine answers.
func DockerReason(ctx context.Context) string {
	cli, err := stacks.NewDockerClient()
	if err != nil {
		return err.Error()
	}
	defer cli.Close()
	if err := stacks.PingDocker(ctx, cli); err != nil {
		return err.Error()
	}
	return ""
}

// defaultImages lists the image each stack's containers use: the
// container.image.STACK setting, else the stack's default.
func (u *UI) defaultImages() string {
	var lines []string
	for _, st := range []string{stackdef.PHP, stackdef.Uvicorn} {
		img, from := stackdef.DefaultImage(st), "default"
		if u.opts.Host != nil {
			if v, ok, err := u.opts.Host.Setting(u.ctx, app.SettingImagePrefix+st); err == nil && ok && v != "" {
				img, from = v, "setting "+app.SettingImagePrefix+st
			}
		}
		lines = append(lines, fmt.Sprintf("%-8s %s (%s)", st, img, from))
	}
	return strings.Join(lines, "\n")
}
