package proxy

import (
	"net/url"
	"testing"
)

func TestTableMatch(t *testing.T) {
	up := &Upstream{Network: "tcp", Address: "127.0.0.1:1"}
	table := NewTable([]Route{
		{Service: "web", Domains: []string{"shop.test"}, PathPrefix: "/", Upstream: up},
		{Service: "api", Domains: []string{"shop.test"}, PathPrefix: "/api", Upstream: up},
		{Service: "v2", Domains: []string{"shop.test"}, PathPrefix: "/api/v2/", Upstream: up},
		{Service: "dup", Domains: []string{"shop.test"}, PathPrefix: "/api", Upstream: up},
		{Service: "admin", Domains: []string{"admin.shop.test"}, PathPrefix: "", Upstream: up},
		{Service: "blog", Domains: []string{" Blog.Test. ", "blog.localhost"}, PathPrefix: "/"},
		{Service: "only-api", Domains: []string{"svc.test"}, PathPrefix: "api"},
	})
	tests := []struct {
		name, host, path string
		want             string // service, "" for no match
	}{
		{"exact domain root", "shop.test", "/", "web"},
		{"exact domain other path", "shop.test", "/cart/1", "web"},
		{"empty path is root", "shop.test", "", "web"},
		{"prefix itself", "shop.test", "/api", "api"},
		{"prefix with slash", "shop.test", "/api/", "api"},
		{"under prefix", "shop.test", "/api/items/3", "api"},
		{"segment boundary", "shop.test", "/apix", "web"},
		{"segment boundary deeper", "shop.test", "/api/v20", "api"},
		{"longest prefix wins", "shop.test", "/api/v2/x", "v2"},
		{"longest prefix exact", "shop.test", "/api/v2", "v2"},
		{"prefix is case sensitive", "shop.test", "/API/x", "web"},
		{"port stripped", "shop.test:8443", "/api", "api"},
		{"host case-insensitive", "SHOP.Test", "/api", "api"},
		{"trailing dot", "shop.test.", "/", "web"},
		{"trailing dot and port", "shop.test.:443", "/", "web"},
		{"subdomain", "www.shop.test", "/api/x", "api"},
		{"deep subdomain", "a.b.c.shop.test", "/", "web"},
		{"own route beats parent", "admin.shop.test", "/api", "admin"},
		{"subdomain of subdomain route", "x.admin.shop.test", "/", "admin"},
		{"configured domain normalized", "blog.test", "/", "blog"},
		{"second domain", "www.blog.localhost:8443", "/", "blog"},
		{"suffix is not a subdomain", "myshop.test", "/", ""},
		{"parent is not served", "test", "/", ""},
		{"unknown host", "nowhere.test", "/", ""},
		{"ip host", "127.0.0.1:443", "/", ""},
		{"ipv6 host", "[::1]:443", "/", ""},
		{"no route for path", "svc.test", "/", ""},
		{"prefix without leading slash", "svc.test", "/api/x", "only-api"},
		{"empty host", "", "/", ""},
		{"invalid host", "shop test", "/", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt, ok := table.Match(tc.host, tc.path)
			got := ""
			if ok {
				got = rt.Service
			}
			if got != tc.want {
				t.Errorf("Match(%q, %q) = %q, want %q", tc.host, tc.path, got, tc.want)
			}
		})
	}
}

func TestTableLookupKnownHost(t *testing.T) {
	table := NewTable([]Route{{Service: "api", Domains: []string{"svc.test"}, PathPrefix: "/api"}})
	tests := []struct {
		name, host, path string
		wantIndex        int
		wantKnown        bool
	}{
		{"matched", "svc.test", "/api", 0, true},
		{"known host, path not covered", "svc.test", "/", -1, true},
		{"subdomain, path not covered", "x.svc.test", "/", -1, true},
		{"unknown host", "other.test", "/api", -1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			i, known := table.lookup(tc.host, tc.path)
			if i != tc.wantIndex || known != tc.wantKnown {
				t.Errorf("lookup(%q, %q) = %d, %v; want %d, %v", tc.host, tc.path, i, known, tc.wantIndex, tc.wantKnown)
			}
		})
	}
}

func TestNewTableCopiesInput(t *testing.T) {
	u, _ := url.Parse("http://example.test:3000/base")
	routes := []Route{{
		Service:  "web",
		Domains:  []string{"shop.test"},
		Upstream: &Upstream{Network: "tcp", Address: "127.0.0.1:8081"},
		URL:      u,
	}}
	table := NewTable(routes)
	routes[0].Service = "changed"
	routes[0].Domains[0] = "other.test"
	routes[0].Upstream.Address = "127.0.0.1:9999"
	u.Host = "changed.test"

	rt, ok := table.Match("shop.test", "/")
	if !ok {
		t.Fatal("shop.test no longer matches after the input changed")
	}
	if rt.Service != "web" || rt.Domains[0] != "shop.test" || rt.Upstream.Address != "127.0.0.1:8081" || rt.URL.Host != "example.test:3000" {
		t.Errorf("table changed with its input: %+v (upstream %v, url %v)", rt, rt.Upstream, rt.URL)
	}
	if _, ok := table.Match("other.test", "/"); ok {
		t.Error("other.test matches: the table shares its Domains slice with the input")
	}
}

func TestTableDomains(t *testing.T) {
	table := NewTable([]Route{
		{Domains: []string{"shop.test", "www.shop.test"}, PathPrefix: "/"},
		{Domains: []string{"shop.test"}, PathPrefix: "/api"},
		{Domains: []string{"Blog.test", "blog.test"}, PathPrefix: "/"},
	})
	want := []string{"blog.test", "shop.test", "www.shop.test"}
	if got := table.domains; len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("domains = %q, want %q", got, want)
	}
}

func TestNormalizeHost(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", "shop.test", "shop.test", true},
		{"upper", "Shop.TEST", "shop.test", true},
		{"port", "shop.test:8443", "shop.test", true},
		{"empty port", "shop.test:", "shop.test", true},
		{"trailing dot", "shop.test.", "shop.test", true},
		{"ipv4", "127.0.0.1:443", "127.0.0.1", true},
		{"ipv6 with port", "[::1]:443", "::1", true},
		{"ipv6 no port", "[::1]", "::1", true},
		{"underscore", "my_app.test", "my_app.test", true},
		{"empty", "", "", false},
		{"only port", ":443", "", false},
		{"only dot", ".", "", false},
		{"bare ipv6", "::1", "", false},
		{"bad port", "shop.test:https", "", false},
		{"two ports", "shop.test:1:2", "", false},
		{"space", "shop test", "", false},
		{"slash", "shop.test/x", "", false},
		{"unclosed bracket", "[::1", "", false},
		{"junk after bracket", "[::1]x", "", false},
		{"not an ip in brackets", "[shop.test]", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := normalizeHost(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("normalizeHost(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestCleanPath(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"root", "/", "/"},
		{"empty", "", "/"},
		{"plain", "/api/x", "/api/x"},
		{"trailing slash kept", "/api/", "/api/"},
		{"dot dot", "/api/../admin", "/admin"},
		{"dot dot above root", "/../../x", "/x"},
		{"double slash", "//api//x/", "/api/x/"},
		{"dot", "/./api", "/api"},
		{"dotfile untouched", "/.well-known/x", "/.well-known/x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := cleanPath(tc.in); got != tc.want {
				t.Errorf("cleanPath(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestUpstreamString(t *testing.T) {
	tests := []struct {
		name string
		up   Upstream
		want string
	}{
		{"tcp", Upstream{Network: "tcp", Address: "127.0.0.1:8081"}, "http://127.0.0.1:8081"},
		{"default network", Upstream{Address: "127.0.0.1:8081"}, "http://127.0.0.1:8081"},
		{"unix", Upstream{Network: "unix", Address: "/run/x.sock"}, "unix:/run/x.sock"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.up.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func BenchmarkMatch(b *testing.B) {
	var routes []Route
	for _, d := range []string{"shop.test", "blog.test", "api.test", "docs.test", "crm.test"} {
		for _, p := range []string{"/", "/api", "/api/v2", "/static", "/admin"} {
			routes = append(routes, Route{Domains: []string{d}, PathPrefix: p})
		}
	}
	table := NewTable(routes)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := table.Match("www.Shop.test:8443", "/api/v2/items/42"); !ok {
			b.Fatal("no match")
		}
	}
}
