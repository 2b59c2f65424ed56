package engine

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// stackFix names the stacks for error messages.
var (
	// webStacks are the stacks a project's web service may have.
	webStacks = stackdef.Names(func(d stackdef.Def) bool { return stackdef.Folder(d) && stackdef.Web(d) })
	stackFix  = "use --stack " + stackdef.List(webStacks, "or")
)

// Add validates the request, detects what it leaves out, and stores the
// project. Nothing is written unless every check passed.
func (m *Manager) Add(ctx context.Context, req wire.AddRequest) (store.Project, error) {
	p, routes, err := m.planAdd(ctx, req)
	if err != nil {
		return store.Project{}, err
	}
	for _, dr := range req.Data { // the data services asked for with it (data.go plans them)
		stack, err := checkDataRequest(dr)
		if err != nil {
			return store.Project{}, err
		}
		p.Data = append(p.Data, store.DataService{Name: dr.Name, Stack: stack, Runtime: cmp.Or(dr.Runtime, wire.RuntimeProcess),
			Image: dr.Image, Version: dr.Version})
	}
	return m.addPlanned(ctx, p, routes)
}

// planAdd is the project and routes Add stores for req, checked, before
// anything is stored (a parked folder's subfolders are planned so too).
func (m *Manager) planAdd(ctx context.Context, req wire.AddRequest) (store.Project, []store.Route, error) {
	// A folder's devport.toml, or the split shape: app/manifest.go.
	if p, routes, ok, err := planFromFile(ctx, req); ok || err != nil {
		if err == nil {
			err = m.planFilePHP(ctx, req, &p) // php.go
		}
		return p, routes, err
	}
	p, err := m.plan(req)
	if err != nil {
		return store.Project{}, nil, err
	}
	var routes []store.Route
	if req.Chain != "" {
		chain, err := planChain(&p, req.Chain)
		if err != nil {
			return store.Project{}, nil, err
		}
		routes = append(routes, chain)
	}
	routes = append(routes, staticFolderRoutes(p)...)
	return p, routes, nil
}

// issueCert issues (and caches) the certificate of a new domain while the
// engine serves, so the first visit needs no signing and a CA problem
// shows now rather than in the browser. The CLI without an engine has no
// cache to fill: the engine issues on the first handshake instead.
func (m *Manager) issueCert(domain string) {
	if m.srv.Load() == nil {
		return
	}
	if _, err := m.issuer.GetCertificate(&tls.ClientHelloInfo{ServerName: domain}); err != nil {
		m.log.Warn("issue certificate", "domain", domain, "err", err)
	}
}

// plan turns a request into the project to store.
func (m *Manager) plan(req wire.AddRequest) (store.Project, error) {
	if err := checkRuntime(req.Runtime, req.Image); err != nil {
		return store.Project{}, err
	}
	if req.Runtime == "" {
		req.Runtime = wire.RuntimeProcess
	}
	if req.Image != "" && req.Runtime != wire.RuntimeContainer {
		return store.Project{}, &store.ValidationError{Field: "image", Value: req.Image,
			Reason: "only the container runtime uses an image", Fix: "add --runtime container, or drop --image"}
	}
	if req.Proxy != "" {
		if req.PHP != "" {
			return store.Project{}, &store.ValidationError{Field: "php", Value: req.PHP,
				Reason: "a server you run yourself has no PHP devport chooses", Fix: "drop --php"}
		}
		return planProxy(req)
	}
	if req.Dir == "" {
		return store.Project{}, &store.ValidationError{Field: "folder", Reason: "missing",
			Fix: "pass the project folder: devport add DIR (or --proxy URL for a server you already run)"}
	}
	dir, err := filepath.Abs(req.Dir)
	if err != nil {
		return store.Project{}, fmt.Errorf("folder %q: %w", req.Dir, err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return store.Project{}, &store.ValidationError{Field: "folder", Value: req.Dir,
			Reason: "does not exist or is not a folder", Fix: "pass an existing project folder"}
	}
	name := req.Name
	if name == "" {
		name = nameFromFolder(dir)
	}
	domain := req.Domain
	if domain == "" {
		domain = name + ".test"
	}
	svc := store.Service{Name: "web", Runtime: req.Runtime, Image: req.Image, Stack: req.Stack, App: req.App}
	d, derr := stacks.Detect(dir)
	if svc.Stack == "" {
		if derr != nil {
			return store.Project{}, &store.ValidationError{Field: "stack", Value: dir,
				Reason: derr.Error(), Fix: "choose one with --stack php, or --stack uvicorn|gunicorn|wsgi|uwsgi --app MODULE:APP"}
		}
		svc.Stack = d.Stack
	}
	if derr == nil && stackdef.Family(d.Stack) == stackdef.Family(svc.Stack) {
		if svc.App == "" {
			svc.App = d.App
		}
		svc.DocRoot = d.DocRoot
	}
	if !slices.Contains(webStacks, svc.Stack) {
		return store.Project{}, &store.ValidationError{Field: "stack", Value: svc.Stack,
			Reason: "unknown stack", Fix: stackFix}
	}
	switch {
	case svc.Stack == stackdef.Static: // app/static.go: the proxy serves the folder
		if svc.Runtime != wire.RuntimeProcess || svc.App != "" {
			return store.Project{}, &store.ValidationError{Field: "stack", Value: svc.Stack,
				Reason: "a static site runs no app and no container: the proxy serves the folder", Fix: "drop --app, --runtime and --image"}
		}
	case svc.Stack != stackdef.PHP:
		if !appRE.MatchString(svc.App) {
			return store.Project{}, &store.ValidationError{Field: "app", Value: svc.App,
				Reason: svc.Stack + " needs the app as MODULE:ATTRIBUTE" + stacks.CandidatesFor(dir, svc.Stack), Fix: "pass --app main:app"}
		}
		svc.DocRoot = ""
	default:
		svc.App = ""
	}
	if err := checkServiceRuntime(context.Background(), svc.Runtime, svc.Stack, dir); err != nil {
		return store.Project{}, err
	}
	if err := m.planPHP(context.Background(), name, dir, &svc, req.PHP); err != nil { // php.go
		return store.Project{}, err
	}
	return store.Project{Name: name, Root: dir, Domains: []string{domain}, Services: []store.Service{svc}}, nil
}

// appRE is a Python service's app: MODULE:ATTRIBUTE, or MODULE:FACTORY()
// for a factory, which every Python stack's server calls at start.
var appRE = regexp.MustCompile(`^[A-Za-z_][\w.]*:[A-Za-z_]\w*(?:\(\))?$`)

func planProxy(req wire.AddRequest) (store.Project, error) {
	if req.Name == "" {
		return store.Project{}, &store.ValidationError{Field: "name", Reason: "missing",
			Fix: "name the site with --name NAME"}
	}
	u, err := url.Parse(req.Proxy)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return store.Project{}, &store.ValidationError{Field: "proxy", Value: req.Proxy,
			Reason: "not an http:// or https:// URL", Fix: "pass e.g. --proxy http://127.0.0.1:3000"}
	}
	domain := req.Domain
	if domain == "" {
		domain = req.Name + ".test"
	}
	return store.Project{Name: req.Name, Domains: []string{domain},
		Services: []store.Service{{Name: "web", Stack: stackdef.Proxy, Runtime: "process", URL: req.Proxy}}}, nil
}

// nameFromFolder makes a valid project name from a folder's base name:
// "My Shop_v2" becomes "my-shop-v2".
func nameFromFolder(dir string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(filepath.Base(dir)) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	name := strings.TrimRight(b.String(), "-")
	if len(name) > 63 {
		name = strings.TrimRight(name[:63], "-")
	}
	if name == "" {
		name = "site"
	}
	return name
}

// Remove stops a project if it runs, then deletes it from the store. A
// start in progress is cancelled, and the project's lock is held from the
// stop to the removal, so no start slips in between.
func (m *Manager) Remove(ctx context.Context, name string) error {
	if err := m.refuseParked(ctx, name); err != nil { // app/engine/park.go: it would come back
		return err
	}
	err := m.remove(ctx, name)
	if err == nil {
		m.syncHosts(ctx)
	}
	return err
}

// remove is Remove for a project of any kind, parked ones included. The
// caller brings the hosts block in step (syncHosts), once for all the
// projects it removes.
func (m *Manager) remove(ctx context.Context, name string) error {
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return err
	}
	m.cancelStarts(name)
	l := m.lock(name)
	l.Lock()
	defer l.Unlock()
	if err := m.stopLocked(ctx, name); err != nil && !errors.Is(err, ErrNotRunning) {
		return err
	}
	if err := m.removeProjectContainers(ctx, p); err != nil {
		return err
	}
	if err := m.db.RemoveProject(ctx, name); err != nil {
		return err
	}
	m.event(ctx, store.Event{Project: name, Kind: "removed"})
	m.publish()
	m.emit(wire.Event{Kind: wire.EventRemoved, Project: name})
	return nil
}

// List returns every project with its live state.
func (m *Manager) List(ctx context.Context) ([]wire.ProjectStatus, error) {
	ps, err := m.db.Projects(ctx)
	if err != nil {
		return nil, err
	}
	declared, err := m.db.Routes(ctx, "")
	if err != nil {
		return nil, err
	}
	parked, err := m.db.ParkedProjects(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]wire.ProjectStatus, 0, len(ps))
	for _, p := range ps {
		st := m.status(p)
		st.Routes = routeRows(p, declared)
		st.Parked = parked[p.Name]
		out = append(out, st)
	}
	return out, nil
}

// Status is project name with its live state and its routes.
func (m *Manager) Status(ctx context.Context, name string) (wire.ProjectStatus, error) {
	p, declared, err := m.projectRoutes(ctx, name)
	if err != nil {
		return wire.ProjectStatus{}, err
	}
	st := m.status(p)
	st.Routes = routeRows(p, declared)
	st.Parked, _ = m.parkedDir(ctx, name)
	return st, nil
}

func (m *Manager) status(p store.Project) wire.ProjectStatus {
	st := wire.ProjectStatus{Name: p.Name, Root: p.Root, Domains: p.Domains, URL: m.siteURL(p.Domains[0]), State: wire.StateStopped}
	m.mu.Lock()
	r := m.runs[p.Name]
	if r != nil {
		st.State, st.Reason = r.state, r.reason
	}
	for _, s := range p.Services {
		ss := wire.ServiceStatus{Name: s.Name, Stack: s.Stack, Runtime: s.Runtime, PathPrefix: s.PathPrefix,
			App: s.App, DocRoot: s.DocRoot, URL: s.URL, Debug: s.Debug, Env: s.Env}
		if s.Runtime == wire.RuntimeContainer {
			ss.Image = m.containerImage(context.Background(), s)
		}
		if s.Stack == stackdef.PHP {
			ss.PHP, ss.PHPFrom, ss.Image = m.shownPHP(p, s, r, ss.Image)
		}
		if !stackdef.RunsNothing(s.Stack) {
			ss.Log = m.paths.ServiceLog(p.Name, s.Name)
		}
		if r != nil && r.state == wire.StateRunning {
			if sr := r.services[s.Name]; sr != nil {
				ss.Upstream = sr.upstream.String()
			}
		}
		st.Services = append(st.Services, ss)
	}
	st.Data = m.dataStatus(p, r) // data.go
	st.FollowBranch = p.FollowBranch
	st.PHPIni, st.Xdebug = p.PHPIni, p.Xdebug
	st.BeforeStart = p.BeforeStart
	m.mu.Unlock()
	return st
}

// siteURL is the https URL of a domain, with the port when it is not 443.
// Without a serving engine it uses the port the last engine listened on.
func (m *Manager) siteURL(domain string) string {
	port := int(m.httpsPort.Load())
	if port == 0 {
		if v, ok, err := m.db.Setting(context.Background(), settingHTTPSPort); err == nil && ok {
			fmt.Sscan(v, &port)
		}
	}
	return wire.SiteURL(domain, port)
}
