package store

import (
	"strings"
	"testing"

	"github.com/devport/devport/manifest"
)

// agreeValues are values of every kind, hostile and benign, that the store
// and devport.toml must judge alike.
var agreeValues = []string{
	"", "public", "api", "/api", "/api/v1", "main:app", "api.main:app", "php:8.3-apache",
	"registry.example:5000/team/app@sha256:0123abcd", "public, max-age=2592000", "no-cache", "max-age=0, must-revalidate",
	"http://127.0.0.1:3000", "https://example.org/base", "http://[::1]:8080/x;v=1", "http://a_b:1", "http://127.0.0.1:0",
	"http://user:pw@127.0.0.1", "http://127.0.0.1/?q", "http://127.0.0.1/#f", "http://127.0.0.1/%20",
	"My Shop", "café", "a'b", "a;b", "a{b}", "a#b", "a%b", "a=b", "a(b)", "a b",
	`a"b`, `a\b`, "a$b", "${HOME}", "$(id)", "a\nb", "a\tb", "a\x00b", "a\x7fb", "\xff",
	`public"; return 302 "https://evil.example/`, "/p(y", "/py${X}", "/a=b", "/api$(id>/tmp/x)",
	"main:app;id", "php$(id)", "A", "A_B", "1A", "A-B", strings.Repeat("x", 300),
	"8.2", "7.4", "10.0", "8", "8.2.1", "v8.2", "8.2\n", " 8.2", "8.x", "08.02", "123.4",
}

// agreeKind is one kind of value, judged by the store and by devport.toml.
type agreeKind struct {
	name     string
	store    func(v string) bool // refuses
	manifest func(v string) bool // refuses
	skip     func(v string) bool // values outside the kind's shape
}

func agreeKinds() []agreeKind {
	manifestRefuses := func(f manifest.File, key string) bool {
		err := f.Validate()
		return err != nil && strings.Contains(err.Error(), key+": ")
	}
	web := func(s manifest.Service) manifest.File {
		return manifest.File{Services: map[string]manifest.Service{"web": s}}
	}
	return []agreeKind{
		{"folder",
			func(v string) bool { return ValidateFolder("folder", "/srv/pub/"+v) != nil },
			func(v string) bool {
				return manifestRefuses(web(manifest.Service{Stack: "php", DocRoot: "pub/" + v}), "services.web.docroot")
			},
			func(v string) bool { return strings.Contains(v, "..") }},
		{"path prefix",
			func(v string) bool { return validateService(Service{Name: "web", Stack: "php", PathPrefix: v}) != nil },
			func(v string) bool {
				return manifestRefuses(web(manifest.Service{Stack: "php", Prefix: v}), "services.web.prefix")
			},
			nil},
		{"url",
			func(v string) bool { return ValidateURL("url", v) != nil },
			func(v string) bool {
				f := web(manifest.Service{Stack: "php"})
				f.Routes = []manifest.Route{{Prefix: "/u", URL: v}}
				return manifestRefuses(f, "routes[0].url")
			},
			func(v string) bool { return v == "" }}, // "" means no url route in devport.toml
		{"cache control",
			func(v string) bool { return ValidateCacheControl(v) != nil },
			func(v string) bool {
				f := web(manifest.Service{Stack: "php"})
				f.Routes = []manifest.Route{{Prefix: "/s", Static: "s", CacheControl: v}}
				return manifestRefuses(f, "routes[0].cache_control")
			},
			nil},
		{"image",
			func(v string) bool { return ValidateImage(v) != nil },
			func(v string) bool {
				return manifestRefuses(web(manifest.Service{Stack: "php", Runtime: "container", Image: v}), "services.web.image")
			},
			nil},
		{"app",
			func(v string) bool { return ValidateApp(v) != nil },
			func(v string) bool {
				return manifestRefuses(web(manifest.Service{Stack: "uvicorn", App: v}), "services.web.app")
			},
			func(v string) bool { return v == "" }}, // a Python stack needs an app; the store leaves that to the app
		{"env name",
			func(v string) bool { return ValidateEnv(v, "x") != nil },
			func(v string) bool {
				return manifestRefuses(web(manifest.Service{Stack: "php", Env: map[string]string{v: "x"}}), "services.web.env."+v)
			},
			nil},
		{"env value",
			func(v string) bool { return ValidateEnv("A", v) != nil },
			func(v string) bool {
				return manifestRefuses(web(manifest.Service{Stack: "php", Env: map[string]string{"A": v}}), "services.web.env.A")
			},
			nil},
		{"php version",
			func(v string) bool { return validateService(Service{Name: "web", Stack: "php", PHP: v}) != nil },
			func(v string) bool {
				return manifestRefuses(web(manifest.Service{Stack: "php", PHP: v}), "services.web.php")
			},
			nil},
		{"reload pattern",
			func(v string) bool { return validateReload(Service{Name: "web", ReloadExclude: []string{v}}) != nil },
			func(v string) bool {
				return manifestRefuses(web(manifest.Service{Stack: "uvicorn", App: "main:app", ReloadExclude: []string{v}}), "services.web.reload_exclude[0]")
			},
			nil},
	}
}

// TestManifestAgrees holds store's rules and their copies in
// manifest/validate.go to the same verdict on every value: what one
// accepts, the other must not refuse (issue 11.6).
func TestManifestAgrees(t *testing.T) {
	for _, k := range agreeKinds() {
		t.Run(k.name, func(t *testing.T) {
			for _, v := range agreeValues {
				if k.skip != nil && k.skip(v) {
					continue
				}
				if s, m := k.store(v), k.manifest(v); s != m {
					t.Errorf("%q: store refuses = %v, devport.toml refuses = %v", v, s, m)
				}
			}
		})
	}
}

// FuzzManifestAgrees is TestManifestAgrees on random values.
func FuzzManifestAgrees(f *testing.F) {
	for _, v := range agreeValues {
		f.Add(v)
	}
	kinds := agreeKinds()
	f.Fuzz(func(t *testing.T, v string) {
		for _, k := range kinds {
			if k.skip != nil && k.skip(v) {
				continue
			}
			if s, m := k.store(v), k.manifest(v); s != m {
				t.Errorf("%s %q: store refuses = %v, devport.toml refuses = %v", k.name, v, s, m)
			}
		}
	})
}
