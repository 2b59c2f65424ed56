package stacks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/devport/devport/internal/stackdef"
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/mount"
)

// The data stacks (mariadb, postgres, redis, mailpit) in the container
// runtime run the official images with their own conventions: the
// entrypoint initialises an empty data folder from the environment
// (MARIADB_*, POSTGRES_*) on the first start, and uses it as it is after
// that. devport keeps that folder in a named volume (DataVolume), which
// Stop leaves in place: the data survives stop, start and engine restarts,
// and only RemoveDataVolume (devport's --purge) deletes it.
//
// The client port is published on 127.0.0.1:Spec.Port, the port the engine
// chose once for the service, so that host tools connect as they do with
// the process runtime; on the project network the container answers under
// the service's name at the stack's own port (db:3306), as the web
// containers' environment says.

// DataStopTimeout is the container runtime's default Spec.StopTimeout for
// the data stacks: how long a database gets to shut down cleanly (flush,
// checkpoint) after the stop signal before Docker kills it. A clean
// shutdown takes well under a second here; Docker's own default is 10 s,
// and PostgreSQL's documentation warns that even 90 s may not be enough on a
// busy server. A kill only costs crash recovery on the next start, so 30 s
// bounds a stop without giving up a clean shutdown in practice.
const DataStopTimeout = 30 * time.Second

// containerDataReadyTimeout bounds the Start of a data stack when its
// context has no deadline: the first start initialises the data folder
// (MariaDB loads its time zone tables: about 4 s here, much more on a slow
// disk).
const containerDataReadyTimeout = 90 * time.Second

// mailpitContainerUIPort is Mailpit's HTTP port (web UI and API) in its
// container.
const mailpitContainerUIPort = "8025"

// containerDataDef is what devport relies on in a data stack's official
// image.
type containerDataDef struct {
	dataDir string // the image's data folder: where the volume is mounted
	// stopSignal is the image's STOPSIGNAL, set explicitly so that another
	// image (or a stand-in, which docker import cannot give one) stops the
	// same way: postgres's SIGINT is its "fast" shutdown, which does not
	// wait for idle client connections to go away.
	stopSignal string
}

var containerDataDefs = map[string]containerDataDef{
	stackdef.MariaDB:  {dataDir: "/var/lib/mysql", stopSignal: "SIGTERM"},
	stackdef.Postgres: {dataDir: "/var/lib/postgresql/data", stopSignal: "SIGINT"},
	stackdef.Redis:    {dataDir: "/data", stopSignal: "SIGTERM"},
	stackdef.Mailpit:  {dataDir: "/data", stopSignal: "SIGTERM"},
}

// officialRepository is the repository of stack's default image without
// its tag: mariadb, postgres, redis, axllent/mailpit.
func officialRepository(stack string) string {
	img := stackdef.DefaultImage(stack)
	if i := strings.LastIndex(img, ":"); i > strings.LastIndex(img, "/") {
		return img[:i]
	}
	return img
}

// dataImage is the image of a data service: Spec.Image, else the official
// repository tagged Spec.Version, else the stack's default.
func containerDataImage(s Spec) string {
	switch {
	case s.Image != "":
		return s.Image
	case s.Version != "":
		return officialRepository(s.Stack) + ":" + s.Version
	default:
		return stackdef.DefaultImage(s.Stack)
	}
}

var (
	// imageTagRe is Docker's tag syntax.
	imageTagRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	// containerSQLNameRe is what devport accepts as a database or user name: the
	// names go into SQL quoted (`name`, "name"), and into the images'
	// entrypoints, which quote them the same way.
	containerSQLNameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$`)
)

// validateContainerData checks the fields a data stack needs in a container.
func (s *Spec) validateContainerData() error {
	if s.Port <= 0 || s.Port > 65535 {
		return fmt.Errorf("service %s: port %d: a data service needs the port clients connect to (1-65535)", s.label(), s.Port)
	}
	if s.Version != "" && !imageTagRe.MatchString(s.Version) {
		return fmt.Errorf("service %s: version %q is not an image tag (such as 11 or 10.11)", s.label(), s.Version)
	}
	if !stackdef.IsDatabase(s.Stack) {
		return nil
	}
	for _, f := range []struct{ what, v string }{{"database", s.Database}, {"user", s.User}} {
		if !containerSQLNameRe.MatchString(f.v) {
			return fmt.Errorf("service %s: %s name %q: use 1 to 63 letters, digits, _ and -, not starting with -", s.label(), f.what, f.v)
		}
	}
	if s.Stack == stackdef.MariaDB && strings.EqualFold(s.User, "root") {
		return fmt.Errorf("service %s: user root is MariaDB's own administrator: choose another user name", s.label())
	}
	if s.Password == "" {
		return fmt.Errorf("service %s: a database needs a password (the images refuse to initialise without one)", s.label())
	}
	if strings.ContainsFunc(s.Password, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("service %s: the password holds a control character: choose another one", s.label())
	}
	return nil
}

// DataVolume is the named volume that keeps a data service's data in the
// container runtime: devport-PROJECT-SERVICE-HOMEKEY-data. It carries the
// labels of the service (and LabelData), so that a purge finds it.
func DataVolume(home, project, service string) string {
	return containerName(home, project, service) + "-data"
}

// RemoveDataVolume deletes a data service's volume, and with it the data
// (devport's --purge). A volume that is already gone is not an error; one
// that a container still uses is (stop the service first), and so is one
// that another devport home labelled.
func RemoveDataVolume(ctx context.Context, home, project, service string) error {
	cli, err := NewDockerClient()
	if err != nil {
		return err
	}
	defer cli.Close()
	if err := PingDocker(ctx, cli); err != nil {
		return err
	}
	name := DataVolume(home, project, service)
	v, err := cli.VolumeInspect(ctx, name)
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("inspect volume %s: %w", name, err)
	}
	if h := v.Labels[LabelHome]; h != filepath.Clean(home) {
		return fmt.Errorf("volume %s belongs to devport home %q, not %q: left alone", name, h, home)
	}
	if err := cli.VolumeRemove(ctx, name, false); err != nil && !cerrdefs.IsNotFound(err) {
		if cerrdefs.IsConflict(err) || strings.Contains(err.Error(), "in use") {
			return fmt.Errorf("%w: volume %s is in use by a container: stop service %s first (%v)", ErrConflict, name, service, err)
		}
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	return nil
}

// DataVolumeSize is the size in bytes of a data service's volume, or -1
// when it is unknown (no such volume, no engine, or one that does not
// compute it). Docker measures it on request (its disk usage endpoint walks
// the volumes' files): call it for a page that shows it, not in a loop.
func DataVolumeSize(ctx context.Context, home, project, service string) int64 {
	cli, err := NewDockerClient()
	if err != nil {
		return -1
	}
	defer cli.Close()
	if PingDocker(ctx, cli) != nil {
		return -1
	}
	du, err := cli.DiskUsage(ctx, types.DiskUsageOptions{Types: []types.DiskUsageObject{types.VolumeObject}})
	if err != nil {
		return -1
	}
	name := DataVolume(home, project, service)
	for _, v := range du.Volumes {
		if v != nil && v.Name == name && v.UsageData != nil && v.UsageData.Size >= 0 {
			return v.UsageData.Size
		}
	}
	return -1
}

// containerDataCheck is a data stack's readiness check: a client run in the
// container (exec) whose output contains want, or an HTTP GET of httpPath
// on the Upstream that answers 200.
type containerDataCheck struct {
	exec     []string
	env      []string // for exec, the password
	want     string   // "" : exit status 0 is enough
	httpPath string
}

// planDataContainer runs a data stack's image with its own entrypoint and
// command (redis gets a save point), the data volume at the image's data
// folder, the client port on 127.0.0.1:Spec.Port (and Mailpit's UI on an
// ephemeral port, the Upstream), and a readiness check that is a real
// client: a query as Spec.User on Spec.Database over TCP inside the
// container (the images initialise on a server that does not listen on TCP,
// so the query succeeds only once the database and the user exist),
// redis-cli ping, or Mailpit's /readyz.
func planDataContainer(s Spec, image string) (containerPlan, error) {
	def, ok := containerDataDefs[s.Stack]
	if !ok {
		return containerPlan{}, fmt.Errorf("service %s: stack %q: %w", s.label(), s.Stack, ErrUnknownStack)
	}
	port := strconv.Itoa(stackdef.Port(s.Stack))
	vol := DataVolume(s.Home, s.Project, s.Service)
	p := containerPlan{
		image:        image,
		port:         port,
		hostPort:     s.Port,
		stopSignal:   def.stopSignal,
		volume:       vol,
		volumeLabels: map[string]string{LabelData: s.Stack},
		mounts:       []mount.Mount{{Type: mount.TypeVolume, Source: vol, Target: def.dataDir}},
	}
	switch s.Stack {
	case stackdef.MariaDB:
		p.env = []string{
			"MARIADB_DATABASE=" + s.Database, "MARIADB_USER=" + s.User, "MARIADB_PASSWORD=" + s.Password,
			// root has the user's password: the server is only published
			// on the loopback, and Restore and Dump connect as root.
			"MARIADB_ROOT_PASSWORD=" + s.Password,
			// A newer Version on an older volume upgrades the system
			// tables (after a backup of them in the volume).
			"MARIADB_AUTO_UPGRADE=1",
		}
		p.ready = &containerDataCheck{exec: []string{"mariadb", "--protocol=tcp", "--host=127.0.0.1", "--port=" + port,
			"--user=" + s.User, "--connect-timeout=2", "--execute=SELECT 1", s.Database},
			env: []string{"MYSQL_PWD=" + s.Password}}
	case stackdef.Postgres:
		p.env = []string{"POSTGRES_DB=" + s.Database, "POSTGRES_USER=" + s.User, "POSTGRES_PASSWORD=" + s.Password}
		// postgres 18's images keep the cluster in a versioned folder
		// under /var/lib/postgresql: the image's PGDATA decides.
		p.dataFromImage = true
		p.ready = &containerDataCheck{exec: []string{"psql", "--host=127.0.0.1", "--port=" + port, "--username=" + s.User,
			"--dbname=" + s.Database, "--no-psqlrc", "--no-align", "--tuples-only", "--quiet", "--command=SELECT 1"},
			env: []string{"PGPASSWORD=" + s.Password, "PGCONNECT_TIMEOUT=2"}}
	case stackdef.Redis:
		// Save within a minute of a write, and on shutdown (the default
		// waits up to an hour for a single write).
		p.cmd = []string{"redis-server", "--save", "60 1"}
		p.ready = &containerDataCheck{exec: []string{"redis-cli", "-p", port, "ping"}, want: "PONG"}
	case stackdef.Mailpit:
		p.env = []string{"MP_DATABASE=" + def.dataDir + "/mailpit.db",
			// Apps configured with SMTP credentials still deliver.
			"MP_SMTP_AUTH_ACCEPT_ANY=1", "MP_SMTP_AUTH_ALLOW_INSECURE=1"}
		p.uiPort = mailpitContainerUIPort
		p.ready = &containerDataCheck{httpPath: "/readyz"}
	}
	return p, nil
}

// resolveDataMount moves the data volume of a postgres plan to where the
// image keeps its cluster: PGDATA, or for postgres 18 and later (PGDATA
// /var/lib/postgresql/MAJOR/docker) the folder above the major versions,
// which those images ask to be the mount.
func (r *containerRunner) resolveDataMount(ctx context.Context, p *containerPlan) error {
	img, err := r.cli.ImageInspect(ctx, p.image)
	if err != nil {
		return fmt.Errorf("inspect image %s: %w", p.image, r.wrap(err))
	}
	target := ""
	if img.Config != nil {
		for _, e := range img.Config.Env {
			if v, ok := strings.CutPrefix(e, "PGDATA="); ok && path.IsAbs(v) {
				target = path.Clean(v)
			}
		}
	}
	if strings.HasSuffix(target, "/docker") {
		target = path.Dir(path.Dir(target))
	}
	if target == "" || target == "/" {
		return nil
	}
	mounts := make([]mount.Mount, len(p.mounts))
	copy(mounts, p.mounts)
	for i := range mounts {
		if mounts[i].Type == mount.TypeVolume && mounts[i].Source == p.volume {
			mounts[i].Target = target
		}
	}
	p.mounts = mounts
	return nil
}

// checkDataPortFree fails with the fix when something on this host already
// listens on 127.0.0.1:port, before a container is created for it.
func checkDataPortFree(s Spec, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return dataPortInUse(s, port, err)
	}
	l.Close()
	return nil
}

// dataPortInUse is the one-line error for a data service whose port is taken.
func dataPortInUse(s Spec, port int, err error) error {
	return fmt.Errorf("%w: port %d on 127.0.0.1 is already in use (%v): stop the program that listens there, or give service %s another port",
		ErrConflict, port, err, s.label())
}

// dataReadyCheck returns the readiness check of a data plan for container
// id: one try, bounded by probeTimeout.
func (r *containerRunner) dataReadyCheck(p containerPlan, id string, up Upstream) func(context.Context) error {
	if p.ready.httpPath != "" {
		client := probeClient(up)
		return func(ctx context.Context) error {
			defer client.CloseIdleConnections()
			ctx, cancel := context.WithTimeout(ctx, probeTimeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost"+p.ready.httpPath, nil)
			if err != nil {
				return err
			}
			req.Header.Set("User-Agent", probeUserAgent)
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s: %s", p.ready.httpPath, resp.Status)
			}
			return nil
		}
	}
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, probeTimeout+time.Second)
		defer cancel()
		var out strings.Builder
		err := r.execIn(ctx, id, execSpec{cmd: p.ready.exec, env: p.ready.env, stdout: &out})
		if err != nil {
			return err
		}
		if p.ready.want != "" && !strings.Contains(out.String(), p.ready.want) {
			return fmt.Errorf("%s answered %q", p.ready.exec[0], strings.TrimSpace(out.String()))
		}
		return nil
	}
}

// waitDataReady runs the plan's check until it passes, the container
// exits, or ctx ends. A failed try is retried: the server may still be
// initialising its data folder.
func (r *containerRunner) waitDataReady(ctx context.Context, c *runningContainer, p containerPlan) error {
	check := r.dataReadyCheck(p, c.id, c.upstream)
	delay := 50 * time.Millisecond
	timer := time.NewTimer(0)
	defer timer.Stop()
	var last error
	for {
		select {
		case <-c.done:
			return c.exitErr
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%s not ready (last try: %v): %w", r.spec.Stack, last, ctx.Err())
			}
			return fmt.Errorf("%s not ready: %w", r.spec.Stack, ctx.Err())
		case <-timer.C:
		}
		if last = check(ctx); last == nil {
			return nil
		}
		if dataSettingsRefused(last) {
			return fmt.Errorf("%w: the data in volume %s was initialised with another database, user or password, "+
				"and the image applies them to an empty volume only: set them back, or remove the volume (the service's purge) to start empty",
				last, DataVolume(r.spec.Home, r.spec.Project, r.spec.Service))
		}
		timer.Reset(delay)
		delay = min(delay*2, 250*time.Millisecond)
	}
}

// dataSettingsRefused reports whether a readiness query failed because the
// server does not know the database, the user or the password. The query
// goes over TCP, which the images' servers only listen on once their
// initialisation is over: the refusal is final.
func dataSettingsRefused(err error) bool {
	var ee *ExecError
	if !errors.As(err, &ee) {
		return false
	}
	tail := strings.Join(ee.Tail, "\n")
	return containsAny(tail, "ERROR 1044", "ERROR 1045", "ERROR 1049", // mariadb: access denied, unknown database
		"password authentication failed", "does not exist") // postgres: the role or the database
}

// afterDataReady finishes what the images' first start does not: MariaDB's
// image grants the user its own database only, and devport's users may
// create others (test suites do). The grant is idempotent, so it runs on
// every new container.
func (r *containerRunner) afterDataReady(ctx context.Context, c *runningContainer) error {
	if r.spec.Stack != stackdef.MariaDB {
		return nil
	}
	grant := "GRANT ALL PRIVILEGES ON *.* TO '" + r.spec.User + "'@'%'"
	err := r.execIn(ctx, c.id, execSpec{cmd: []string{"mariadb", "--user=root", "--execute=" + grant},
		env: []string{"MYSQL_PWD=" + r.spec.Password}})
	if err != nil {
		return fmt.Errorf("grant %s the right to create databases: %w", r.spec.User, err)
	}
	return nil
}
