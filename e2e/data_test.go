package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// notesPHP is a PHP page that keeps notes in the project's database,
// reached through the DB_* variables devport gives the site, and sends
// mail with plain mail(): what a WordPress or Laravel site does.
const notesPHP = `<?php
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
$db = new mysqli(getenv("DB_HOST"), getenv("DB_USERNAME"), getenv("DB_PASSWORD"), getenv("DB_DATABASE"), (int)getenv("DB_PORT"));
$db->query("CREATE TABLE IF NOT EXISTS notes (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(200))");
if (isset($_GET["add"])) {
    $st = $db->prepare("INSERT INTO notes (body) VALUES (?)");
    $st->bind_param("s", $_GET["add"]);
    $st->execute();
}
if (isset($_GET["mail"])) {
    echo mail("ann@example.test", "hello " . $_GET["mail"], "sent by mail()") ? "sent\n" : "not sent\n";
}
echo "notes:";
foreach ($db->query("SELECT body FROM notes ORDER BY id") as $row) {
    echo " ", $row["body"];
}
echo "\n";
`

// notesGetter returns a GET of the notes site's path that fails the test,
// with the engine's output and the services' logs, unless it answers 200.
// *g is read at each call: the test may start another engine.
func notesGetter(t *testing.T, e *env, port int, g **engine) func(path string) string {
	ca := filepath.Join(e.home, "ca", "root.pem")
	return func(path string) string {
		t.Helper()
		a := httpsGet(t, ca, "notes.test", port, path)
		if a.status != 200 {
			weblog, _ := os.ReadFile(filepath.Join(e.home, "logs", "notes", "web.log"))
			dblog, _ := os.ReadFile(filepath.Join(e.home, "logs", "notes", "db.log"))
			t.Fatalf("GET %s: %d\n%s\nengine:\n%s\nweb log:\n%s\ndb log:\n%s", path, a.status, a.body, (*g).output(), weblog, dblog)
		}
		return strings.TrimSpace(a.body)
	}
}

// TestDataServicesPHP is a PHP site with a MariaDB database and Mailpit,
// both as processes from the host's packages: the page writes rows through
// DB_*, and they are still there after a project restart and an engine
// restart; mail() lands in Mailpit, read back through its API at
// https://mail.DOMAIN/; a snapshot taken, rows changed, the snapshot
// restored, and the rows are back; rm keeps the data and says where, and
// adding the project again finds it.
func TestDataServicesPHP(t *testing.T) {
	testenv.Tool(t, "curl")
	testenv.Tool(t, "mariadbd")
	testenv.Tool(t, "mailpit")
	e := newEnv(t)
	dir := filepath.Join(e.root, "notes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.php"), []byte(notesPHP), 0o644); err != nil {
		t.Fatal(err)
	}
	// WordPress's marker: detection proposes a database.
	if err := os.WriteFile(filepath.Join(dir, "wp-config-sample.php"), []byte("<?php\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := e.mustRun("add", dir, "--data", "db=mysql,mail=mailpit")
	for _, want := range []string{"data service db: mariadb", "data service mail: mailpit", "with db: mariadb on 127.0.0.1:", "DB_PASSWORD"} {
		if !strings.Contains(out, want) {
			t.Fatalf("add said:\n%s\nwant %q", out, want)
		}
	}
	port := freePort(t)
	serve := func() *engine {
		return e.serve("--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)), "--start", "notes")
	}
	g := serve()
	ca := filepath.Join(e.home, "ca", "root.pem")
	get := notesGetter(t, e, port, &g)
	get("/?add=one")
	if got := get("/?add=two"); got != "notes: one two" {
		t.Fatalf("after two adds: %q", got)
	}
	e.mustRun("restart", "notes")
	if got := get("/"); got != "notes: one two" {
		t.Fatalf("after a project restart: %q", got)
	}
	if err := g.stop(t); err != nil {
		t.Fatalf("engine stop: %v\n%s", err, g.output())
	}
	if ps := processesMentioning(e.home); len(ps) > 0 {
		t.Fatalf("the engine stopped, and these still run:\n%s", strings.Join(ps, "\n"))
	}
	g = serve()
	defer g.stop(t)
	if got := get("/"); got != "notes: one two" {
		t.Fatalf("after an engine restart: %q", got)
	}

	t.Run("mail", func(t *testing.T) {
		if got := get("/?mail=world"); !strings.HasPrefix(got, "sent") {
			t.Fatalf("mail(): %q", got)
		}
		waitUntil(t, 10*time.Second, "the message in Mailpit", func() bool {
			a := httpsGet(t, ca, "mail.notes.test", port, "/api/v1/messages")
			return a.status == 200 && strings.Contains(a.body, "hello world")
		})
	})

	t.Run("snapshot and restore", func(t *testing.T) {
		if out := e.mustRun("db", "notes", "snapshot", "two-notes"); !strings.Contains(out, "snapshot two-notes of notes/db") {
			t.Fatalf("snapshot said %q", out)
		}
		if got := get("/?add=three"); got != "notes: one two three" {
			t.Fatalf("after a third add: %q", got)
		}
		if out := e.mustRun("db", "notes", "snapshots"); !strings.Contains(out, "two-notes") {
			t.Fatalf("snapshots: %q", out)
		}
		e.mustRun("db", "notes", "restore", "two-notes")
		if got := get("/"); got != "notes: one two" {
			t.Fatalf("after the restore: %q", got)
		}
		if r := e.run("db", "notes", "restore", "no-such-tag"); r.code == 0 || !strings.Contains(r.stderr, "devport db notes snapshots") {
			t.Fatalf("restore of a missing tag: exit %d, %q", r.code, r.stderr)
		}
		bad := filepath.Join(e.root, "corrupt.sql")
		if err := os.WriteFile(bad, []byte("INSERT INTO notes (body) VALUES ('x');\nTHIS IS NOT SQL;\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := e.run("db", "notes", "import", bad); r.code == 0 || !strings.Contains(r.stderr, "its data is as it was") {
			t.Fatalf("import of a corrupt dump: exit %d, %q", r.code, r.stderr)
		}
		if got := get("/"); got != "notes: one two" {
			t.Fatalf("after a failed import: %q", got)
		}
		dump := e.mustRun("db", "notes", "export")
		if !strings.Contains(dump, "INSERT INTO `notes`") {
			t.Fatalf("export printed no rows:\n%.500s", dump)
		}
	})

	t.Run("rm keeps the data", func(t *testing.T) {
		out := e.mustRun("rm", "notes")
		if !strings.Contains(out, "kept the data of db: "+filepath.Join(e.home, "services", "notes", "db")) {
			t.Fatalf("rm said:\n%s", out)
		}
		e.mustRun("add", dir, "--data", "db=mariadb,mail=mailpit")
		e.mustRun("start", "notes")
		if got := get("/"); got != "notes: one two" {
			t.Fatalf("added again, the data is %q", got)
		}
		e.mustRun("rm", "--purge", "notes")
		if _, err := os.Stat(filepath.Join(e.home, "services", "notes", "db")); !os.IsNotExist(err) {
			t.Fatalf("rm --purge left the data folder: %v", err)
		}
	})
}

// pyDataApp is a WSGI app (run by gunicorn) that counts visits in
// PostgreSQL through DATABASE_URL and in Redis through REDIS_URL, and
// sends mail with smtplib to MAIL_HOST:MAIL_PORT.
const pyDataApp = `import os, smtplib, urllib.parse
from email.message import EmailMessage
import psycopg2, redis

def app(environ, start_response):
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS visits (id SERIAL PRIMARY KEY)")
        cur.execute("INSERT INTO visits DEFAULT VALUES")
        cur.execute("SELECT COUNT(*) FROM visits")
        rows = cur.fetchone()[0]
    conn.close()
    hits = redis.Redis.from_url(os.environ["REDIS_URL"]).incr("hits")
    q = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    if "mail" in q:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "app@example.test", "ann@example.test", "from python " + q["mail"][0]
        msg.set_content("sent by smtplib")
        with smtplib.SMTP(os.environ["MAIL_HOST"], int(os.environ["MAIL_PORT"])) as s:
            s.send_message(msg)
    body = ("postgres %d redis %d\n" % (rows, hits)).encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
`

// TestDataServicesPython is a Python app with PostgreSQL, Redis and
// Mailpit as processes, added from a devport.toml: it reaches them
// through DATABASE_URL, REDIS_URL and MAIL_*, and smtplib's message is
// read back through Mailpit's API.
func TestDataServicesPython(t *testing.T) {
	testenv.Tool(t, "curl")
	testenv.Tool(t, "psql")
	testenv.Tool(t, "redis-server")
	testenv.Tool(t, "mailpit")
	e := newEnv(t)
	dir := filepath.Join(e.root, "visits")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"app.py": pyDataApp,
		"devport.toml": `[services.web]
stack = "wsgi"
app = "app:app"

[services.db]
stack = "postgres"

[services.cache]
stack = "redis"

[services.mail]
stack = "mailpit"
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.mustRun("add", dir)
	port := freePort(t)
	g := e.serve("--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)), "--start", "visits")
	defer g.stop(t)
	ca := filepath.Join(e.home, "ca", "root.pem")
	// The readiness probe was a visit too: count from the first answer.
	var rows, hits int
	for i := range 2 {
		a := httpsGet(t, ca, "visits.test", port, "/")
		var r, h int
		if _, err := fmt.Sscanf(a.body, "postgres %d redis %d", &r, &h); a.status != 200 || err != nil {
			t.Fatalf("visit %d: %d %q\nengine:\n%s", i+1, a.status, a.body, g.output())
		}
		if i == 1 && (r != rows+1 || h != hits+1) {
			t.Fatalf("the second visit counted postgres %d redis %d after %d and %d", r, h, rows, hits)
		}
		rows, hits = r, h
	}
	if a := httpsGet(t, ca, "visits.test", port, "/?mail=ok"); a.status != 200 {
		t.Fatalf("the mail visit: %d %q", a.status, a.body)
	}
	waitUntil(t, 10*time.Second, "the message in Mailpit", func() bool {
		a := httpsGet(t, ca, "mail.visits.test", port, "/api/v1/messages")
		return a.status == 200 && strings.Contains(a.body, "from python ok")
	})

	var ls []struct {
		Name string            `json:"name"`
		Env  map[string]string `json:"env"`
		Port int               `json:"port"`
	}
	if err := json.Unmarshal([]byte(e.mustRun("service", "visits", "ls", "--json")), &ls); err != nil {
		t.Fatal(err)
	}
	if len(ls) != 3 || !strings.HasPrefix(ls[1].Env["DATABASE_URL"], "postgresql://visits:") {
		t.Fatalf("service ls --json: %+v", ls)
	}
}

// TestDataServiceFails: a data service that cannot start (its port is
// taken) fails the project with its log tail, and the web service never
// starts.
func TestDataServiceFails(t *testing.T) {
	testenv.Tool(t, "redis-server")
	e := newEnv(t)
	dir := filepath.Join(e.root, "busy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.php"), []byte("<?php echo getenv('REDIS_URL');"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustRun("add", dir)
	out := e.mustRun("service", "busy", "add", "cache", "--stack", "redis")
	var port int
	if _, err := fmt.Sscanf(out[strings.Index(out, "127.0.0.1:"):], "127.0.0.1:%d", &port); err != nil {
		t.Fatalf("no port in %q: %v", out, err)
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	g := e.serve("--https-port", fmt.Sprint(freePort(t)), "--http-port", fmt.Sprint(freePort(t)))
	defer g.stop(t)
	r := e.run("start", "busy")
	if r.code == 0 || !strings.Contains(r.stderr, fmt.Sprint(port)) {
		t.Fatalf("start with the port taken: exit %d\n%s", r.code, r.stderr)
	}
	if ps := processesMentioning(filepath.Join(e.home, "run", "busy-web")); len(ps) > 0 {
		t.Fatalf("the web service started anyway:\n%s", strings.Join(ps, "\n"))
	}
}

// TestDatabaseFollowsBranch: with branch following on, each git branch
// has its own rows. A new branch starts as a copy of the one it came
// from; switching back restores that branch's rows.
func TestDatabaseFollowsBranch(t *testing.T) {
	testenv.Tool(t, "curl")
	testenv.Tool(t, "mariadbd")
	git := testenv.Tool(t, "git")
	e := newEnv(t)
	dir := filepath.Join(e.root, "notes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.php"), []byte(notesPHP), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(git, append([]string{"-c", "user.name=t", "-c", "user.email=t@example.test"}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("init", "-q", "-b", "main")
	run("add", "index.php")
	run("commit", "-q", "-m", "notes")
	e.mustRun("add", dir, "--data", "db=mariadb")
	port := freePort(t)
	g := e.serve("--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)), "--start", "notes")
	defer g.stop(t)
	get := notesGetter(t, e, port, &g)
	e.mustRun("db", "notes", "follow", "on")
	if got := get("/?add=main1"); got != "notes: main1" {
		t.Fatalf("on main: %q", got)
	}
	run("checkout", "-q", "-b", "feature")
	waitUntil(t, 20*time.Second, "a snapshot of branch main", func() bool {
		return strings.Contains(e.mustRun("db", "notes", "snapshots"), "branch-main")
	})
	if got := get("/?add=feat1"); got != "notes: main1 feat1" {
		t.Fatalf("on the new branch feature (a copy of main), after an add: %q", got)
	}
	run("checkout", "-q", "main")
	waitUntil(t, 20*time.Second, "main's rows back", func() bool { return get("/") == "notes: main1" })
	run("checkout", "-q", "feature")
	waitUntil(t, 20*time.Second, "feature's rows back", func() bool { return get("/") == "notes: main1 feat1" })
}

// The stand-ins for axllent/mailpit and redis:7
// (scripts/build-test-images.sh; mariadbImage: compose_data_test.go).
const (
	mailpitImage = "devport-test/mailpit:bookworm"
	redisImage   = "devport-test/redis:bookworm"
)

// TestDataServicesContainers runs the notes site, its MariaDB and its
// Mailpit as containers: the site reaches the database by name on the
// project's network, mail() goes to Mailpit, and the rows survive a
// restart (the volume stays). Then the site and the database move to the
// process runtime, the database's rows with it (a dump and a restore), and
// rm --purge leaves no container, volume or network.
func TestDataServicesContainers(t *testing.T) {
	needDocker(t)
	testenv.Tool(t, "curl")
	testenv.Tool(t, "mariadbd")
	for _, img := range []string{mariadbImage, mailpitImage} {
		testenv.Need(t, "image "+img, exec.Command("docker", "image", "inspect", img).Run() == nil, "scripts/build-test-images.sh builds it")
	}
	e := newEnv(t)
	e.dockerLeftovers(t)
	dir := filepath.Join(e.root, "notes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.php"), []byte(notesPHP), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustRun("add", dir, "--runtime", "container", "--image", phpImage)
	e.mustRun("service", "notes", "add", "db", "--stack", "mariadb", "--runtime", "container", "--image", mariadbImage)
	e.mustRun("service", "notes", "add", "mail", "--stack", "mailpit", "--runtime", "container", "--image", mailpitImage)
	port := freePort(t)
	g := e.serve("--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)), "--start", "notes")
	defer g.stop(t)
	ca := filepath.Join(e.home, "ca", "root.pem")
	get := notesGetter(t, e, port, &g)
	get("/?add=one")
	if got := get("/?add=two"); got != "notes: one two" {
		t.Fatalf("after two adds: %q", got)
	}
	if got := get("/?mail=box"); !strings.HasPrefix(got, "sent") {
		t.Fatalf("mail(): %q", got)
	}
	waitUntil(t, 10*time.Second, "the message in Mailpit", func() bool {
		a := httpsGet(t, ca, "mail.notes.test", port, "/api/v1/messages")
		return a.status == 200 && strings.Contains(a.body, "hello box")
	})
	e.mustRun("restart", "notes")
	if got := get("/"); got != "notes: one two" {
		t.Fatalf("after a restart: %q", got)
	}

	e.mustRun("set", "notes", "--service", "web", "--runtime", "process")
	out := e.mustRun("set", "notes", "--service", "db", "--runtime", "process")
	if !strings.Contains(out, "moved with a dump and restore") {
		t.Fatalf("set db to process said %q", out)
	}
	if got := get("/"); got != "notes: one two" {
		t.Fatalf("on the process runtime: %q", got)
	}
	vol := func() string {
		out, _ := exec.Command("docker", "volume", "ls", "-q", "--filter", "label=devport.home="+e.home, "--filter", "label=devport.data").Output()
		return strings.TrimSpace(string(out))
	}
	if vol() == "" {
		t.Fatal("the container's data volume went with the switch; it should stay until purged")
	}
	e.mustRun("rm", "--purge", "notes")
	if v := vol(); v != "" {
		t.Fatalf("rm --purge left the volumes %s", v)
	}
}
