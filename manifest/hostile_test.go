package manifest

import (
	"errors"
	"strings"
	"testing"
)

// TestParseHostile is issue 11.6 for devport.toml, which may come from a
// cloned repository: every value some consumer (Apache's config, a command
// line, the nginx or compose export) cannot carry is refused with the file,
// line and key, before anything is stored.
func TestParseHostile(t *testing.T) {
	const web = "[services.web]\nstack = \"php\"\n"
	tests := []struct {
		name, src string
		want      string // "file:line: key"
	}{
		{"prefix with a parenthesis", "[services.web]\nstack = \"php\"\nprefix = \"/p(y\"\n", "f.toml:3: services.web.prefix"},
		{"prefix with a variable", "[services.web]\nstack = \"php\"\nprefix = \"/py${X}\"\n", "f.toml:3: services.web.prefix"},
		{"prefix with a command substitution", "[services.web]\nstack = \"uvicorn\"\napp = \"main:app\"\nprefix = \"/api$(id>/tmp/x)\"\n", "f.toml:4: services.web.prefix"},
		{"uwsgi prefix with =", "[services.web]\nstack = \"uwsgi\"\napp = \"app:app\"\nprefix = \"/a=b\"\n", "f.toml:4: services.web.prefix"},
		{"route prefix with a variable", web + "[[routes]]\nprefix = \"/py${X}\"\nservice = \"web\"\n", "f.toml:4: routes[0].prefix"},
		{"docroot with a quote", web + "docroot = \"pub\\\"lic\"\n", "f.toml:3: services.web.docroot"},
		{"docroot with a newline", web + "docroot = \"pub\\nInclude /etc/passwd\"\n", "f.toml:3: services.web.docroot"},
		{"docroot with a control character", web + "docroot = \"pub\\u0001\"\n", "f.toml:3: services.web.docroot"},
		{"docroot with an Apache variable", web + "docroot = \"${HOME}\"\n", "f.toml:3: services.web.docroot"},
		{"docroot with a backslash", web + "docroot = 'pub\\lic'\n", "f.toml:3: services.web.docroot"},
		{"static with a quote", web + "[[routes]]\nprefix = \"/s\"\nstatic = \"a\\\"b\"\n", "f.toml:5: routes[0].static"},
		{"static with an nginx variable", web + "[[routes]]\nprefix = \"/s\"\nstatic = \"$document_root\"\n", "f.toml:5: routes[0].static"},
		{"cache control with an nginx directive", web + "[[routes]]\nprefix = \"/s\"\nstatic = \"s\"\ncache_control = 'public\"; return 302 \"https://evil.example/'\n", "f.toml:6: routes[0].cache_control"},
		{"cache control with a semicolon", web + "[[routes]]\nprefix = \"/s\"\nstatic = \"s\"\ncache_control = \"public; x\"\n", "f.toml:6: routes[0].cache_control"},
		{"cache control with braces", web + "[[routes]]\nprefix = \"/s\"\nstatic = \"s\"\ncache_control = \"public } {\"\n", "f.toml:6: routes[0].cache_control"},
		{"url with a space", web + "[[routes]]\nprefix = \"/u\"\nurl = \"http://127.0.0.1:3000/a b\"\n", "f.toml:5: routes[0].url"},
		{"url with a quote", web + "[[routes]]\nprefix = \"/u\"\nurl = 'http://127.0.0.1:3000/a\"b'\n", "f.toml:5: routes[0].url"},
		{"url with an nginx variable", web + "[[routes]]\nprefix = \"/u\"\nurl = \"http://127.0.0.1:3000/$host\"\n", "f.toml:5: routes[0].url"},
		{"image with a command substitution", web + "runtime = \"container\"\nimage = \"php$(id)\"\n", "f.toml:4: services.web.image"},
		{"image with a quote", web + "runtime = \"container\"\nimage = 'php\"'\n", "f.toml:4: services.web.image"},
		{"env value with NUL", web + "env = { A = \"1\\u0000\" }\n", "f.toml:3: services.web.env.A"},
		{"php.ini value with a newline", web + "[php.ini]\nmemory_limit = \"1G\\nextension=/tmp/evil.so\"\n", "f.toml:4: php.ini.memory_limit"},
		{"php.ini value with a quote", web + "[php.ini]\nmemory_limit = '1G\" ; x'\n", "f.toml:4: php.ini.memory_limit"},
		{"php.ini section header as key", web + "[php.ini]\n\"[PHP]\" = \"x\"\n", "f.toml:4: php.ini.[PHP]"},
		{"php.ini key with =", web + "[php.ini]\n\"a = b\" = \"x\"\n", "f.toml:4: php.ini.a = b"},
		{"php.ini extension", web + "[php.ini]\nextension = \"/tmp/evil.so\"\n", "f.toml:4: php.ini.extension"},
		{"php.ini environment variable", web + "[php.ini]\ninclude_path = \"${HOME}\"\n", "f.toml:4: php.ini.include_path"},
		{"php.ini array value", web + "[php.ini]\nmemory_limit = [1]\n", "f.toml:4: php.ini.memory_limit"},
	}
	var accepted []string
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBytes("f.toml", []byte(tc.src))
			if err == nil {
				accepted = append(accepted, tc.name)
				t.Fatal("accepted")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error is not an *Error: %T %v", err, err)
			}
			if !strings.Contains(err.Error(), tc.want+": ") {
				t.Errorf("error\n  %v\ndoes not name\n  %s", err, tc.want)
			}
		})
	}
	if len(accepted) > 0 {
		t.Logf("accepted %d of %d hostile files: %s", len(accepted), len(tests), strings.Join(accepted, "; "))
	}
}
