package app

import (
	"os"
	"path/filepath"

	"github.com/devport/devport/proxy"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// staticCacheControl is what a static service's files are sent with: a
// development site must show an edit on the next reload, and the proxy's
// ETag and Last-Modified make that revalidation cheap (a 304).
const staticCacheControl = "no-cache"

// runsNothing reports whether a service of stack starts no process: a
// server the user runs (proxy) or a folder the proxy serves (static).
func runsNothing(stack string) bool {
	return stack == "proxy" || stack == stacks.StackStatic
}

// staticFolder is the folder a static service serves: its DocRoot, else
// the project folder.
func staticFolder(p store.Project, s store.Service) string {
	if s.DocRoot != "" {
		return s.DocRoot
	}
	return filepath.Clean(p.Root)
}

// staticRoute fills rt for a static service: always served, running or
// not, since there is nothing to start.
func staticRoute(rt *proxy.Route, p store.Project, s store.Service) {
	rt.Static = staticFolder(p, s)
	rt.CacheControl = staticCacheControl
	rt.StartCommand = ""
}

// staticFolderRoutes routes /static to the project's static/ folder when a
// Python app is the whole site: nginx's `location /static { alias …; }`
// of the seed layouts, served by the proxy instead of the app. (Apache
// serves a PHP site's files itself.)
func staticFolderRoutes(p store.Project) []store.Route {
	if len(p.Services) != 1 || p.Root == "" {
		return nil
	}
	switch p.Services[0].Stack {
	case stacks.StackUvicorn, stacks.StackGunicorn, stacks.StackWSGI, stacks.StackUWSGI:
	default:
		return nil
	}
	dir := filepath.Join(p.Root, "static")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil
	}
	return []store.Route{{Project: p.Name, PathPrefix: "/static", Kind: store.RouteStatic, Target: dir,
		CacheControl: staticCacheControl}}
}
