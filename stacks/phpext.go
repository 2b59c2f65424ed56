package stacks

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// phpModulesTimeout bounds one `php -m`, in a container included.
const phpModulesTimeout = 30 * time.Second

// PHPModules lists the extensions the PHP command line at cli loads (`php
// -m`), lowercase and sorted: what a site on the same version has, since
// Debian enables each extension package for every SAPI.
func PHPModules(ctx context.Context, cli string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, phpModulesTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, cli, "-m").Output()
	if err != nil {
		return nil, fmt.Errorf("%s -m: %w", cli, err)
	}
	return parseModules(out), nil
}

// ImagePHPModules lists the extensions of the PHP in a local image: `php
// -m` in a throwaway container, removed afterwards. It never pulls.
func ImagePHPModules(ctx context.Context, cli *client.Client, image string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, phpModulesTimeout)
	defer cancel()
	if _, err := cli.ImageInspect(ctx, image); err != nil {
		return nil, fmt.Errorf("image %s is not here yet (a start pulls it): %w", image, err)
	}
	c, err := cli.ContainerCreate(ctx, &container.Config{Image: image, Cmd: []string{"php", "-m"},
		Labels: map[string]string{"devport.doctor": "php-modules"}}, &container.HostConfig{NetworkMode: "none"}, nil, nil, "")
	if err != nil {
		return nil, fmt.Errorf("run php -m in %s: %w", image, err)
	}
	defer func() {
		_ = cli.ContainerRemove(context.WithoutCancel(ctx), c.ID, container.RemoveOptions{Force: true})
	}()
	if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		return nil, fmt.Errorf("run php -m in %s: %w", image, err)
	}
	waitC, errC := cli.ContainerWait(ctx, c.ID, container.WaitConditionNotRunning)
	select {
	case w := <-waitC:
		if w.StatusCode != 0 {
			return nil, fmt.Errorf("php -m in %s: exit status %d", image, w.StatusCode)
		}
	case err := <-errC:
		return nil, fmt.Errorf("php -m in %s: %w", image, err)
	}
	rc, err := cli.ContainerLogs(ctx, c.ID, container.LogsOptions{ShowStdout: true})
	if err != nil {
		return nil, fmt.Errorf("php -m in %s: %w", image, err)
	}
	defer rc.Close()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, rc); err != nil {
		return nil, fmt.Errorf("php -m in %s: %w", image, err)
	}
	return parseModules(stdout.Bytes()), nil
}

// parseModules reads `php -m`: one name a line under [PHP Modules] and
// [Zend Modules] headers.
func parseModules(out []byte) []string {
	var mods []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		l := strings.ToLower(strings.TrimSpace(sc.Text()))
		if l == "" || strings.HasPrefix(l, "[") || strings.Contains(l, ":") {
			continue
		}
		// "Zend OPcache" is ext-zend-opcache to Composer, and opcache to
		// everyone else.
		names := []string{strings.ReplaceAll(l, " ", "-")}
		if l == "zend opcache" {
			names = append(names, "opcache")
		}
		for _, n := range names {
			if !slices.Contains(mods, n) {
				mods = append(mods, n)
			}
		}
	}
	slices.Sort(mods)
	return mods
}

// ComposerExtensions are the extensions composer.json's require names
// (ext-mbstring is "mbstring"), lowercase and sorted.
func ComposerExtensions(dir string) ([]string, error) {
	req, err := composerRequire(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for k := range req {
		if name, ok := strings.CutPrefix(strings.ToLower(k), "ext-"); ok && name != "" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}
