package e2e

// The compose layout of a project with a data service: a PHP site and its
// MariaDB, exported with `devport export --format compose` and run with
// docker-compose, next to the same project under devport.

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

// mariadbImage is the stand-in for mariadb:11 (Debian's MariaDB with an
// entrypoint that honours the official image's variables; built by
// scripts/build-test-images.sh).
const mariadbImage = "devport-test/mariadb:bookworm"

// composeNotesPHP keeps notes in the project's database through the DB_*
// variables, as a Laravel or WordPress site does: ?add=TEXT writes a row,
// and every answer reads the rows back.
const composeNotesPHP = `<?php
header('Content-Type: text/plain; charset=utf-8');
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
$db = new mysqli(getenv("DB_HOST"), getenv("DB_USERNAME"), getenv("DB_PASSWORD"), getenv("DB_DATABASE"), (int)getenv("DB_PORT"));
$db->query("CREATE TABLE IF NOT EXISTS notes (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(200))");
if (isset($_GET["add"])) {
    $st = $db->prepare("INSERT INTO notes (body) VALUES (?)");
    $st->bind_param("s", $_GET["add"]);
    $st->execute();
}
echo "connection: ", getenv("DB_CONNECTION"), "\n";
echo "database: ", getenv("DB_DATABASE"), " as ", getenv("DB_USERNAME"), "\n";
echo "https: ", $_SERVER['HTTPS'] ?? 'off', "\n";
echo "notes:";
foreach ($db->query("SELECT body FROM notes ORDER BY id") as $row) {
    echo " ", $row["body"];
}
echo "\n";
`

// TestComposeData adds a PHP site (process runtime) with a MariaDB data
// service (container runtime) to devport and exports it as a compose
// layout, with the stand-in images named by the container.image.* settings. Under docker-compose, the database is
// created from the exported variables, PHP reaches it through DB_* (host
// db, port 3306) only once it is healthy, and a row written through the
// exported nginx over HTTPS reads back; each answer is the one devport
// gives for the same requests. The database lives in a named volume, which
// survives the container and goes with docker-compose down -v, leaving no
// container, network or volume behind.
func TestComposeData(t *testing.T) {
	needDocker(t)
	testenv.Need(t, "docker-compose (Debian package docker-compose)", testenv.Have("docker-compose"), testenv.InstallFix)
	for _, img := range []string{nginxImage, mariadbImage} {
		testenv.Need(t, "image "+img, exec.Command("docker", "image", "inspect", img).Run() == nil, "scripts/build-test-images.sh builds it")
	}
	out, _ := exec.Command("docker", "run", "--rm", "--entrypoint", "php", phpImage, "-m").Output()
	testenv.Need(t, "mysqli in "+phpImage, strings.Contains(string(out), "mysqli"),
		"scripts/build-test-images.sh --force, with php-mysql in the php-apache image")
	testenv.Tool(t, "curl")
	testenv.Need(t, "mysqli for the host's PHP (devport's own runtime, for comparison)",
		exec.Command("php", "-r", "exit(extension_loaded('mysqli') ? 0 : 1);").Run() == nil, testenv.InstallFix)

	e := newEnv(t)
	e.dockerLeftovers(t) // devport's database container, network and volume
	e.mustRun("config", "set", "container.image.php", phpImage)
	e.mustRun("config", "set", "container.image.mariadb", mariadbImage)
	dir := filepath.Join(e.root, "notes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.php"), []byte(composeNotesPHP), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustRun("add", dir, "--stack", "php")
	// devport runs the database from the same image (the setting), so that
	// both answer with one server version.
	e.mustRun("service", "notes", "add", "db", "--stack", "mariadb", "--runtime", "container")
	devHTTPS := freePort(t)
	e.serve("--https-port", fmt.Sprint(devHTTPS), "--http-port", fmt.Sprint(freePort(t)))
	e.mustRun("start", "notes")
	ca := strings.TrimSpace(e.mustRun("ca"))

	var c *composeRun
	var httpsPort int
	for attempt := 1; ; attempt++ {
		httpsPort = freePort(t)
		out := e.mustRun("export", "notes", "--format", "compose", "-o", filepath.Join(dir, "docker-compose.yml"),
			"--nginx-image", nginxImage, "--publish-https", fmt.Sprintf("127.0.0.1:%d", httpsPort),
			"--publish-http", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
		if strings.Contains(out, "no mysqli") {
			t.Errorf("export warns of mysqli with the image %s set:\n%s", phpImage, out)
		}
		checkDataLayout(t, dir)
		var err error
		if c, err = upCompose(t, dir); err == nil {
			break
		}
		if attempt < 3 && strings.Contains(err.Error(), "port is already allocated") {
			t.Logf("attempt %d: %v; again on other ports", attempt, strings.SplitN(err.Error(), "\n", 2)[0])
			continue
		}
		t.Fatal(err)
	}
	// up -d returns once the web service started, which waits for db to
	// be healthy: the first request finds the database.
	c.waitReady(t, ca, "notes.test", httpsPort, []string{"/"})

	for _, path := range []string{"/?add=one", "/?add=" + "two%20words", "/"} {
		t.Run(path, func(t *testing.T) {
			got := httpsGet(t, ca, "notes.test", httpsPort, path)
			dev := httpsGet(t, ca, "notes.test", devHTTPS, path)
			if got.status != 200 {
				t.Fatalf("compose: %d %q\n%s", got.status, got.body, c.logs(t))
			}
			if got != dev {
				t.Errorf("compose and devport answer differently:\ncompose %+v\ndevport %+v", got, dev)
			}
		})
	}
	if got := httpsGet(t, ca, "notes.test", httpsPort, "/"); !strings.Contains(got.body, "connection: mysql\ndatabase: notes as notes\nhttps: on\nnotes: one two words\n") {
		t.Errorf("compose answered %q", got.body)
	}

	t.Run("the data outlives the container", func(t *testing.T) {
		if out, err := c.compose(3*time.Minute, "rm", "--stop", "--force", "db"); err != nil {
			t.Fatalf("docker-compose rm db: %v\n%s", err, out)
		}
		if out, err := c.compose(3*time.Minute, "up", "-d"); err != nil {
			t.Fatalf("docker-compose up: %v\n%s", err, out)
		}
		var got answer
		waitUntil(t, 90*time.Second, "the notes back from the volume", func() bool {
			got = httpsGet(t, ca, "notes.test", httpsPort, "/")
			return strings.Contains(got.body, "notes: one two words\n")
		})
	})
}

// checkDataLayout checks the data service in the exported compose file:
// the image of the setting, the database's variables, its volume and the
// web service's wait for it; and that docker-compose accepts the file.
func checkDataLayout(t *testing.T, dir string) {
	t.Helper()
	compose, err := os.ReadFile(filepath.Join(dir, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"image: " + mariadbImage, `"MARIADB_DATABASE=notes"`, `"MARIADB_USER=notes"`,
		`"data-db:/var/lib/mysql"`, `"DB_HOST=db"`, `"DB_PORT=3306"`, "db:\n        condition: service_healthy", "healthcheck:"} {
		if !strings.Contains(string(compose), want) {
			t.Errorf("docker-compose.yml lacks %q:\n%s", want, compose)
		}
	}
	if strings.Contains(string(compose), "3306:") {
		t.Errorf("docker-compose.yml publishes the database's port:\n%s", compose)
	}
	cmd := exec.Command("docker-compose", "-f", "docker-compose.yml", "config", "-q")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker-compose config rejects the export: %v\n%s\n%s", err, out, compose)
	}
}
