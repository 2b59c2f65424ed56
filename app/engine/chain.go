package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// The chain topology (proxy → Apache → uvicorn) needs no schema of its own:
// it is a declared service route at prefix P that sends P to a php
// service W, while another service S of the project has P as its own
// PathPrefix. Then the proxy sends P to W's Apache, whose generated config
// forwards P/ to S (stacks.Link), and S keeps P as its root_path. Without
// the declared route, S's own route sends P to S directly (the split
// shape).

// chainLink is one prefix a php service forwards to a sibling service.
type chainLink struct {
	prefix, target string
	// container is the target's address on the project's Docker network
	// when it runs in a container ("py:8000"), else "".
	container string
}

// chainLinks maps each php service of p to the links its Apache serves.
func chainLinks(p store.Project, declared []store.Route) map[string][]chainLink {
	byName := make(map[string]store.Service, len(p.Services))
	byPrefix := make(map[string]string, len(p.Services))
	for _, s := range p.Services {
		byName[s.Name] = s
		byPrefix[cleanPrefix(s.PathPrefix)] = s.Name
	}
	links := make(map[string][]chainLink)
	for _, d := range declared {
		if d.Project != p.Name || d.Kind != store.RouteService || d.PathPrefix == "/" {
			continue
		}
		via, ok := byName[d.Target]
		target, has := byPrefix[d.PathPrefix]
		if !ok || via.Stack != stackdef.PHP || !has || target == via.Name || byName[target].Stack == stackdef.Proxy {
			continue
		}
		l := chainLink{prefix: d.PathPrefix, target: target}
		if t := byName[target]; t.Runtime == wire.RuntimeContainer {
			l.container = stacks.ContainerAddress(t.Name, t.Stack)
		}
		links[via.Name] = append(links[via.Name], l)
	}
	return links
}

// startOrder is p's services with every link target before the php
// service that forwards to it, so its upstream is known when Apache's
// config is written. Otherwise the store's order (by name) is kept.
func startOrder(p store.Project, links map[string][]chainLink) []store.Service {
	targets := make(map[string]bool)
	for _, ls := range links {
		for _, l := range ls {
			targets[l.target] = true
		}
	}
	out := make([]store.Service, 0, len(p.Services))
	for _, s := range p.Services {
		if targets[s.Name] {
			out = append(out, s)
		}
	}
	for _, s := range p.Services {
		if !targets[s.Name] {
			out = append(out, s)
		}
	}
	return out
}

// stackLinks resolves a php service's links to the upstreams of the
// services started so far.
func stackLinks(links []chainLink, started map[string]*serviceRun) ([]stacks.Link, error) {
	var out []stacks.Link
	for _, l := range links {
		sr := started[l.target]
		if sr == nil {
			return nil, fmt.Errorf("route %s goes through Apache to service %s, which did not start", l.prefix, l.target)
		}
		out = append(out, stacks.Link{Prefix: l.prefix, Upstream: sr.upstream, Container: l.container})
	}
	return out, nil
}

// sharedBundleName is the copy of the CA bundle in the run folder that
// backends get when devport runs as root.
const sharedBundleName = "ca-bundle.pem"

// shareBundle returns the CA bundle path for local processes. As root,
// Apache's workers run as another user (the project folder's owner, or
// nobody: stacks.WorkerUser) and cannot enter ca/, which holds the CA's
// key and stays 0700; they get a copy in the run folder (roots are
// public), which shareRunFolders lets them reach by name.
func (m *Manager) shareBundle(bundle string) (string, error) {
	if os.Geteuid() != 0 {
		return bundle, nil
	}
	b, err := os.ReadFile(bundle)
	if err != nil {
		return "", fmt.Errorf("share the CA bundle: %w", err)
	}
	if err := os.MkdirAll(m.paths.Run, 0o700); err != nil {
		return "", fmt.Errorf("share the CA bundle: %w", err)
	}
	path := filepath.Join(m.paths.Run, sharedBundleName)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return "", fmt.Errorf("share the CA bundle: %w", err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil { // whatever the umask
		return "", fmt.Errorf("share the CA bundle: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("share the CA bundle: %w", err)
	}
	if err := m.shareRunFolders(); err != nil {
		return "", err
	}
	return path, nil
}

// shareRunFolders lets Apache's workers reach a linked socket when devport
// runs as root: the workers run as another user (stacks.WorkerUser), and
// devport's own run folder (and its data folder above it, when it is one)
// are 0700. They get search permission for others, which lists nothing;
// the sockets themselves are handed to the workers' user by the php stack. A folder above that
// devport does not own is only checked (stacks names it and the fix).
func (m *Manager) shareRunFolders() error {
	if os.Geteuid() != 0 {
		return nil // Apache's workers run as this user
	}
	dirs := []string{m.paths.Run}
	if parent := filepath.Dir(m.paths.Run); parent == m.paths.Data {
		dirs = append(dirs, parent)
	}
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("share run folder for apache: %w", err)
		}
		if err := os.Chmod(d, fi.Mode().Perm()|0o001); err != nil {
			return fmt.Errorf("share run folder for apache: %w", err)
		}
	}
	return nil
}

// CheckChain checks a chain prefix for a php project in folder dir as
// `devport add DIR --stack php --chain PREFIX` would, without storing
// anything: the prefix's form, the subfolder, and the ASGI app in it. The
// wizard calls it as the user types (the folder is on this machine
// whichever engine stores the project).
func CheckChain(dir, prefix string) error {
	p := store.Project{Root: dir, Services: []store.Service{{Name: "web", Stack: stackdef.PHP}}}
	_, err := planChain(&p, prefix)
	return err
}

// planChain adds the chain to a php project being added with
// `devport add DIR --stack php --chain PREFIX`: the ASGI app detected in
// DIR/PREFIX becomes service NAME (the folder's name) at PREFIX, and the
// returned route sends PREFIX to the php service, whose Apache forwards it.
func planChain(p *store.Project, prefix string) (store.Route, error) {
	fix := "pass --chain /py for a FastAPI app in DIR/py (main.py or app.py)"
	if len(p.Services) != 1 || p.Services[0].Stack != stackdef.PHP {
		return store.Route{}, &store.ValidationError{Field: "chain", Value: prefix,
			Reason: "goes through Apache, so the project's stack must be php", Fix: "add --stack php"}
	}
	name := strings.Trim(prefix, "/")
	if !strings.HasPrefix(prefix, "/") || name == "" || strings.Contains(name, "/") || nameFromFolder(name) != name || name == p.Services[0].Name {
		return store.Route{}, &store.ValidationError{Field: "chain", Value: prefix,
			Reason: "must be one path segment of lowercase letters, digits and hyphens, naming a subfolder", Fix: fix}
	}
	sub := filepath.Join(p.Root, name)
	if fi, err := os.Stat(sub); err != nil || !fi.IsDir() {
		return store.Route{}, &store.ValidationError{Field: "chain", Value: prefix,
			Reason: fmt.Sprintf("folder %s does not exist", sub), Fix: fix}
	}
	d, err := stacks.Detect(sub)
	if err != nil || stackdef.Family(d.Stack) != stackdef.FamilyASGI || d.App == "" {
		reason := fmt.Sprintf("found no FastAPI/Starlette app in %s", sub)
		if err != nil {
			reason += ": " + err.Error()
		}
		return store.Route{}, &store.ValidationError{Field: "chain", Value: prefix, Reason: reason, Fix: fix}
	}
	web := p.Services[0]
	p.Services = append(p.Services, store.Service{Name: name, Stack: stackdef.Uvicorn, Runtime: web.Runtime,
		App: name + "." + d.App, PathPrefix: "/" + name})
	return store.Route{Project: p.Name, PathPrefix: "/" + name, Kind: store.RouteService, Target: web.Name}, nil
}
