package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// wordpressDir is where Debian's wordpress package installs WordPress.
const wordpressDir = "/usr/share/wordpress"

// wpConfig is a wp-config.php as the README tells WordPress users to
// write it: the database from devport's DB_* variables.
const wpConfig = `<?php
define('DB_NAME', getenv('DB_DATABASE'));
define('DB_USER', getenv('DB_USERNAME'));
define('DB_PASSWORD', getenv('DB_PASSWORD'));
define('DB_HOST', getenv('DB_HOST') . ':' . getenv('DB_PORT'));
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'] as $k) {
    define($k, 'devport e2e ' . $k);
}
$table_prefix = 'wp_';
define('WP_DEBUG', false);
if (!defined('ABSPATH')) {
    define('ABSPATH', __DIR__ . '/');
}
require_once ABSPATH . 'wp-settings.php';
`

// TestWordPress runs a real WordPress (Debian's package) behind devport
// with its database and mail as data services, the way a WordPress user
// would: wp-config.php reads DB_*, the installer runs over HTTPS, the
// "new site" mail WordPress sends with PHPMailer through mail() lands in
// Mailpit, the login sets its cookies and the dashboard answers, and after
// a pause longer than Apache's keep-alive and a restart of the project the
// post is still there.
func TestWordPress(t *testing.T) {
	testenv.Tool(t, "curl")
	testenv.Tool(t, "mariadbd")
	testenv.Tool(t, "mailpit")
	testenv.Need(t, "WordPress (Debian's wordpress and wordpress-theme-twentytwentythree)",
		fileExists(filepath.Join(wordpressDir, "wp-login.php")) && fileExists(filepath.Join(wordpressDir, "wp-content", "themes", "twentytwentythree")),
		testenv.InstallFix)
	e := newEnv(t)
	dir := filepath.Join(e.root, "blog")
	if out, err := exec.Command("cp", "-rL", wordpressDir, dir).CombinedOutput(); err != nil {
		t.Fatalf("copy WordPress: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "wp-config.php"), []byte(wpConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	out := e.mustRun("add", dir, "--data", "db=mariadb,mail=mailpit")
	if !strings.Contains(out, "with db: mariadb") {
		t.Fatalf("add said:\n%s", out)
	}
	port := freePort(t)
	g := e.serve("--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)), "--start", "blog")
	defer g.stop(t)

	ca := filepath.Join(e.home, "ca", "root.pem")
	jar := filepath.Join(e.root, "cookies")
	base := fmt.Sprintf("https://blog.test:%d", port)
	curl := func(args ...string) answer {
		t.Helper()
		return curlAnswer(t, port, append([]string{"--cacert", ca, "--resolve", fmt.Sprintf("blog.test:%d:127.0.0.1", port),
			"-c", jar, "-b", jar}, args...)...)
	}
	if a := curl(base + "/wp-admin/install.php"); a.status != 200 || !strings.Contains(a.body, "weblog_title") {
		t.Fatalf("the installer: %d\n%.2000s\nengine:\n%s", a.status, a.body, g.output())
	}
	install := curl("-X", "POST", "--data-urlencode", "weblog_title=Devport Blog", "--data-urlencode", "user_name=admin",
		"--data-urlencode", "admin_password=correct horse battery staple", "--data-urlencode", "admin_password2=correct horse battery staple",
		"--data-urlencode", "pw_weak=1", "--data-urlencode", "admin_email=admin@example.test", "--data-urlencode", "blog_public=0",
		base+"/wp-admin/install.php?step=2")
	if install.status != 200 || !strings.Contains(install.body, "Success!") {
		t.Fatalf("install: %d\n%.3000s", install.status, install.body)
	}
	waitUntil(t, 15*time.Second, "WordPress's new-site mail in Mailpit", func() bool {
		a := httpsGet(t, ca, "mail.blog.test", port, "/api/v1/messages")
		return a.status == 200 && strings.Contains(a.body, "New WordPress Site")
	})
	if home := curl(base + "/"); home.status != 200 || !strings.Contains(home.body, "Devport Blog") || !strings.Contains(home.body, "https://blog.test:") {
		t.Fatalf("the home page: %d (want the title and https links)\n%.2000s", home.status, home.body)
	}
	login := curl("-X", "POST", "--data-urlencode", "log=admin", "--data-urlencode", "pwd=correct horse battery staple",
		"--data-urlencode", "redirect_to="+base+"/wp-admin/", "--data-urlencode", "testcookie=1",
		"-b", "wordpress_test_cookie=WP%20Cookie%20check", base+"/wp-login.php")
	if login.status != 302 || !strings.Contains(login.location, "/wp-admin/") {
		t.Fatalf("login: %d to %q\n%.2000s", login.status, login.location, login.body)
	}
	time.Sleep(6 * time.Second) // past Apache's KeepAliveTimeout (5 s): a fresh upstream connection
	if dash := curl(base + "/wp-admin/"); dash.status != 200 || !strings.Contains(dash.body, "Dashboard") {
		t.Fatalf("the dashboard after login: %d\n%.2000s", dash.status, dash.body)
	}
	e.mustRun("restart", "blog")
	if post := curl(base + "/?p=1"); post.status != 200 || !strings.Contains(post.body, "Hello world!") {
		t.Fatalf("the first post after a restart: %d\n%.2000s", post.status, post.body)
	}
}
