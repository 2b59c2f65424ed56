package proxy

import (
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// On-the-fly compression, as nginx's "gzip on; gzip_types text/* ...;":
// a text response that the backend sent uncompressed is gzipped when the
// client accepts gzip. Brotli has no encoder in the standard library, so
// brotli is served only from precompressed .br files (static routes).

// minCompressSize is the smallest declared body worth compressing (the
// gzip header and trailer alone are 18 bytes); nginx's gzip_min_length
// is in the same spirit.
const minCompressSize = 256

// gzipLevel is nginx's default gzip_comp_level (1): on loopback the CPU is
// the cost, not the bytes.
const gzipLevel = gzip.BestSpeed

// gzipPool recycles gzip writers: each holds about 800 KiB of tables.
type gzipPool struct{ p sync.Pool }

func (gp *gzipPool) get(w http.ResponseWriter) *gzip.Writer {
	if zw, ok := gp.p.Get().(*gzip.Writer); ok {
		zw.Reset(w)
		return zw
	}
	zw, _ := gzip.NewWriterLevel(w, gzipLevel) // the level is valid
	return zw
}

func (gp *gzipPool) put(zw *gzip.Writer) { gp.p.Put(zw) }

// wantsGzip reports whether r's response may be compressed on the fly:
// the client accepts gzip, and the request is neither HEAD nor a
// protocol switch nor a range request.
func wantsGzip(r *http.Request) bool {
	ae := r.Header["Accept-Encoding"]
	if len(ae) == 0 || r.Method == http.MethodHead || r.Header.Get("Range") != "" ||
		r.Header.Get("Upgrade") != "" {
		return false
	}
	return acceptsEncoding(strings.Join(ae, ","), "gzip")
}

// compressible reports whether a response with header h and status code
// should be gzipped.
func compressible(code int, h http.Header) bool {
	if code < 200 || code == http.StatusNoContent || code == http.StatusPartialContent ||
		code == http.StatusNotModified {
		return false
	}
	if h.Get("Content-Encoding") != "" || h.Get("Content-Range") != "" ||
		strings.Contains(h.Get("Cache-Control"), "no-transform") {
		return false
	}
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err != nil || n < minCompressSize {
			return false
		}
	}
	return compressibleType(h.Get("Content-Type"))
}

// compressibleType is the text-like media types: text/* except
// server-sent events (compressing them would delay each event until the
// next flush), JSON, JavaScript, XML, SVG and a few more.
func compressibleType(ct string) bool {
	ct, _, _ = strings.Cut(ct, ";")
	ct = strings.ToLower(strings.TrimSpace(ct))
	switch {
	case ct == "text/event-stream":
		return false
	case strings.HasPrefix(ct, "text/"):
		return true
	case strings.HasSuffix(ct, "+json"), strings.HasSuffix(ct, "+xml"):
		return true
	}
	switch ct {
	case "application/json", "application/javascript", "application/x-javascript",
		"application/xml", "application/wasm", "application/manifest+json",
		"application/x-ndjson", "image/svg+xml", "image/x-icon", "application/graphql-response+json":
		return true
	}
	return false
}

// gzipWriter compresses a response when, at WriteHeader, it turns out to
// be compressible. Flush flushes the compressor first, so a streamed
// response still reaches the client as it is produced.
type gzipWriter struct {
	http.ResponseWriter
	pool    *gzipPool
	zw      *gzip.Writer
	decided bool
}

func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

func (g *gzipWriter) WriteHeader(code int) {
	if g.decided || (code >= 100 && code < 200 && code != http.StatusSwitchingProtocols) {
		g.ResponseWriter.WriteHeader(code)
		return
	}
	g.decided = true
	h := g.Header()
	if compressible(code, h) {
		h.Del("Content-Length")
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		if et := h.Get("Etag"); et != "" && !strings.HasPrefix(et, "W/") {
			// The bytes differ from the backend's: only weakly equal.
			h.Set("Etag", "W/"+et)
		}
		g.zw = g.pool.get(g.ResponseWriter)
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) Write(p []byte) (int, error) {
	if !g.decided {
		g.WriteHeader(http.StatusOK)
	}
	if g.zw != nil {
		return g.zw.Write(p)
	}
	return g.ResponseWriter.Write(p)
}

// Flush sends what the compressor holds, then flushes the connection.
func (g *gzipWriter) Flush() {
	if g.zw != nil {
		_ = g.zw.Flush()
	}
	_ = http.NewResponseController(g.ResponseWriter).Flush()
}

// close finishes the gzip stream; the handler calls it once the reverse
// proxy is done.
func (g *gzipWriter) close() {
	if g.zw != nil {
		_ = g.zw.Close()
		g.pool.put(g.zw)
		g.zw = nil
	}
}
