package engine

import (
	"os"
	"path/filepath"

	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/proxy"
	"github.com/devport/devport/store"
)

// staticCacheControl is what a static service's files are sent with: a
// development site must show an edit on the next reload, and the proxy's
// ETag and Last-Modified make that revalidation cheap (a 304).
const staticCacheControl = "no-cache"

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

// publicFolder is the project's public/ folder when the proxy serves its
// files ahead of Python service s at "/" (nginx's `root public; try_files
// $uri @app;`), else "". It is read from the folder at routing time, so a
// public/ created later counts after the next start.
func publicFolder(p store.Project, s store.Service) string {
	if !stackdef.IsPython(s.Stack) || cleanPrefix(s.PathPrefix) != "/" || p.Root == "" {
		return ""
	}
	dir := filepath.Join(p.Root, "public")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return ""
	}
	return dir
}

// folderNotes says which of a Python project's folders the proxy serves
// itself, for the preview before `devport add` creates it.
func folderNotes(dir, stack string) []string {
	if !stackdef.IsPython(stack) {
		return nil
	}
	var notes []string
	if fi, err := os.Stat(filepath.Join(dir, "static")); err == nil && fi.IsDir() {
		notes = append(notes, "static/ served by the proxy at /static")
	}
	if fi, err := os.Stat(filepath.Join(dir, "public")); err == nil && fi.IsDir() {
		notes = append(notes, "public/ files served by the proxy before the app (try_files)")
	}
	return notes
}

// staticFolderRoutes routes /static to the project's static/ folder when a
// Python app is the whole site: nginx's `location /static { alias …; }`
// of the seed layouts, served by the proxy instead of the app. (Apache
// serves a PHP site's files itself.)
func staticFolderRoutes(p store.Project) []store.Route {
	if len(p.Services) != 1 || p.Root == "" || !stackdef.IsPython(p.Services[0].Stack) {
		return nil
	}
	dir := filepath.Join(p.Root, "static")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil
	}
	return []store.Route{{Project: p.Name, PathPrefix: "/static", Kind: store.RouteStatic, Target: dir,
		CacheControl: staticCacheControl}}
}
