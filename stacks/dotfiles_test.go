//go:build unix

package stacks

import (
	"net/http"
	"testing"

	"github.com/devport/devport/internal/stackdef"
)

// ownFolderSite is a php project served from its own folder (no public/):
// its secrets sit next to index.php.
var ownFolderSite = map[string]string{
	"index.php":       "<?php echo 'front';",
	".env":            "DB_PASSWORD=secret\n",
	".git/config":     "[core]\n",
	".git/HEAD":       "ref: refs/heads/main\n",
	"sub/.env":        "NESTED=secret\n",
	"sub/page.txt":    "page\n",
	".well-known/x":   "acme\n",
	".well-known/a/b": "deep\n",
	// An override in the project cannot lift the rule.
	".htaccess":        "<FilesMatch \"^[.]\">\n    Require all granted\n</FilesMatch>\nRequire all granted\n",
	".user.ini":        "display_errors=1\n",
	"config/.keep/env": "hidden folder\n",
	"client.php":       clientAddrPage,
}

// dotfileCases are the requests a project served from its own folder must
// refuse (dotfiles and dot-folders, as Laravel's and Symfony's recommended
// configs do) and the ones it must still serve (.well-known, RFC 8615).
var dotfileCases = []struct {
	name    string
	path    string
	allowed bool
}{
	{name: "index", path: "/index.php", allowed: true},
	{name: "plain file in a folder", path: "/sub/page.txt", allowed: true},
	{name: ".env", path: "/.env"},
	{name: ".env encoded", path: "/%2eenv"},
	{name: ".git/config", path: "/.git/config"},
	{name: ".git folder", path: "/.git/"},
	{name: "nested .env", path: "/sub/.env"},
	{name: ".htaccess source", path: "/.htaccess"},
	{name: ".user.ini", path: "/.user.ini"},
	{name: "file in a dot-folder below", path: "/config/.keep/env"},
	{name: "missing dotfile", path: "/.nothing"},
	{name: ".well-known", path: "/.well-known/x", allowed: true},
	{name: ".well-known deeper", path: "/.well-known/a/b", allowed: true},
}

// checkDotfiles runs dotfileCases against a started php upstream.
func checkDotfiles(t *testing.T, up Upstream) {
	t.Helper()
	for _, tc := range dotfileCases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, up, tc.path, nil)
			switch {
			case tc.allowed && status != http.StatusOK:
				t.Errorf("GET %s = %d, want 200:\n%s", tc.path, status, body)
			case !tc.allowed && status != http.StatusForbidden && status != http.StatusNotFound:
				t.Errorf("GET %s = %d, want 403 or 404:\n%s", tc.path, status, body)
			}
		})
	}
}

// TestApacheDotfiles serves a php project from its own folder with a real
// Apache and asks for its dotfiles.
func TestApacheDotfiles(t *testing.T) {
	requireStack(t, stackdef.PHP)
	spec := testSpec(t, stackdef.PHP, ownFolderSite)
	up := startRunner(t, mustRunner(t, spec))
	checkDotfiles(t, up)
}
