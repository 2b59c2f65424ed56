package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/proxy"
	"github.com/devport/devport/stacks"
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
	rt.Confine = p.Root // a symlink out of the project serves nothing
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
	app := ""
	if d, err := stacks.Detect(dir); err == nil && stackdef.Family(d.Stack) == stackdef.Family(stack) {
		app = d.App
	}
	switch st := stacks.AppStatic(dir, stack, app); {
	case st.Own:
		notes = append(notes, "static files served by the app's own StaticFiles mount (no proxy route)")
	case st.URL != "" && isFolder(st.Dir):
		rel, err := filepath.Rel(dir, st.Dir)
		if err != nil {
			rel = st.Dir
		}
		notes = append(notes, filepath.ToSlash(rel)+"/ served by the proxy at "+st.URL)
	}
	if fi, err := os.Stat(filepath.Join(dir, "public")); err == nil && fi.IsDir() {
		notes = append(notes, "public/ files served by the proxy before the app (try_files)")
	}
	return notes
}

// staticFolderRoutes routes the app's static files (stacks.AppStatic) to
// their folder when a Python app is the whole site: nginx's `location /static { alias …; }`
// of the seed layouts, served by the proxy instead of the app. (Apache
// serves a PHP site's files itself.)
//
// A Django project's settings come first (django.go): STATIC_URL to
// STATIC_ROOT and MEDIA_URL to MEDIA_ROOT, the folders made when missing
// (collectstatic fills the one, uploads the other) so that the routes, and
// the devport.toml `devport init` writes of them, name folders that exist.
// static/ is then one of Django's sources, not what the site serves.
func staticFolderRoutes(p store.Project) []store.Route {
	if len(p.Services) != 1 || p.Root == "" || !stackdef.IsPython(p.Services[0].Stack) {
		return nil
	}
	if ds, err := readDjango(context.Background(), p.Root, p.Services[0].Stack); err == nil {
		if routes := djangoRoutes(p, ds); len(routes) > 0 {
			for _, r := range routes {
				_ = os.MkdirAll(r.Target, 0o755) // a folder it cannot make shows as missing on the page
			}
			return routes
		}
	}
	// Flask's static folder and static_url_path (static/ beside the
	// module that makes the app: flaskr/static for flaskr/__init__.py), or
	// the project's static/; none for an ASGI app that mounts its own
	// StaticFiles, whose path a proxy route would take from it.
	st := stacks.AppStatic(p.Root, p.Services[0].Stack, p.Services[0].App)
	if st.Own || st.URL == "" {
		return nil
	}
	if !isFolder(st.Dir) || checkStaticFolder("static", p.Root, st.Dir) != nil {
		return nil // none, or a symlink out of the project: not served
	}
	return []store.Route{{Project: p.Name, PathPrefix: st.URL, Kind: store.RouteStatic, Target: st.Dir,
		CacheControl: staticCacheControl}}
}

// isFolder reports whether dir is a folder (following symlinks).
func isFolder(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}

// within reports whether path is root or lies under it, by their names.
func within(root, path string) bool {
	if root == "" {
		return false
	}
	rel, err := filepath.Rel(filepath.Clean(root), filepath.Clean(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// checkStaticFolder refuses a folder for the proxy to serve (field names
// it for the user) that lies in the project folder root by its name but
// leaves it by its real path: a symlink such as "files -> /etc" would
// otherwise serve /etc/shadow to anyone who can reach the proxy. A folder
// outside the project, named so on purpose, is the user's choice.
func checkStaticFolder(field, root, dir string) error {
	if !within(root, dir) {
		return nil
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil // the folder checks say what is missing
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return &store.ValidationError{Field: field, Value: dir, Reason: "does not exist",
			Fix: "create the folder, or name one that exists"}
	}
	if !within(realRoot, real) {
		return &store.ValidationError{Field: field, Value: dir,
			Reason: fmt.Sprintf("leads out of the project folder (to %s) through a symlink", real),
			Fix:    "serve a folder inside the project, or name the outside folder itself"}
	}
	return nil
}
