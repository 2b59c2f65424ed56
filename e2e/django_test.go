package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// TestDjangoAdmin runs a real third-party app behind devport the way a
// Django developer meets it: a project made by django-admin startproject
// (admin included), migrated, with a superuser; devport add detects it
// (manage.py: the wsgi stack with mysite.wsgi:application), and the
// admin's login form works over HTTPS: the CSRF cookie and token, a POST
// that Django checks against the Referer because the proxy's
// X-Forwarded-Proto says the request is https (gunicorn reads it on its
// unix socket, and SECURE_PROXY_SSL_HEADER, as Django's deployment
// checklist sets it), the session cookie, and after a pause longer than
// the proxy's idle timeout, the admin index. Its settings set STATIC_ROOT
// and nobody runs collectstatic: devport does before the start, and the
// proxy serves the admin's CSS from staticfiles/ at /static. With the
// proxy saying http, the forged Referer passes and the real login is
// refused.
func TestDjangoAdmin(t *testing.T) {
	djangoAdmin := testenv.Tool(t, "django-admin")
	testenv.Tool(t, "curl")
	e := newEnv(t)
	dir := filepath.Join(e.root, "djadmin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "DJANGO_SUPERUSER_PASSWORD=correct horse battery")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	run(djangoAdmin, "startproject", "mysite", dir)
	settings := filepath.Join(dir, "mysite", "settings.py")
	b, err := os.ReadFile(settings)
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(b), "ALLOWED_HOSTS = []", "ALLOWED_HOSTS = ['.test']", 1) +
		"\nSECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')\n" +
		"STATIC_ROOT = BASE_DIR / \"staticfiles\"\n" // and no collectstatic by hand
	if err := os.WriteFile(settings, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	run("/usr/bin/python3", "manage.py", "migrate", "--noinput")
	run("/usr/bin/python3", "manage.py", "createsuperuser", "--noinput", "--username", "admin", "--email", "admin@example.test")

	out := e.mustRun("add", dir)
	if !strings.Contains(out, "wsgi at /, app mysite.wsgi:application") {
		t.Fatalf("add did not detect the Django project:\n%s", out)
	}
	for _, want := range []string{"route /static → static staticfiles", "or: devport add " + dir + " --stack uvicorn --app mysite.asgi:application"} {
		if !strings.Contains(out, want) {
			t.Errorf("add's preview lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "warning:") {
		t.Errorf("add warns about settings that accept djadmin.test:\n%s", out)
	}
	port := freePort(t)
	g := e.serve("--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)), "--start", "djadmin")
	defer g.stop(t)

	ca := filepath.Join(e.home, "ca", "root.pem")
	jar := filepath.Join(e.root, "cookies")
	base := fmt.Sprintf("https://djadmin.test:%d", port)
	curl := func(args ...string) answer {
		t.Helper()
		return curlAnswer(t, port, append([]string{"--cacert", ca, "--resolve", fmt.Sprintf("djadmin.test:%d:127.0.0.1", port),
			"-c", jar, "-b", jar}, args...)...)
	}
	// STATIC_ROOT, collected before the start and served by the proxy.
	css := exec.Command("curl", "-sS", "--max-time", "20", "--cacert", ca, "--resolve", fmt.Sprintf("djadmin.test:%d:127.0.0.1", port),
		"-o", os.DevNull, "-w", "%{http_code} %{content_type}", base+"/static/admin/css/base.css")
	if got, err := css.Output(); err != nil || !strings.HasPrefix(string(got), "200 text/css") {
		t.Errorf("GET /static/admin/css/base.css: %q, %v; want 200 text/css\nengine:\n%s", got, err, g.output())
	}
	login := curl(base + "/admin/login/?next=/admin/")
	token := regexp.MustCompile(`name="csrfmiddlewaretoken" value="([^"]+)"`).FindStringSubmatch(login.body)
	if login.status != 200 || token == nil {
		t.Fatalf("GET /admin/login/: %d\n%s\nengine:\n%s", login.status, login.body, g.output())
	}
	form := []string{"--data-urlencode", "csrfmiddlewaretoken=" + token[1], "--data-urlencode", "username=admin",
		"--data-urlencode", "password=correct horse battery", "--data-urlencode", "next=/admin/",
		base + "/admin/login/?next=/admin/"}
	// Django checks the Referer only on a request it knows is https: a
	// foreign one is refused only if the proxy said so.
	if forged := curl(append([]string{"-X", "POST", "-H", "Referer: https://evil.test/"}, form...)...); forged.status != 403 || !strings.Contains(forged.body, "Referer checking failed") {
		t.Errorf("POST with a foreign Referer: %d, want Django's 403 (it does not see the request as https)\n%s", forged.status, forged.body)
	}
	post := curl(append([]string{"-X", "POST", "-H", "Referer: " + base + "/admin/login/"}, form...)...)
	if post.status != 302 || !strings.HasSuffix(post.location, "/admin/") {
		t.Fatalf("POST /admin/login/: %d to %q, want a 302 to /admin/\n%s", post.status, post.location, post.body)
	}
	time.Sleep(5 * time.Second) // past the proxy's idle timeout: a fresh upstream connection
	index := curl(base + "/admin/")
	if index.status != 200 || !strings.Contains(index.body, "Site administration") {
		t.Errorf("GET /admin/ after the login: %d\n%s", index.status, index.body)
	}
}
