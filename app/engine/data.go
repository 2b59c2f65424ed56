package engine

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// This file holds a project's data services (databases, Redis, Mailpit):
// adding and removing them, where their data lives, the runner of each,
// and the environment through which the web services reach them.

// dataStacks are the stacks of data services, for messages.
var dataStacks = stackdef.Names(func(d stackdef.Def) bool { return d.Data })

// ServiceData is the data folder of a data service in the process
// runtime: under the data dir, so it outlives the project's run folders.
func (p Paths) ServiceData(project, service string) string {
	return filepath.Join(p.Data, "services", project, service)
}

// serviceMeta is the file beside a data folder that remembers what made
// it: the stack and the database password. A data service added again
// under the same name (after rm without --purge) reuses both, so its data
// opens with the credentials it was made with.
func (p Paths) serviceMeta(project, service string) string {
	return filepath.Join(p.Data, "services", project, service+".json")
}

// dataMeta is what serviceMeta holds.
type dataMeta struct {
	Stack    string `json:"stack"`
	Password string `json:"password,omitempty"`
	DBName   string `json:"db_name,omitempty"`
}

func (m *Manager) readMeta(project, service string) (dataMeta, bool) {
	b, err := os.ReadFile(m.paths.serviceMeta(project, service))
	if err != nil {
		return dataMeta{}, false
	}
	var meta dataMeta
	if json.Unmarshal(b, &meta) != nil {
		return dataMeta{}, false
	}
	return meta, true
}

func (m *Manager) writeMeta(project, service string, meta dataMeta) error {
	path := m.paths.serviceMeta(project, service)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, _ := json.Marshal(meta)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// dbName is the database and user name a data service of project gets:
// its name with underscores (and "db_" before a leading digit), which both
// MariaDB and PostgreSQL take unquoted. It is stored with the service, so
// a rename of the project keeps it.
func dbName(project string) string {
	n := strings.ReplaceAll(project, "-", "_")
	if n != "" && n[0] >= '0' && n[0] <= '9' {
		n = "db_" + n
	}
	return n
}

// checkDataRequest validates a data service request and returns its
// canonical stack.
func checkDataRequest(req wire.DataServiceRequest) (string, error) {
	if err := store.ValidateName("service", req.Name); err != nil {
		return "", err
	}
	stack := stackdef.Canonical(req.Stack)
	if !stackdef.IsData(stack) {
		return "", &store.ValidationError{Field: "stack", Value: req.Stack, Reason: "is not a data service",
			Fix: "use --stack " + stackdef.List(dataStacks, "or")}
	}
	if err := store.ValidateVersion(req.Version); err != nil {
		return "", err
	}
	if err := checkRuntime(req.Runtime, req.Image); err != nil {
		return "", err
	}
	return stack, nil
}

// errRestartAfterAdd marks an AddDataService whose service was stored,
// but whose project did not start again with it.
var errRestartAfterAdd = errors.New("added, but the restart failed")

// AddDataService adds a data service to project name. It checks that the
// service can run here (the host's programs and version, or Docker),
// chooses a free loopback port and a password, and stores it. A running
// project is restarted, so its web services get the new variables.
func (m *Manager) AddDataService(ctx context.Context, name string, req wire.DataServiceRequest) (store.DataService, error) {
	stack, err := checkDataRequest(req)
	if err != nil {
		return store.DataService{}, err
	}
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return store.DataService{}, err
	}
	if slices.ContainsFunc(p.Services, func(s store.Service) bool { return s.Name == req.Name }) ||
		slices.ContainsFunc(p.Data, func(d store.DataService) bool { return d.Name == req.Name }) {
		return store.DataService{}, &store.ValidationError{Field: "service", Value: req.Name,
			Reason: "project " + name + " already has a service of that name", Fix: "pick another name, e.g. " + req.Name + "2"}
	}
	runtime := cmp.Or(req.Runtime, wire.RuntimeProcess)
	if err := m.checkDataRuntime(ctx, stack, runtime, req.Version); err != nil {
		return store.DataService{}, err
	}
	d := store.DataService{Name: req.Name, Stack: stack, Runtime: runtime, Image: req.Image, Version: req.Version}
	if stackdef.IsDatabase(stack) {
		d.Password, d.DBName = rand.Text(), dbName(p.Name)
	}
	if meta, ok := m.readMeta(p.Name, d.Name); ok && meta.Stack == stack {
		d.Password, d.DBName = meta.Password, cmp.Or(meta.DBName, d.DBName) // its data was made with those
	} else if ok {
		return store.DataService{}, &store.ValidationError{Field: "service", Value: d.Name,
			Reason: "the data of a removed " + meta.Stack + " service of that name is still kept",
			Fix:    "pick another name, or add it as --stack " + meta.Stack + " to use that data again"}
	}
	if d.Port, err = m.freeDataPort(ctx, stack); err != nil {
		return store.DataService{}, err
	}
	d, err = m.db.AddDataService(ctx, name, d)
	if err != nil {
		return store.DataService{}, err
	}
	if err := m.writeMeta(p.Name, d.Name, dataMeta{Stack: stack, Password: d.Password, DBName: d.DBName}); err != nil {
		_ = m.db.RemoveDataService(context.WithoutCancel(ctx), name, d.Name)
		return store.DataService{}, fmt.Errorf("add %s/%s: %w", name, d.Name, err)
	}
	m.event(ctx, store.Event{Project: name, Service: d.Name, Kind: "service added", Detail: d.Stack + " " + d.Runtime})
	m.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	if m.running(name) {
		if err := m.Restart(ctx, name); err != nil {
			return d, fmt.Errorf("%s/%s: %w: %w", name, d.Name, errRestartAfterAdd, err)
		}
	}
	return d, nil
}

// running reports whether project name has a run (starting, running,
// crashed or failed).
func (m *Manager) running(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.runs[name] != nil
}

// checkDataRuntime checks that stack can run in runtime here: its
// programs and the version asked for (process), or Docker (container).
func (m *Manager) checkDataRuntime(ctx context.Context, stack, runtime, version string) error {
	if runtime == wire.RuntimeContainer {
		return checkServiceRuntime(ctx, runtime, stack, "")
	}
	if err := stacks.Check(stack, ""); err != nil {
		return err
	}
	if version == "" {
		return nil
	}
	have, err := stacks.DataVersions(stack)
	if err != nil {
		return err
	}
	if !slices.Contains(have, version) {
		return &store.ValidationError{Field: "version", Value: version,
			Reason: stack + " " + version + " is not installed here (this machine has " + cmp.Or(strings.Join(have, ", "), "none") + ")",
			Fix:    "pick one of those, or run it in a container: --runtime container --version " + version}
	}
	return nil
}

// firstDataPort and dataPortSpan: a data service gets its stack's usual
// port (3306) when that is free, else the first free one from that port
// plus firstDataPort (13306, 13307, ...).
const (
	firstDataPort = 10000
	dataPortSpan  = 200
)

// freeDataPort is a loopback port for a new data service of stack: not
// held by another data service, and free to bind now.
func (m *Manager) freeDataPort(ctx context.Context, stack string) (int, error) {
	return m.freeDataPortExcept(ctx, stack, nil)
}

// freeDataPortExcept is freeDataPort that also skips the ports in taken
// (those of the other services of a project being planned).
func (m *Manager) freeDataPortExcept(ctx context.Context, stack string, taken map[int]bool) (int, error) {
	held, err := m.db.DataPorts(ctx)
	if err != nil {
		return 0, err
	}
	base := stackdef.Port(stack)
	candidates := []int{base}
	for i := range dataPortSpan {
		candidates = append(candidates, base+firstDataPort+i)
	}
	for _, port := range candidates {
		if _, ok := held[port]; ok || taken[port] || !portFree(port) {
			continue
		}
		return port, nil
	}
	return 0, fmt.Errorf("no free port for %s between %d and %d: free one, or remove data services you no longer use",
		stack, base+firstDataPort, base+firstDataPort+dataPortSpan-1)
}

// portFree reports whether a TCP port on 127.0.0.1 can be bound now.
func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// RemoveDataService removes a data service of project name. Its data is
// kept (the report says where, and how much) unless purge, which deletes
// its folder or volume. A running project is restarted without it.
func (m *Manager) RemoveDataService(ctx context.Context, name, service string, purge bool) (wire.DataServiceRemoval, error) {
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return wire.DataServiceRemoval{}, err
	}
	i := slices.IndexFunc(p.Data, func(d store.DataService) bool { return d.Name == service })
	if i < 0 {
		return wire.DataServiceRemoval{}, &store.ValidationError{Field: "service", Value: service,
			Reason: "project " + name + " has no data service of that name", Fix: "see devport service " + name + " ls"}
	}
	d := p.Data[i]
	running := m.running(name)
	if running {
		if err := m.Stop(ctx, name); err != nil && !errors.Is(err, ErrNotRunning) {
			return wire.DataServiceRemoval{}, err
		}
	}
	if err := m.db.RemoveDataService(ctx, name, service); err != nil {
		return wire.DataServiceRemoval{}, err
	}
	m.event(ctx, store.Event{Project: name, Service: service, Kind: "service removed"})
	m.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	var out wire.DataServiceRemoval
	if purge {
		err = m.purgeData(ctx, p.Name, d)
	} else {
		out.Service = d.Name
		out.Kept, out.Size = m.dataWhere(ctx, p.Name, d)
	}
	if running {
		err = errors.Join(err, m.Start(ctx, name))
	}
	return out, err
}

// purgeData deletes what a data service keeps: its folder (process), its
// volume (container), and the file that remembers its password.
func (m *Manager) purgeData(ctx context.Context, project string, d store.DataService) error {
	var errs []error
	if err := os.RemoveAll(m.paths.ServiceData(project, d.Name)); err != nil {
		errs = append(errs, err)
	}
	if err := stacks.RemoveDataVolume(ctx, m.paths.Data, project, d.Name); err != nil && !errors.Is(err, stacks.ErrDockerUnavailable) {
		errs = append(errs, err)
	}
	if err := os.Remove(m.paths.serviceMeta(project, d.Name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// dataWhere says where a data service's data is, and its size in bytes
// (-1 when unknown).
func (m *Manager) dataWhere(ctx context.Context, project string, d store.DataService) (string, int64) {
	if d.Runtime == wire.RuntimeContainer {
		vol := stacks.DataVolume(m.paths.Data, project, d.Name)
		return "volume " + vol, stacks.DataVolumeSize(ctx, m.paths.Data, project, d.Name)
	}
	dir := m.paths.ServiceData(project, d.Name)
	return dir, dirSize(dir)
}

// dirSize is the size of the files under dir, -1 when it cannot be read.
func dirSize(dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		return -1
	}
	return n
}

// dataSpec is the stacks.Spec of a data service.
func (m *Manager) dataSpec(ctx context.Context, p store.Project, d store.DataService) stacks.Spec {
	spec := stacks.Spec{
		Project: p.Name,
		Service: d.Name,
		Stack:   d.Stack,
		Dir:     cmp.Or(p.Root, m.paths.Data),
		RunDir:  m.paths.ServiceRun(p.Name, d.Name),
		LogPath: m.paths.ServiceLog(p.Name, d.Name),
		DataDir: m.paths.ServiceData(p.Name, d.Name),
		Version: d.Version,
		Port:    d.Port,
	}
	if stackdef.IsDatabase(d.Stack) {
		spec.Database, spec.User, spec.Password = d.DBName, d.DBName, d.Password
	}
	if d.Runtime == wire.RuntimeContainer {
		spec.Image = d.Image
		if spec.Image == "" && d.Version == "" {
			if v, ok, err := m.db.Setting(ctx, SettingImagePrefix+d.Stack); err == nil && ok {
				spec.Image = v
			}
		}
		spec.Home = m.paths.Data
		spec.Progress = m.pullProgress(p.Name, d.Name, cmp.Or(spec.Image, d.Stack))
	}
	return spec
}

// dataRunner builds the runner of a data service for its runtime.
func (m *Manager) dataRunner(ctx context.Context, p store.Project, d store.DataService) (stacks.Runner, error) {
	spec := m.dataSpec(ctx, p, d)
	if d.Runtime == wire.RuntimeContainer {
		return stacks.NewContainerRunner(spec)
	}
	if err := stacks.Check(d.Stack, ""); err != nil {
		return nil, err
	}
	if err := m.openDataParents(p.Name); err != nil {
		return nil, err
	}
	spec.Supervisor = m.supervisor
	return m.newRunner(spec)
}

// openDataParents makes the folders above a project's data folders
// passable (mode 0711: entered, not listed) for the account a database
// server runs as when devport is root (stacks gives it the data folder
// itself); the data dir is passable already, for the run folders.
func (m *Manager) openDataParents(project string) error {
	services := filepath.Join(m.paths.Data, "services")
	for _, dir := range []string{services, filepath.Join(services, project)} {
		if err := os.MkdirAll(dir, 0o711); err != nil {
			return err
		}
		if err := os.Chmod(dir, 0o711); err != nil {
			return err
		}
	}
	return nil
}

// startDataServices starts the data services of p into r, each ready by a
// real check of its own, before any web service starts.
func (m *Manager) startDataServices(ctx context.Context, p store.Project, r *run) error {
	if err := reachableData(p); err != nil {
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	for _, d := range p.Data {
		runner, err := m.dataRunner(ctx, p, d)
		if err != nil {
			return fmt.Errorf("start %s/%s: %w", p.Name, d.Name, err)
		}
		up, err := runner.Start(ctx)
		if err != nil {
			_ = runner.Stop(context.WithoutCancel(ctx))
			return err
		}
		m.recordGroup(ctx, p.Name, d.Name, runner)
		m.mu.Lock()
		r.services[d.Name] = &serviceRun{runner: runner, upstream: up, data: true}
		m.mu.Unlock()
	}
	return nil
}

// reachableData refuses a project whose web container would be handed a
// data service it cannot reach: one that runs as a process listens on
// this machine's loopback, which inside a container is the container.
func reachableData(p store.Project) error {
	for _, s := range p.Services {
		if s.Runtime != wire.RuntimeContainer || stackdef.RunsNothing(s.Stack) {
			continue
		}
		for _, d := range p.Data {
			if d.Runtime != wire.RuntimeContainer {
				return &store.ValidationError{Field: "runtime", Value: d.Runtime,
					Reason: "service " + s.Name + " runs in a container, and data service " + d.Name + " as a process on this machine's loopback, which the container cannot reach",
					Fix:    "run " + d.Name + " in a container too: devport set " + p.Name + " --service " + d.Name + " --runtime container (its data moves with it)"}
			}
		}
	}
	return nil
}

// dataEnv is what a web service running in runtime gets to reach the data
// services of p: DB_*, DATABASE_URL, REDIS_*, MAIL_*. The first service
// of a kind (by the order they were added) gets the plain names; each
// further one of that kind gets its name as a prefix (CACHE_REDIS_URL).
// A web service in a container reaches data services in containers by
// name on the project's network, and the others on the host's loopback
// port, as a process does.
func dataEnv(p store.Project, runtime string) []string {
	data := slices.Clone(p.Data)
	slices.SortFunc(data, func(a, b store.DataService) int { return cmp.Compare(a.ID, b.ID) })
	kinds := map[string]bool{}
	var out []string
	for _, d := range data {
		kind := d.Stack
		if stackdef.IsDatabase(kind) {
			kind = "database"
		}
		prefix := ""
		if kinds[kind] {
			prefix = strings.ToUpper(strings.ReplaceAll(d.Name, "-", "_")) + "_"
		}
		kinds[kind] = true
		host, port := "127.0.0.1", d.Port
		if runtime == wire.RuntimeContainer && d.Runtime == wire.RuntimeContainer {
			host, port = d.Name, stackdef.Port(d.Stack)
		}
		for _, kv := range connectionEnv(d, host, port) {
			out = append(out, prefix+kv)
		}
	}
	return out
}

// connectionEnv is the variables of one data service at host:port,
// sorted by name.
func connectionEnv(d store.DataService, host string, port int) []string {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ps := strconv.Itoa(port)
	switch d.Stack {
	case stackdef.MariaDB, stackdef.Postgres:
		conn, scheme := "mysql", "mysql"
		if d.Stack == stackdef.Postgres {
			conn, scheme = "pgsql", "postgresql"
		}
		name := d.DBName
		u := url.URL{Scheme: scheme, User: url.UserPassword(name, d.Password), Host: addr, Path: "/" + name}
		return []string{
			"DATABASE_URL=" + u.String(),
			"DB_CONNECTION=" + conn,
			"DB_DATABASE=" + name,
			"DB_HOST=" + host,
			"DB_PASSWORD=" + d.Password,
			"DB_PORT=" + ps,
			"DB_USERNAME=" + name,
		}
	case stackdef.Redis:
		return []string{"REDIS_HOST=" + host, "REDIS_PORT=" + ps, "REDIS_URL=redis://" + addr}
	case stackdef.Mailpit:
		return []string{"MAIL_HOST=" + host, "MAIL_MAILER=smtp", "MAIL_PORT=" + ps}
	}
	return nil
}

// envMap turns KEY=value entries into a map.
func envMap(env []string) map[string]string {
	out := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

// dataStatus is the status rows of p's data services in run state r
// (nil: stopped). The caller holds m.mu.
func (m *Manager) dataStatus(p store.Project, r *run) []wire.DataServiceStatus {
	var out []wire.DataServiceStatus
	for _, d := range p.Data {
		ds := wire.DataServiceStatus{Name: d.Name, Stack: d.Stack, Runtime: d.Runtime, Version: d.Version, Port: d.Port,
			Env: envMap(connectionEnv(d, "127.0.0.1", d.Port)), Log: m.paths.ServiceLog(p.Name, d.Name)}
		if d.Runtime == wire.RuntimeContainer {
			ds.Image = d.Image
			ds.Data = "volume " + stacks.DataVolume(m.paths.Data, p.Name, d.Name)
		} else {
			ds.Data = m.paths.ServiceData(p.Name, d.Name)
		}
		if d.Stack == stackdef.Mailpit {
			ds.MailURL = m.siteURL(mailDomain(p.Domains[0]))
		}
		if r != nil && r.state == wire.StateRunning {
			if sr := r.services[d.Name]; sr != nil {
				ds.Upstream = sr.upstream.String()
			}
		}
		out = append(out, ds)
	}
	return out
}

// mailDomain is where the Mailpit UI of a project on domain answers.
func mailDomain(domain string) string { return "mail." + domain }

// RemoveWith removes project name as Remove does. The data of its data
// services is kept, and the report says where and how much, unless purge,
// which deletes it too.
func (m *Manager) RemoveWith(ctx context.Context, name string, purge bool) (wire.RemoveReport, error) {
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return wire.RemoveReport{}, err
	}
	if err := m.Remove(ctx, name); err != nil {
		return wire.RemoveReport{}, err
	}
	var rep wire.RemoveReport
	var errs []error
	for _, d := range p.Data {
		if purge {
			errs = append(errs, m.purgeData(ctx, p.Name, d))
			continue
		}
		where, size := m.dataWhere(ctx, p.Name, d)
		rep.Kept = append(rep.Kept, wire.DataServiceRemoval{Service: d.Name, Kept: where, Size: size})
	}
	return rep, errors.Join(errs...)
}

// planData gives the data services of a project about to be stored (from
// its devport.toml) what AddDataService gives one: a check that it can run
// here, a free port, and a password (the one its kept data was made with,
// when there is such data).
func (m *Manager) planData(ctx context.Context, p *store.Project) error {
	taken := map[int]bool{}
	for i := range p.Data {
		d := &p.Data[i]
		if err := m.checkDataRuntime(ctx, d.Stack, d.Runtime, d.Version); err != nil {
			return fmt.Errorf("services.%s: %w", d.Name, err)
		}
		if d.Password == "" && stackdef.IsDatabase(d.Stack) {
			d.Password, d.DBName = rand.Text(), dbName(p.Name)
			if meta, ok := m.readMeta(p.Name, d.Name); ok && meta.Stack == d.Stack {
				d.Password, d.DBName = meta.Password, cmp.Or(meta.DBName, d.DBName)
			}
		}
		if d.Port == 0 {
			port, err := m.freeDataPortExcept(ctx, d.Stack, taken)
			if err != nil {
				return err
			}
			d.Port = port
		}
		taken[d.Port] = true
		if err := m.writeMeta(p.Name, d.Name, dataMeta{Stack: d.Stack, Password: d.Password, DBName: d.DBName}); err != nil {
			return err
		}
	}
	return nil
}

// setDataRuntime switches a data service to another runtime. A database's
// data moves with it: dumped from the old runtime (kept as the snapshot
// before-runtime-switch), loaded into the new one. When that fails, the
// old runtime is kept, with its data untouched. A running project is
// stopped for the move and started again.
func (m *Manager) setDataRuntime(ctx context.Context, p store.Project, d store.DataService, req wire.RuntimeRequest) (store.Project, error) {
	if req.Runtime == d.Runtime && req.Image == d.Image {
		return p, nil
	}
	if err := m.checkDataRuntime(ctx, d.Stack, req.Runtime, d.Version); err != nil {
		return store.Project{}, err
	}
	running := m.running(p.Name)
	if running {
		if err := m.Stop(ctx, p.Name); err != nil && !errors.Is(err, ErrNotRunning) {
			return store.Project{}, err
		}
	}
	err := m.moveData(ctx, p, d, req)
	if running {
		err = errors.Join(err, m.Start(ctx, p.Name))
	}
	if err != nil {
		return store.Project{}, err
	}
	return m.db.Project(ctx, p.Name)
}

// moveData stores the new runtime of d and, for a database, moves its
// data there with a dump and a restore.
func (m *Manager) moveData(ctx context.Context, p store.Project, d store.DataService, req wire.RuntimeRequest) error {
	dump := filepath.Join(m.paths.Snapshots(p.Name, d.Name), "before-runtime-switch"+snapshotExt)
	database := stackdef.IsDatabase(d.Stack)
	if database {
		err := m.withDatabase(ctx, p.Name, d.Name, func(db stacks.Database, _ store.Project, _ store.DataService) error {
			return writeDump(ctx, db, dump)
		})
		if err != nil {
			return fmt.Errorf("switch %s/%s to %s: dumping its data from %s failed, so nothing changed: %w", p.Name, d.Name, req.Runtime, d.Runtime, err)
		}
	}
	if err := m.db.SetDataServiceRuntime(ctx, p.Name, d.Name, req.Runtime, req.Image); err != nil {
		return err
	}
	if database {
		err := m.withDatabase(ctx, p.Name, d.Name, func(db stacks.Database, _ store.Project, _ store.DataService) error {
			return loadFile(ctx, db, dump, true)
		})
		if err != nil {
			rerr := m.db.SetDataServiceRuntime(context.WithoutCancel(ctx), p.Name, d.Name, d.Runtime, d.Image)
			return errors.Join(fmt.Errorf("switch %s/%s to %s (kept %s, its data untouched): loading the data there failed: %w",
				p.Name, d.Name, req.Runtime, d.Runtime, err), rerr)
		}
	}
	detail := req.Runtime
	if database {
		detail += ", data moved with a dump and restore (kept as snapshot before-runtime-switch)"
	} else {
		detail += "; its data stays with the " + d.Runtime + " runtime"
	}
	m.event(ctx, store.Event{Project: p.Name, Service: d.Name, Kind: "runtime", Detail: detail})
	m.emit(wire.Event{Kind: wire.EventNotice, Project: p.Name, Detail: d.Name + " now runs as a " + detail})
	return nil
}

// refuseDataRename refuses to rename a project with a data service in a
// container: its volume carries the project's name, and Docker cannot
// rename a volume, so the data would be left behind.
func refuseDataRename(p store.Project) error {
	for _, d := range p.Data {
		if d.Runtime == wire.RuntimeContainer {
			return &store.ValidationError{Field: "name", Value: p.Name,
				Reason: "data service " + d.Name + " keeps its data in a Docker volume named after the project, which cannot be renamed",
				Fix:    "switch it to the process runtime first (devport set " + p.Name + " --service " + d.Name + " --runtime process moves the data), or export its data and add it again"}
		}
	}
	return nil
}

// moveDataFolders moves the data folders, their password files and the
// snapshots of project old to project name. Nothing is moved over an
// existing folder of name (the data of a removed project of that name):
// that is an error, and nothing has moved.
func (m *Manager) moveDataFolders(old, name string) error {
	pairs := [][2]string{
		{filepath.Join(m.paths.Data, "services", old), filepath.Join(m.paths.Data, "services", name)},
		{filepath.Join(m.paths.Data, "snapshots", old), filepath.Join(m.paths.Data, "snapshots", name)},
	}
	for _, p := range pairs {
		if _, err := os.Stat(p[0]); err == nil {
			if _, err := os.Stat(p[1]); err == nil {
				return fmt.Errorf("%s already holds the data of an earlier project %s: move it away (or devport rm --purge that one) first", p[1], name)
			}
		}
	}
	var moved [][2]string
	for _, p := range pairs {
		err := os.Rename(p[0], p[1])
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			for _, back := range moved {
				_ = os.Rename(back[1], back[0])
			}
			return err
		}
		moved = append(moved, p)
	}
	return nil
}
