package store

import (
	"errors"
	"strings"
	"testing"
)

// checkValidation asserts err is a one-line *ValidationError for field whose
// message is want (exact when it contains a ";", else a substring).
func checkValidation(t *testing.T, err error, field, want string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v (%T), want *ValidationError", err, err)
	}
	if ve.Field != field {
		t.Errorf("Field = %q, want %q (%v)", ve.Field, field, err)
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("message is not one line: %q", msg)
	}
	if !strings.HasPrefix(msg, field+" ") {
		t.Errorf("message %q does not start with the field %q", msg, field)
	}
	if ve.Reason == "" || ve.Fix == "" {
		t.Errorf("message %q lacks a reason or a fix", msg)
	}
	if strings.Contains(want, ";") {
		if msg != want {
			t.Errorf("message =\n  %s\nwant\n  %s", msg, want)
		}
	} else if !strings.Contains(msg, want) {
		t.Errorf("message %q does not contain %q", msg, want)
	}
}

func TestValidationErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  ValidationError
		want string
	}{
		{"with fix", ValidationError{"domain", "Shop.com", "must end in .test or .localhost", "use --domain shop.test"},
			`domain "Shop.com": must end in .test or .localhost; use --domain shop.test`},
		{"without fix", ValidationError{Field: "name", Value: "x", Reason: "is bad"}, `name "x": is bad`},
		{"newlines stay on one line", ValidationError{"folder", "/a\nb", "line\nbreak", "fix\r\nit"},
			`folder "/a\nb": line break; fix it`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValidateName(t *testing.T) {
	long := strings.Repeat("a", 63)
	tests := []struct {
		name  string
		field string
		in    string
		want  string // "" = valid
	}{
		{"simple", "name", "shop", ""},
		{"digits and hyphens", "name", "my-shop-2", ""},
		{"starts with digit", "name", "2shop", ""},
		{"single char", "service", "a", ""},
		{"63 chars", "name", long, ""},
		{"empty", "name", "", `name "": must not be empty; use --name shop`},
		{"empty service", "service", "", `service "": must not be empty; use --service web`},
		{"64 chars", "name", long + "a", "must be at most 63 characters"},
		{"uppercase", "name", "Shop", `name "Shop": may only contain lowercase letters, digits and hyphens; use --name shop`},
		{"underscore", "service", "my_api", `service "my_api": may only contain lowercase letters, digits and hyphens; use --service my-api`},
		{"space", "name", "my shop", "use --name my-shop"},
		{"dot", "name", "shop.test", "use --name shop-test"},
		{"unicode", "name", "café", "may only contain lowercase letters"},
		{"leading hyphen", "name", "-shop", `name "-shop": must start with a lowercase letter or digit; use --name shop`},
		{"trailing hyphen", "name", "shop-", `name "shop-": must not end with a hyphen; use --name shop`},
		{"only hyphen", "name", "-", `name "-": must start with a lowercase letter or digit; use --name shop`},
		{"path", "name", "../etc", "use --name etc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateName(tc.field, tc.in)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ValidateName(%q) = %v, want nil", tc.in, err)
				}
				return
			}
			checkValidation(t, err, tc.field, tc.want)
		})
	}
}

func TestValidateDomain(t *testing.T) {
	l63 := strings.Repeat("a", 63)
	max := l63 + "." + l63 + "." + l63 + "." + strings.Repeat("b", 56) + ".test" // 253
	tests := []struct {
		name string
		in   string
		tlds []string
		want string // "" = valid
	}{
		{"simple", "shop.test", nil, ""},
		{"localhost", "shop.localhost", nil, ""},
		{"subdomain", "api.shop.test", nil, ""},
		{"mixed case", "Shop.Test", nil, ""},
		{"digits and hyphens", "my-shop2.test", nil, ""},
		{"all digits label", "123.test", nil, ""},
		{"punycode", "xn--caf-dma.test", nil, ""},
		{"63 char label", l63 + ".test", nil, ""},
		{"253 chars", max, nil, ""},
		{"multi-label TLD", "shop.dev.internal", []string{"dev.internal"}, ""},

		{"contract example", "Shop.com", nil, `domain "Shop.com": must end in .test or .localhost; use --domain shop.test`},
		{"wrong TLD", "api.shop.dev", nil, `domain "api.shop.dev": must end in .test or .localhost; use --domain api.shop.test`},
		{"one TLD listed", "shop.com", []string{"test"}, `domain "shop.com": must end in .test; use --domain shop.test`},
		{"three TLDs listed", "shop.com", []string{"test", "localhost", "internal"}, "must end in .test, .localhost or .internal"},
		{"single label", "shop", nil, `domain "shop": needs a name and a TLD, like shop.test; use --domain shop.test`},
		{"bare TLD", "test", nil, `domain "test": needs a name and a TLD, like shop.test; use --domain test.test`},
		{"bare multi-label TLD", "dev.internal", []string{"dev.internal"}, "must end in .dev.internal"},
		{"empty", "", nil, `domain "": must not be empty; use --domain with a name like shop.test`},
		{"wildcard", "*.shop.test", nil, `domain "*.shop.test": must not be a wildcard; a domain already covers its subdomains; use --domain shop.test`},
		{"port", "shop.test:8443", nil, `domain "shop.test:8443": must not include a port; use --domain shop.test`},
		{"scheme", "https://shop.test", nil, `domain "https://shop.test": must not include a scheme such as https://; use --domain shop.test`},
		{"url", "http://Shop.com:8080/x?y", nil, "use --domain shop.test"},
		{"path", "shop.test/api", nil, `domain "shop.test/api": must not include a path; use --domain shop.test`},
		{"trailing dot", "shop.test.", nil, `domain "shop.test.": must not end with a dot; use --domain shop.test`},
		{"leading dot", ".shop.test", nil, `domain ".shop.test": must not start with a dot; use --domain shop.test`},
		{"empty label", "shop..test", nil, `must not contain an empty label`},
		{"IPv4", "127.0.0.1", nil, `domain "127.0.0.1": must be a name, not an IP address; use --domain with a name like shop.test`},
		{"IPv4 with port", "127.0.0.1:443", nil, "must be a name, not an IP address"},
		{"IPv6", "::1", nil, "must be a name, not an IP address"},
		{"IPv6 bracketed", "[::1]:443", nil, "must be a name, not an IP address"},
		{"leading hyphen", "-shop.test", nil, `domain "-shop.test": label "-shop" must not start or end with a hyphen; use --domain shop.test`},
		{"trailing hyphen", "shop-.test", nil, `label "shop-" must not start or end with a hyphen`},
		{"underscore", "my_shop.test", nil, `domain "my_shop.test": may only contain letters, digits, hyphens and dots; use --domain my-shop.test`},
		{"space", "my shop.test", nil, "use --domain my-shop.test"},
		{"unicode", "café.test", nil, "may only contain letters, digits, hyphens and dots"},
		{"64 char label", l63 + "a.test", nil, "is longer than 63 characters"},
		{"254 chars", "a" + max, nil, "must be at most 253 characters"},
		{"no TLDs", "shop.test", []string{}, "no TLD is managed by devport"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tlds := tc.tlds
			if tlds == nil {
				tlds = testTLDs
			}
			err := ValidateDomain(tc.in, tlds)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ValidateDomain(%q) = %v, want nil", tc.in, err)
				}
				return
			}
			checkValidation(t, err, "domain", tc.want)
		})
	}
}

func TestValidateProject(t *testing.T) {
	web := Service{Name: "web", Stack: "php"}
	proj := func(mod func(*Project)) Project {
		p := Project{Name: "shop", Root: "/srv/shop", Domains: []string{"shop.test"}, Services: []Service{web}}
		mod(&p)
		return p
	}
	svc := func(s Service) Project { return proj(func(p *Project) { p.Services = []Service{s} }) }
	tests := []struct {
		name  string
		p     Project
		field string // "" = valid
		want  string
	}{
		{"valid", proj(func(*Project) {}), "", ""},
		{"proxy only without folder", Project{Name: "ext", Domains: []string{"ext.test"},
			Services: []Service{{Name: "a", Stack: "proxy", URL: "https://example.com/base"}}}, "", ""},
		{"default and explicit root prefix differ from /api", proj(func(p *Project) {
			p.Services = []Service{web, {Name: "api", Stack: "uvicorn", PathPrefix: "/api"}}
		}), "", ""},

		{"bad name", proj(func(p *Project) { p.Name = "Shop!" }), "name", `name "Shop!": may only contain lowercase letters, digits and hyphens; use --name shop`},
		{"relative folder", proj(func(p *Project) { p.Root = "shop" }), "folder",
			`folder "shop": must be an absolute path; pass the folder as an absolute path: devport add /home/me/shop`},
		{"folder required", proj(func(p *Project) { p.Root = "" }), "folder",
			`folder "": is required: service "web" is stack "php", and only stack "proxy" runs without a folder; pass the project folder: devport add DIR`},
		{"folder required with one proxy", proj(func(p *Project) {
			p.Root = ""
			p.Services = []Service{{Name: "ext", Stack: "proxy", URL: "http://127.0.0.1:3000", PathPrefix: "/ext"}, web}
		}), "folder", `service "web" is stack "php"`},
		{"no domains", proj(func(p *Project) { p.Domains = nil }), "domain",
			`domain "": a project needs at least one domain; add one with --domain shop.test`},
		{"bad domain", proj(func(p *Project) { p.Domains = []string{"shop.test", "Shop.com"} }), "domain",
			`domain "Shop.com": must end in .test or .localhost; use --domain shop.test`},
		{"domain twice", proj(func(p *Project) { p.Domains = []string{"shop.test", "SHOP.test"} }), "domain",
			`domain "SHOP.test": is listed twice for this project; give each --domain once`},
		{"no services", proj(func(p *Project) { p.Services = nil }), "service",
			`service "": a project needs at least one service; add one with --stack php or uvicorn, or --proxy URL`},
		{"bad service name", svc(Service{Name: "Web", Stack: "php"}), "service", `use --service web`},
		{"service twice", proj(func(p *Project) { p.Services = []Service{web, {Name: "web", Stack: "php", PathPrefix: "/x"}} }),
			"service", `service "web": is listed twice for this project; give each service its own name with --service`},
		{"no stack", svc(Service{Name: "web"}), "stack",
			`stack "": must not be empty (service "web"); use --stack php or uvicorn, or --proxy URL`},
		{"bad stack", svc(Service{Name: "web", Stack: "PHP 8"}), "stack", `may only contain lowercase letters, digits and hyphens (service "web")`},
		{"bad runtime", svc(Service{Name: "web", Stack: "php", Runtime: "Docker!"}), "runtime", "use --runtime process"},
		{"prefix without slash", svc(Service{Name: "web", Stack: "php", PathPrefix: "api"}), "path prefix",
			`path prefix "api": must start with "/" (service "web"); use --path-prefix /api`},
		{"prefix trailing slash", svc(Service{Name: "web", Stack: "php", PathPrefix: "/api/"}), "path prefix",
			`path prefix "/api/": must not end with "/" (service "web"); use --path-prefix /api`},
		{"prefix double slash", svc(Service{Name: "web", Stack: "php", PathPrefix: "/api//v1"}), "path prefix",
			`path prefix "/api//v1": must not contain "//" (service "web"); use --path-prefix /api/v1`},
		{"prefix only slashes", svc(Service{Name: "web", Stack: "php", PathPrefix: "//"}), "path prefix", `must not end with "/"`},
		{"prefix dot dot", svc(Service{Name: "web", Stack: "php", PathPrefix: "/a/../b"}), "path prefix",
			`path prefix "/a/../b": must not contain "." or ".." segments (service "web"); use --path-prefix /a/b`},
		{"prefix dot", svc(Service{Name: "web", Stack: "php", PathPrefix: "/./b"}), "path prefix", `"." or ".." segments`},
		{"prefix space", svc(Service{Name: "web", Stack: "php", PathPrefix: "/a b"}), "path prefix", "use --path-prefix /ab"},
		{"prefix query", svc(Service{Name: "web", Stack: "php", PathPrefix: "/a?b"}), "path prefix", `may only contain letters, digits`},
		{"prefix twice", proj(func(p *Project) {
			p.Services = []Service{web, {Name: "api", Stack: "uvicorn", PathPrefix: "/"}}
		}), "path prefix", `path prefix "/": is used by both service "web" and service "api"; give each service its own --path-prefix, e.g. /api`},
		{"proxy without url", svc(Service{Name: "ext", Stack: "proxy"}), "url",
			`url "": is required for stack "proxy" (service "ext"); use --proxy http://127.0.0.1:3000`},
		{"proxy ftp url", svc(Service{Name: "ext", Stack: "proxy", URL: "ftp://example.com"}), "url", "must start with http:// or https://"},
		{"proxy url without scheme", svc(Service{Name: "ext", Stack: "proxy", URL: "127.0.0.1:3000"}), "url", "must start with http:// or https://"},
		{"proxy url without host", svc(Service{Name: "ext", Stack: "proxy", URL: "http://:3000"}), "url", "must include a host"},
		{"proxy url unparsable", svc(Service{Name: "ext", Stack: "proxy", URL: "http://[::1"}), "url", "is not a valid URL"},
		{"url on php", svc(Service{Name: "web", Stack: "php", URL: "http://x"}), "url",
			`url "http://x": is only used by stack "proxy", not "php" (service "web"); drop --proxy, or give a folder instead`},
		{"relative docroot", svc(Service{Name: "web", Stack: "php", DocRoot: "public"}), "document root", "must be an absolute path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := validateProject(tc.p, testTLDs)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("validateProject = %v, want nil", err)
				}
				return
			}
			checkValidation(t, err, tc.field, tc.want)
		})
	}
}

func TestCheckTLDs(t *testing.T) {
	tests := []struct {
		name string
		tlds []string
		want string // "" = valid
	}{
		{"default", []string{"test", "localhost"}, ""},
		{"multi-label", []string{"dev.internal"}, ""},
		{"none", nil, "no managed TLD is configured"},
		{"leading dot", []string{"test", ".localhost"}, `tld ".localhost": must be given without the leading dot; use "localhost"`},
		{"empty", []string{""}, "must be a name such as test"},
		{"trailing dot", []string{"test."}, "must be a name such as test"},
		{"uppercase", []string{"Test"}, "must be lowercase letters"},
		{"empty label", []string{"a..b"}, "must be lowercase letters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkTLDs(tc.tlds)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("checkTLDs = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("checkTLDs = %v, want %q", err, tc.want)
			}
		})
	}
}
