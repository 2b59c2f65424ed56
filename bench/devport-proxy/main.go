// Command devport-proxy runs devport's proxy package alone, for bench/run.sh:
// one HTTPS listener on loopback, bench.test "/" proxied to one origin and
// "/static" served from a folder, with a certificate from files.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // -pprof exposes /debug/pprof for profiling under load
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/devport/devport/proxy"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devport-proxy:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:9443", "HTTPS address (loopback)")
	origin := flag.String("origin", "127.0.0.1:9080", "upstream host:port")
	static := flag.String("static", "", "folder served at /static")
	certFile := flag.String("cert", "", "certificate PEM")
	keyFile := flag.String("key", "", "key PEM")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof here, e.g. 127.0.0.1:6060")
	accessDir := flag.String("access-log", "", "write the access log under this folder, as devport serve does")
	flag.Parse()
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		return fmt.Errorf("-cert/-key: %w", err)
	}
	var al *proxy.AccessLog
	if *accessDir != "" {
		if al, err = proxy.NewAccessLog(proxy.AccessLogConfig{
			Path: func(p string) string { return filepath.Join(*accessDir, p, "access.log") },
		}); err != nil {
			return err
		}
		defer al.Close(context.Background())
	}
	proxy.TuneGC() // as devport serve does
	srv := proxy.New(proxy.Config{
		AccessLog:      al,
		HTTPSAddrs:     []string{*listen},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil },
		Logger:         slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	routes := []proxy.Route{{Project: "bench", Service: "origin", Domains: []string{"bench.test", "127.0.0.1"},
		PathPrefix: "/", Upstream: &proxy.Upstream{Network: "tcp", Address: *origin}}}
	if *static != "" {
		routes = append(routes, proxy.Route{Project: "bench", Service: "static", Domains: []string{"bench.test", "127.0.0.1"},
			PathPrefix: "/static", Static: *static, CacheControl: "public, max-age=2592000"})
	}
	srv.SetRoutes(proxy.NewTable(routes))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Start(ctx); err != nil {
		return err
	}
	if *pprofAddr != "" {
		ps := &http.Server{Addr: *pprofAddr, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := ps.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fmt.Fprintln(os.Stderr, "pprof:", err)
			}
		}()
		defer ps.Close()
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
