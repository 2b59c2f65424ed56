package export

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/devport/devport/internal/stackdef"
)

// This file is the compose layout's data services: a container of each
// stack's official image with the environment its entrypoint creates the
// database and user from, a named volume at the image's data folder, and a
// healthcheck that is a real client (as devport's container runtime checks
// readiness), so that the web services start once their data services
// answer (depends_on: condition: service_healthy).

// DataService is a data service of the project (a database, Redis,
// Mailpit), run in the compose layout next to the web services. Those
// reach it under its name at the stack's own port (db:3306), through the
// variables of Service.Env; it publishes no port.
type DataService struct {
	Name  string // "db": its host name on the compose network
	Stack string // stackdef.MariaDB, Postgres, Redis or Mailpit
	// Image is the container image; "" means the stack's official
	// repository tagged Version, or the stack's default image
	// (stackdef.DefaultImage) when Version is "" too.
	Image   string
	Version string // "11", "10.11"
	// Database, User and Password are what the database stacks' images
	// create on their first start (MARIADB_*, POSTGRES_*); "" for Redis
	// and Mailpit.
	Database, User, Password string
}

// dataImageDef is what the layout relies on in a data stack's image.
type dataImageDef struct {
	dataDir string // the data folder, where the named volume is mounted
	// stopSignal is the image's STOPSIGNAL, written out so that any image
	// stops the same way: SIGINT is PostgreSQL's fast shutdown.
	stopSignal string
	// health is the healthcheck, a sh script run in the container. It
	// reads the credentials from the container's own environment, so it
	// quotes no value; compose's "$$" is a "$" to sh.
	health string
}

// dataImages are the data stacks' images: the official ones' data folders
// and clients (which devport's stand-in test images share).
var dataImages = map[string]dataImageDef{
	// A query as the user over TCP: the image initialises the database
	// on a server without networking, so this succeeds only once the
	// database and the user exist.
	stackdef.MariaDB: {dataDir: "/var/lib/mysql", stopSignal: "SIGTERM",
		health: `MYSQL_PWD="$MARIADB_PASSWORD" mariadb --protocol=tcp --host=127.0.0.1 --user="$MARIADB_USER" --connect-timeout=2 --execute="SELECT 1" "$MARIADB_DATABASE"`},
	stackdef.Postgres: {dataDir: "/var/lib/postgresql/data", stopSignal: "SIGINT",
		health: `PGPASSWORD="$POSTGRES_PASSWORD" PGCONNECT_TIMEOUT=2 psql --host=127.0.0.1 --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" --no-psqlrc --quiet --tuples-only --command="SELECT 1"`},
	stackdef.Redis: {dataDir: "/data", stopSignal: "SIGTERM",
		health: `redis-cli ping | grep -q PONG`},
	stackdef.Mailpit: {dataDir: "/data", stopSignal: "SIGTERM",
		health: `/mailpit readyz`},
}

// Healthcheck timing: the first check runs one interval after the start
// (docker-compose 1.29 knows no start_interval), and the first start of a
// database initialises its folder (seconds; much more on a slow disk).
const (
	healthInterval    = "5s"
	healthTimeout     = "5s"
	healthRetries     = 5
	healthStartPeriod = "2m"
	// dataStopGrace is how long a database gets to shut down cleanly
	// after its stop signal (compose's default is 10s), as devport's
	// container runtime gives it (stacks.DataStopTimeout).
	dataStopGrace = "30s"
)

// mailpitUIPort is Mailpit's web UI and API in its container.
const mailpitUIPort = "8025"

var (
	// tagRe is Docker's tag syntax, for a Version.
	tagRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	// sqlNameRe is a database or user name the images' entrypoints quote
	// safely (`name`, "name"); devport's are the project's name with "_".
	sqlNameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$`)
)

// dataImage is d's image: Image, else the official repository tagged
// Version, else the stack's default.
func dataImage(d DataService) string {
	switch {
	case d.Image != "":
		return d.Image
	case d.Version != "":
		return officialRepository(d.Stack) + ":" + d.Version
	}
	return stackdef.DefaultImage(d.Stack)
}

// officialRepository is the stack's default image without its tag:
// mariadb, postgres, redis, axllent/mailpit.
func officialRepository(stack string) string {
	img := stackdef.DefaultImage(stack)
	if i := strings.LastIndex(img, ":"); i > strings.LastIndex(img, "/") {
		return img[:i]
	}
	return img
}

// dataVolume is the named volume of data service name. The "data-" prefix
// keeps it apart from the pip caches ("pip-cache-web").
func dataVolume(name string) string { return "data-" + name }

// validateData checks the data services of p for the compose layout.
func (p Project) validateData() error {
	names := map[string]bool{composeNginxService: true}
	for _, s := range p.Services {
		names[s.Name] = true
	}
	for _, d := range p.Data {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("export: project %s, data service %s: "+format, append([]any{p.Name, d.Name}, args...)...)
		}
		switch _, ok := dataImages[d.Stack]; {
		case !devportNameRe.MatchString(d.Name):
			return fmt.Errorf("export: project %s: data service name %q is not a devport name (lowercase letters, digits and hyphens)", p.Name, d.Name)
		case names[d.Name]:
			return bad("the compose layout already has a service of that name: devport service %s rm %s, and add it under another name", p.Name, d.Name)
		case !ok || !stackdef.IsData(d.Stack):
			return bad("stack %q is not a data service (%s)", d.Stack, stackdef.List(stackdef.Names(func(d stackdef.Def) bool { return d.Data }), "or"))
		case d.Image != "" && !imageRe.MatchString(d.Image):
			return bad("image %q is not an image reference", d.Image)
		case d.Image == "" && d.Version != "" && !tagRe.MatchString(d.Version):
			return bad("version %q is not an image tag (such as 11 or 10.11)", d.Version)
		}
		names[d.Name] = true
		if !stackdef.IsDatabase(d.Stack) {
			continue
		}
		for _, f := range []struct{ what, v string }{{"database", d.Database}, {"user", d.User}} {
			if !sqlNameRe.MatchString(f.v) {
				return bad("%s name %q: use 1 to 63 letters, digits, _ and -, not starting with -", f.what, f.v)
			}
		}
		switch {
		case d.Stack == stackdef.MariaDB && strings.EqualFold(d.User, "root"):
			return bad("user root is MariaDB's own administrator: choose another user name")
		case d.Password == "":
			return bad("a database needs a password (the images refuse to initialise without one)")
		case strings.ContainsFunc(d.Password, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			return bad("the password holds a control character, which the environment of a container should not carry")
		}
	}
	return nil
}

// dataService is the compose service of data service d.
func dataService(d DataService) composeService {
	def := dataImages[d.Stack]
	cs := composeService{Name: d.Name, Image: dataImage(d), Data: true, StopSignal: def.stopSignal,
		Health:  def.health,
		Volumes: []string{dataVolume(d.Name) + ":" + def.dataDir}}
	switch d.Stack {
	case stackdef.MariaDB:
		cs.Environment = []string{"MARIADB_DATABASE=" + d.Database, "MARIADB_USER=" + d.User, "MARIADB_PASSWORD=" + d.Password,
			// root has the user's password, as under devport: the server
			// publishes no port, and the user's password is the app's.
			"MARIADB_ROOT_PASSWORD=" + d.Password,
			// A newer image on an older volume upgrades the system
			// tables (after a backup of them in the volume).
			"MARIADB_AUTO_UPGRADE=1"}
		cs.StopGrace = dataStopGrace
	case stackdef.Postgres:
		cs.Environment = []string{"POSTGRES_DB=" + d.Database, "POSTGRES_USER=" + d.User, "POSTGRES_PASSWORD=" + d.Password,
			// The cluster in the volume, whatever the image's default
			// (postgres 18 moved it to /var/lib/postgresql/18/docker).
			"PGDATA=" + def.dataDir}
		cs.StopGrace = dataStopGrace
	case stackdef.Redis:
		// Save within a minute of a write, and on shutdown, as devport
		// runs it (the default waits up to an hour for a single write).
		cs.Args = []string{"redis-server", "--save", "60 1"}
	case stackdef.Mailpit:
		cs.Environment = []string{"MP_DATABASE=" + def.dataDir + "/mailpit.db",
			// Apps configured with SMTP credentials still deliver.
			"MP_SMTP_AUTH_ACCEPT_ANY=1", "MP_SMTP_AUTH_ALLOW_INSECURE=1"}
	}
	return cs
}

// mailpit is the first Mailpit of p, whose UI nginx serves at
// mail.DOMAIN as devport does; nil when there is none.
func (p Project) mailpit() *DataService {
	for i := range p.Data {
		if p.Data[i].Stack == stackdef.Mailpit {
			return &p.Data[i]
		}
	}
	return nil
}

// mailDomain is where the Mailpit UI of a project on domain answers.
func mailDomain(domain string) string { return "mail." + domain }
