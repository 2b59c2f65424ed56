package proxy

import (
	"errors"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
)

// staticHandler serves a route's folder (Route.Static) the way nginx's
// "location /static { alias DIR; expires 30d; gzip_static on; }" does:
// GET and HEAD only, content types by extension, ETag and Last-Modified
// with conditional requests, Range, precompressed .br and .gz siblings
// for clients that accept them, and the route's Cache-Control.
//
// Every file is opened through an os.Root on the folder, so no request
// reaches outside it: not by "..", not by an encoded slash, and not by a
// symlink that points out (symlinks that stay inside are followed).
// Hidden files and folders (any name that starts with ".": .env,
// .git/config) are never served, but for .well-known/ at the top. With a confine folder (Route.Confine,
// the project folder) the folder itself is opened through an os.Root on
// that one, so a folder that is, or passes through, a symlink out of the
// project serves nothing. The folder is opened per request, so it may be
// created, replaced or removed while the route is installed.
type staticHandler struct {
	dir          string
	prefix       string
	cacheControl string
	// confine, when set, is the folder dir must stay inside, and rel is
	// dir relative to it ("" when dir cannot be inside: serve nothing).
	confine, rel string
	// log receives one line when the folder leads out of confine.
	log    *slog.Logger
	warned atomic.Bool
}

// newStaticHandler serves dir for a route at prefix, confined to confine
// when it is not empty.
func newStaticHandler(dir, prefix, cacheControl, confine string, log *slog.Logger) *staticHandler {
	h := &staticHandler{dir: dir, prefix: prefix, cacheControl: cacheControl, confine: confine, log: log}
	if confine != "" {
		h.rel = confinedRel(confine, dir)
	}
	return h
}

// confinedRel is dir relative to confine: by their real paths when both
// exist (so a project reached through a symlink, or a folder named through
// one, still fits, and a symlink out is found now), else by their names;
// "" when dir is outside confine. Either way os.Root checks again on every
// request.
func confinedRel(confine, dir string) string {
	inside := func(base, p string) string {
		rel, err := filepath.Rel(base, p)
		if err != nil || !filepath.IsLocal(rel) {
			return ""
		}
		return rel
	}
	c, errC := filepath.Abs(confine)
	d, errD := filepath.Abs(dir)
	if errC != nil || errD != nil {
		return ""
	}
	rc, errC := filepath.EvalSymlinks(c)
	rd, errD := filepath.EvalSymlinks(d)
	if errC == nil && errD == nil {
		return inside(rc, rd)
	}
	return inside(c, d)
}

// errOutsideConfine refuses a static folder that leads out of its
// route's confine folder.
var errOutsideConfine = errors.New("the folder is outside the project folder")

// openRoot opens the folder as an os.Root, through the confine folder
// when there is one. A folder that leads out of it is logged once.
func (h *staticHandler) openRoot() (*os.Root, error) {
	if h.confine == "" {
		return os.OpenRoot(h.dir)
	}
	if h.rel == "" {
		h.refuse(errOutsideConfine)
		return nil, errOutsideConfine
	}
	base, err := os.OpenRoot(h.confine)
	if err != nil {
		return nil, err
	}
	defer base.Close()
	root, err := base.OpenRoot(h.rel)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		// Most likely "path escapes from parent": a symlink out.
		h.refuse(err)
	}
	return root, err
}

// refuse logs, once, that the folder serves nothing.
func (h *staticHandler) refuse(err error) {
	if h.log != nil && h.warned.CompareAndSwap(false, true) {
		h.log.Warn("static folder leads out of its project folder; serving nothing from it",
			"dir", h.dir, "confine", h.confine, "err", err)
	}
}

// hidden reports whether a name under the folder has a segment that
// starts with ".": dotfiles and dot-folders are never served, but for the
// public .well-known/ at the top (RFC 8615), as devport's Apache configs
// do too.
func hidden(name string) bool {
	if rest, ok := strings.CutPrefix(name, ".well-known/"); ok {
		name = rest
	}
	for name != "" {
		var seg string
		seg, name, _ = strings.Cut(name, "/")
		if seg != "" && seg[0] == '.' && seg != "." {
			return true
		}
	}
	return false
}

// fileName is the name under the folder of routed path urlPath ("." for
// the folder itself); false for a name os.Root must never see (a NUL
// byte).
func (h *staticHandler) fileName(urlPath string) (string, bool) {
	rel := urlPath
	if h.prefix != "/" {
		rel = strings.TrimPrefix(urlPath, h.prefix)
	}
	name := strings.TrimPrefix(rel, "/")
	if strings.IndexByte(name, 0) >= 0 {
		return "", false
	}
	if name == "" {
		name = "."
	}
	return name, true
}

// precompressed are the sibling encodings tried, best first.
var precompressed = [...]struct{ encoding, suffix string }{
	{"br", ".br"},
	{"gzip", ".gz"},
}

func (h *staticHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, urlPath string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		plainError(w, http.StatusMethodNotAllowed, "405 Method Not Allowed: static files are read only.\n")
		return
	}
	name, ok := h.fileName(urlPath)
	if !ok {
		plainError(w, http.StatusBadRequest, "400 Bad Request: invalid path.\n")
		return
	}
	if hidden(name) {
		plainError(w, http.StatusNotFound, "404 Not Found: "+urlPath+"\n")
		return
	}
	root, err := h.openRoot()
	if errors.Is(err, errOutsideConfine) || err != nil && !errors.Is(err, fs.ErrNotExist) {
		plainError(w, http.StatusNotFound, "404 Not Found: the static folder of this route leads out of its project folder.\n")
		return
	}
	if err != nil {
		plainError(w, http.StatusNotFound, "404 Not Found: the static folder of this route is missing.\n")
		return
	}
	defer root.Close()

	f, fi, err := openRegular(root, name)
	if errors.Is(err, errIsDir) {
		if !strings.HasSuffix(urlPath, "/") {
			// Relative links in the index must resolve inside the folder.
			target := path.Base(urlPath) + "/"
			if q := r.URL.RawQuery; q != "" {
				target += "?" + q
			}
			w.Header().Set("Location", target)
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
		name = path.Join(name, "index.html")
		f, fi, err = openRegular(root, name)
	}
	if err != nil {
		plainError(w, http.StatusNotFound, "404 Not Found: "+urlPath+"\n")
		return
	}
	defer f.Close()

	hdr := w.Header()
	ctype := mime.TypeByExtension(path.Ext(name))
	etag := staticETag(fi, "")
	accept := r.Header.Get("Accept-Encoding")
	vary := false
	for _, pc := range precompressed {
		// The sibling must exist even for clients that do not accept
		// it, so that caches key on Accept-Encoding.
		cf, cfi, err := openRegular(root, name+pc.suffix)
		if err != nil {
			continue
		}
		vary = true
		if !acceptsEncoding(accept, pc.encoding) {
			cf.Close()
			continue
		}
		f.Close()
		f, fi = cf, cfi
		defer cf.Close()
		hdr.Set("Content-Encoding", pc.encoding)
		etag = staticETag(fi, pc.encoding)
		break
	}
	if vary {
		hdr.Add("Vary", "Accept-Encoding")
	}
	if ctype != "" {
		hdr.Set("Content-Type", ctype)
	} else if hdr.Get("Content-Encoding") != "" {
		// Sniffing would look at compressed bytes.
		hdr.Set("Content-Type", "application/octet-stream")
	}
	hdr.Set("Etag", etag)
	if h.cacheControl != "" {
		hdr.Set("Cache-Control", h.cacheControl)
	}
	http.ServeContent(w, r, name, fi.ModTime(), f)
}

// hasFile reports whether r is a GET or HEAD whose routed path urlPath
// names a regular file in the folder (try_files $uri): directories never
// match, so "/" stays with the backend.
func (h *staticHandler) hasFile(r *http.Request, urlPath string) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	name, ok := h.fileName(urlPath)
	if !ok || name == "." || hidden(name) {
		return false
	}
	root, err := h.openRoot()
	if err != nil {
		return false
	}
	defer root.Close()
	fi, err := root.Stat(name)
	return err == nil && fi.Mode().IsRegular()
}

var errIsDir = errors.New("is a directory")

// openRegular opens name under root and insists on a regular file
// (errIsDir for a directory), so devices and sockets are never served.
func openRegular(root *os.Root, name string) (*os.File, fs.FileInfo, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, nil, errIsDir
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fs.ErrNotExist
	}
	return f, fi, nil
}

// staticETag is nginx's ETag, "mtime-size" in hex, with the encoding
// appended for a precompressed sibling (its bytes differ).
func staticETag(fi fs.FileInfo, encoding string) string {
	b := make([]byte, 0, 40)
	b = append(b, '"')
	b = strconv.AppendInt(b, fi.ModTime().Unix(), 16)
	b = append(b, '-')
	b = strconv.AppendInt(b, fi.Size(), 16)
	if encoding != "" {
		b = append(b, '-')
		b = append(b, encoding...)
	}
	b = append(b, '"')
	return string(b)
}

// acceptsEncoding reports whether an Accept-Encoding header value allows
// enc: listed (or "*") without q=0.
func acceptsEncoding(header, enc string) bool {
	for header != "" {
		var part string
		part, header, _ = strings.Cut(header, ",")
		name, params, _ := strings.Cut(part, ";")
		name = strings.TrimSpace(name)
		if !strings.EqualFold(name, enc) && name != "*" {
			continue
		}
		q := strings.TrimSpace(params)
		if v, ok := strings.CutPrefix(q, "q="); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// plainError sends a short uncached text answer.
func plainError(w http.ResponseWriter, status int, text string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(text)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text))
}
