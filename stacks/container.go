package stacks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/devport/devport/internal/stackdef"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"
)

// dockerPingTimeout bounds the check that an engine answers.
const dockerPingTimeout = 5 * time.Second

// NewDockerClient returns a client for the engine DOCKER_HOST names (the
// default socket without it), negotiating the API version so that old
// engines (20.10, API 1.41) and new ones both work. It does not connect.
func NewDockerClient() (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client (check DOCKER_HOST): %w", err)
	}
	return cli, nil
}

// PingDocker reports whether an engine answers, as a *DockerError when none
// does.
func PingDocker(ctx context.Context, cli *client.Client) error {
	ctx, cancel := context.WithTimeout(ctx, dockerPingTimeout)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		return dockerError(cli, err)
	}
	// Negotiation happens on the first real call, not on Ping.
	cli.NegotiateAPIVersion(ctx)
	return nil
}

func dockerError(cli *client.Client, err error) error {
	_, errD := exec.LookPath("dockerd")
	_, errC := exec.LookPath("docker")
	installed := errD == nil || errC == nil
	if !installed {
		for _, p := range []string{"/usr/bin/dockerd", "/usr/sbin/dockerd", "/usr/local/bin/dockerd"} {
			if isExecutable(p) {
				installed = true
			}
		}
	}
	return &DockerError{Host: cli.DaemonHost(), Installed: installed, Err: err}
}

// isDockerDown reports whether err means the engine cannot be reached.
func isDockerDown(err error) bool {
	return client.IsErrConnectionFailed(err) || errors.Is(err, ErrDockerUnavailable)
}

// NewContainerRunner returns a Runner that runs spec in a Docker container:
// the stack's image (Spec.Image, else DefaultImage), the project folder
// bind-mounted, the port published on 127.0.0.1 with an ephemeral host port
// that Start returns as the Upstream. Start pulls a missing image (reporting
// to Spec.Progress), adopts a running container of the same service and
// data folder that matches the spec, and removes any other. Stop removes
// the container. The container's output is streamed into Spec.LogPath.
func NewContainerRunner(spec Spec) (Runner, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(spec.Home) {
		return nil, fmt.Errorf("service %s: data folder %q must be an absolute path", spec.label(), spec.Home)
	}
	if !ContainerStack(spec.Stack) {
		return nil, fmt.Errorf("service %s: stack %q: %w in a container (use php, uvicorn, gunicorn, wsgi or uwsgi)", spec.label(), spec.Stack, ErrUnknownStack)
	}
	if spec.Image == "" {
		spec.Image = stackdef.DefaultImage(spec.Stack)
	}
	cli, err := NewDockerClient()
	if err != nil {
		return nil, err
	}
	return &containerRunner{spec: spec, cli: cli, lifecycle: newLifecycle[*runningContainer]()}, nil
}

// ContainerStack reports whether stack runs in the container runtime: every
// stack with a backend (the static stack has none; the proxy serves it).
func ContainerStack(stack string) bool {
	return stack == stackdef.PHP || stackdef.IsPython(stack)
}

// containerRunner is the container runtime's Runner: the lifecycle shared
// with the process runtime, around one container per run.
type containerRunner struct {
	spec Spec
	cli  *client.Client
	lifecycle[*runningContainer]
}

// runningContainer is one started (or adopted) container.
type runningContainer struct {
	id       string
	command  string
	upstream Upstream
	logPath  string
	logOff   int64
	logFile  *os.File        // the service log, closed by remove
	wctx     context.Context // ends with the watch (Stop)

	mu       sync.Mutex
	logDone  chan struct{} // closed when the log stream ended (closed from the start: no stream yet)
	stopping bool
	dead     bool          // it exited
	cancel   func()        // ends the watcher and the log stream
	onExit   func(error)   // set once ready
	done     chan struct{} // closed when the watcher saw the exit (or was canceled)
	exitErr  error
}

// ContainerID returns the id of the running container, "" when none runs.
func (r *containerRunner) ContainerID() string {
	if c := r.current(); c != nil {
		return c.id
	}
	return ""
}

func (r *containerRunner) Start(ctx context.Context) (Upstream, error) {
	ctx, end, err := r.beginStart(ctx)
	if err != nil {
		return Upstream{}, fmt.Errorf("start %s: %w", r.spec.label(), err)
	}
	defer end()

	if cur := r.current(); cur != nil {
		if cur.running() {
			return cur.upstream, nil
		}
		if err := r.removeCurrent(ctx, cur); err != nil {
			return Upstream{}, fmt.Errorf("start %s: %w", r.spec.label(), err)
		}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeout(ctx, DefaultReadyTimeout)
		defer cancelTimeout()
	}
	if err := PingDocker(ctx, r.cli); err != nil {
		return Upstream{}, fmt.Errorf("start %s: %w", r.spec.label(), err)
	}
	plan, err := planContainer(r.spec, r.spec.Image)
	if err != nil {
		return Upstream{}, fmt.Errorf("start %s: %w", r.spec.label(), err)
	}
	if err := plan.writeFiles(r.spec.RunDir); err != nil {
		return Upstream{}, fmt.Errorf("start %s: %w", r.spec.label(), err)
	}
	hash := plan.hash()
	c, err := r.adoptOrClean(ctx, hash, plan.protocol)
	if err != nil {
		return Upstream{}, fmt.Errorf("start %s: %w", r.spec.label(), err)
	}
	if c == nil {
		if c, err = r.create(ctx, plan, hash); err != nil {
			return Upstream{}, err
		}
	}
	if !r.ready(c) { // died right after answering
		<-c.done
		err := c.exitErr
		_ = r.remove(context.WithoutCancel(ctx), c)
		return Upstream{}, c.startError(err)
	}
	return c.upstream, nil
}

// adoptOrClean looks for containers of this service (same data folder). A
// running one created from the same plan that answers is adopted; every
// other one is removed.
func (r *containerRunner) adoptOrClean(ctx context.Context, hash, protocol string) (*runningContainer, error) {
	list, err := r.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", LabelHome+"="+filepath.Clean(r.spec.Home)),
		filters.Arg("label", LabelProject+"="+r.spec.Project),
		filters.Arg("label", LabelService+"="+r.spec.Service),
	)})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", r.wrap(err))
	}
	var adopted *runningContainer
	for _, s := range list {
		if adopted == nil && s.State == "running" && s.Labels[LabelConfig] == hash {
			if c, err := r.adopt(ctx, s.ID, protocol); err == nil {
				adopted = c
				continue
			}
		}
		if err := r.cli.ContainerRemove(ctx, s.ID, container.RemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
			return nil, fmt.Errorf("remove stale container %s: %w", shortID(s.ID), r.wrap(err))
		}
	}
	return adopted, nil
}

// adopt takes over a running container: its published port, a probe, and
// its log from now on.
func (r *containerRunner) adopt(ctx context.Context, id, protocol string) (*runningContainer, error) {
	info, err := r.cli.ContainerInspect(ctx, id)
	if err != nil {
		return nil, err
	}
	up, err := publishedPort(info)
	if err != nil {
		return nil, err
	}
	up.Protocol = protocol
	check, closeIdle := readiness(up, "")
	err = check(ctx) // bounded by probeTimeout
	closeIdle()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	c, err := r.attach(ctx, id, "adopted container "+shortID(id)+" ("+info.Config.Image+")", now)
	if err != nil {
		return nil, err
	}
	if err := r.streamLogs(c, now); err != nil {
		c.cancel()
		c.logFile.Close()
		return nil, err
	}
	c.upstream = up
	return c, nil
}

// create makes, starts and probes a new container.
func (r *containerRunner) create(ctx context.Context, plan containerPlan, hash string) (*runningContainer, error) {
	pulled, err := r.ensureImage(ctx, plan.image)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", r.spec.label(), err)
	}
	if pulled {
		// A pull may outlast the start's budget: what follows gets a
		// readiness budget of its own (Stop still cancels it).
		var cancel func()
		ctx, cancel = keepOnDeadline(ctx, DefaultReadyTimeout)
		defer cancel()
	}
	labels := serviceLabels(r.spec)
	if plan.volume != "" {
		_, err := r.cli.VolumeCreate(ctx, volume.CreateOptions{Name: plan.volume, Labels: labels})
		if err != nil {
			return nil, fmt.Errorf("start %s: create volume %s: %w", r.spec.label(), plan.volume, r.wrap(err))
		}
	}
	labels[LabelConfig] = hash
	port := nat.Port(plan.port + "/tcp")
	cfg := &container.Config{
		Image:        plan.image,
		Cmd:          plan.cmd,
		Env:          append(slices.Clone(plan.env), r.spec.Env...),
		WorkingDir:   plan.workDir,
		Labels:       labels,
		ExposedPorts: nat.PortSet{port: struct{}{}},
	}
	init := true
	host := &container.HostConfig{
		Init:         &init,
		PortBindings: nat.PortMap{port: {{HostIP: "127.0.0.1", HostPort: ""}}},
		Mounts:       plan.mounts,
	}
	var netCfg *network.NetworkingConfig
	if plan.network != "" {
		if err := r.ensureNetwork(ctx, plan.network); err != nil {
			return nil, fmt.Errorf("start %s: %w", r.spec.label(), err)
		}
		netCfg = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			plan.network: {Aliases: []string{r.spec.Service}},
		}}
		host.NetworkMode = container.NetworkMode(plan.network)
	}
	name := containerName(r.spec.Home, r.spec.Project, r.spec.Service)
	command := shellJoin(append([]string{"docker", "run", plan.image}, plan.cmd...))
	created, err := r.cli.ContainerCreate(ctx, cfg, host, netCfg, nil, name)
	if err != nil {
		err = r.wrap(err)
		if cerrdefs.IsConflict(err) {
			err = fmt.Errorf("%w: a container named %s already exists and is not this service's: remove it with docker rm -f %s (%v)",
				ErrConflict, name, name, err)
		}
		return nil, &StartError{Command: command, Err: fmt.Errorf("create container: %w", err)}
	}
	c, err := r.attach(ctx, created.ID, command, time.Time{})
	if err != nil {
		_ = r.cli.ContainerRemove(context.WithoutCancel(ctx), created.ID, container.RemoveOptions{Force: true})
		return nil, &StartError{Command: command, Err: err}
	}
	fail := func(err error) (*runningContainer, error) {
		rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.spec.StopTimeout+DefaultStopTimeout)
		defer cancel()
		_ = r.remove(rmCtx, c)
		return nil, c.startError(err)
	}
	if err := r.cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		err = r.wrap(err)
		if isPortConflict(err) {
			err = fmt.Errorf("%w: the published port is taken: %v", ErrConflict, err)
		}
		return fail(fmt.Errorf("start container: %w", err))
	}
	if err := r.streamLogs(c, time.Time{}); err != nil {
		return fail(err)
	}
	info, err := r.cli.ContainerInspect(ctx, created.ID)
	if err != nil {
		return fail(fmt.Errorf("inspect container: %w", r.wrap(err)))
	}
	if c.upstream, err = publishedPort(info); err != nil {
		return fail(err)
	}
	c.upstream.Protocol = plan.protocol
	if err := c.waitReady(ctx); err != nil {
		return fail(err)
	}
	return c, nil
}

// attach watches the container for its exit and opens the service log;
// streamLogs then copies the container's output into it. Docker ends a
// log stream at once for a container that is not running yet, so a new
// container is attached before its start and streamed after it.
func (r *containerRunner) attach(ctx context.Context, id, command string, since time.Time) (*runningContainer, error) {
	f, off, err := openLog(r.spec.LogPath, command)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	noStream := make(chan struct{})
	close(noStream)
	c := &runningContainer{id: id, command: command, logPath: r.spec.LogPath, logOff: off, logFile: f, wctx: wctx,
		logDone: noStream, done: make(chan struct{}), cancel: cancel}
	// A created container is "not running" yet: wait for its next exit.
	cond := container.WaitConditionNotRunning
	if since.IsZero() {
		cond = container.WaitConditionNextExit
	}
	waitC, errC := r.cli.ContainerWait(wctx, id, cond)
	go func() {
		var err error
		select {
		case w := <-waitC:
			err = &containerExit{code: w.StatusCode}
			if w.Error != nil && w.Error.Message != "" {
				err = fmt.Errorf("%w: %s", err, w.Error.Message)
			}
		case e := <-errC:
			if wctx.Err() != nil { // Stop canceled the watch
				close(c.done)
				return
			}
			err = fmt.Errorf("lost the container: %w", r.wrap(e))
		}
		c.mu.Lock()
		c.dead = true
		c.exitErr = err
		crashed := c.onExit != nil && !c.stopping
		onExit := c.onExit
		c.mu.Unlock()
		close(c.done)
		if crashed {
			// Let the log stream deliver the last words first.
			select {
			case <-c.logStream():
			case <-time.After(time.Second):
			}
			onExit(c.crashError(err))
		}
	}()
	return c, nil
}

// streamLogs copies the container's output (from since; zero: from its
// beginning) into the service log until the container is gone.
func (r *containerRunner) streamLogs(c *runningContainer, since time.Time) error {
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: true}
	if !since.IsZero() {
		opts.Since = strconv.FormatInt(since.Unix(), 10)
	}
	logs, err := r.cli.ContainerLogs(c.wctx, c.id, opts)
	if err != nil {
		return fmt.Errorf("stream container logs: %w", r.wrap(err))
	}
	done := make(chan struct{})
	c.mu.Lock()
	c.logDone = done
	c.mu.Unlock()
	go func() {
		defer close(done)
		defer logs.Close()
		_, _ = stdcopy.StdCopy(c.logFile, c.logFile, logs) // ends when the container is gone or wctx ends
	}()
	return nil
}

func (c *runningContainer) logStream() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logDone
}

// waitReady probes the published port until an HTTP answer comes back (over
// the uwsgi protocol for uWSGI), the container exits, or ctx ends. Docker's
// proxy accepts connections before the server in the container listens;
// those fail and are retried.
func (c *runningContainer) waitReady(ctx context.Context) error {
	check, closeIdle := readiness(c.upstream, "")
	defer closeIdle()
	delay := 10 * time.Millisecond
	timer := time.NewTimer(0)
	defer timer.Stop()
	var last error
	for {
		select {
		case <-c.done:
			return c.exitErr
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("no HTTP answer on %s (last try: %v): %w", c.upstream, last, ctx.Err())
			}
			return fmt.Errorf("no HTTP answer on %s: %w", c.upstream, ctx.Err())
		case <-timer.C:
		}
		if last = check(ctx); last == nil {
			return nil
		}
		timer.Reset(delay)
		delay = min(delay*2, 50*time.Millisecond)
	}
}

func (c *runningContainer) markReady(onExit func(error)) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return false
	}
	c.onExit = onExit
	return true
}

func (c *runningContainer) running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.dead && !c.stopping
}

// startError wraps why a start failed with the container's last log lines.
func (c *runningContainer) startError(err error) *StartError {
	return &StartError{Command: c.command, Tail: logTail(c.logPath, c.logOff, tailLines), Err: err}
}

// crashError is a started container's exit, with its last log lines.
func (c *runningContainer) crashError(err error) error {
	tail := logTail(c.logPath, c.logOff, 5)
	if len(tail) == 0 {
		return fmt.Errorf("container %s: %w", shortID(c.id), err)
	}
	return fmt.Errorf("container %s: %w (last log line: %s)", shortID(c.id), err, tail[len(tail)-1])
}

// remove stops and removes c, and waits for its log stream to end.
func (r *containerRunner) remove(ctx context.Context, c *runningContainer) error {
	c.mu.Lock()
	c.stopping = true
	c.mu.Unlock()
	secs := max(1, int(r.spec.StopTimeout.Round(time.Second)/time.Second))
	err := r.cli.ContainerStop(ctx, c.id, container.StopOptions{Timeout: &secs})
	if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
		if isDockerDown(err) || ctx.Err() != nil {
			return fmt.Errorf("stop container %s: %w", shortID(c.id), r.wrap(err))
		}
	}
	// Let the log stream drain what the container said on its way out.
	select {
	case <-c.logStream():
	case <-time.After(time.Second):
	}
	c.cancel()
	err = r.cli.ContainerRemove(ctx, c.id, container.RemoveOptions{Force: true})
	if err != nil && !cerrdefs.IsNotFound(err) && !isRemovalInProgress(err) {
		return fmt.Errorf("remove container %s: %w", shortID(c.id), r.wrap(err))
	}
	<-c.logStream()
	<-c.done
	c.logFile.Close()
	// The project's network goes with its last container; while another
	// one is attached, Docker refuses, and that one removes it later.
	_ = r.cli.NetworkRemove(ctx, networkName(r.spec.Home, r.spec.Project))
	return nil
}

// ensureNetwork creates the project's network unless it exists. Two
// services starting at once may both create it: the loser finds the
// winner's.
func (r *containerRunner) ensureNetwork(ctx context.Context, name string) error {
	if _, err := r.cli.NetworkInspect(ctx, name, network.InspectOptions{}); err == nil {
		return nil
	}
	_, err := r.cli.NetworkCreate(ctx, name, network.CreateOptions{Driver: "bridge", Labels: networkLabels(r.spec)})
	if err == nil {
		return nil
	}
	if _, ierr := r.cli.NetworkInspect(ctx, name, network.InspectOptions{}); ierr == nil {
		return nil
	}
	return fmt.Errorf("create network %s: %w", name, r.wrap(err))
}

// removeCurrent removes c and forgets it; r.sem must be held.
func (r *containerRunner) removeCurrent(ctx context.Context, c *runningContainer) error {
	if err := r.remove(ctx, c); err != nil {
		return err
	}
	r.forget(c)
	c.mu.Lock()
	onExit := c.onExit
	c.mu.Unlock()
	if onExit != nil {
		onExit(nil)
	}
	return nil
}

func (r *containerRunner) Stop(ctx context.Context) error {
	end, err := r.beginStop(ctx)
	if err != nil {
		return fmt.Errorf("stop %s: %w", r.spec.label(), err)
	}
	defer end()
	c := r.current()
	if c == nil {
		return nil
	}
	if err := r.removeCurrent(ctx, c); err != nil {
		return fmt.Errorf("stop %s: %w", r.spec.label(), err)
	}
	return nil
}

// wrap turns a connection failure into a *DockerError.
func (r *containerRunner) wrap(err error) error {
	if err != nil && client.IsErrConnectionFailed(err) {
		return dockerError(r.cli, err)
	}
	return err
}

// ensureImage pulls the image when it is not present, reporting progress,
// and says whether it pulled. The pull ignores ctx's deadline (a big image
// on a slow line takes minutes) but not its cancellation (Stop, or a client
// that went away).
func (r *containerRunner) ensureImage(ctx context.Context, ref string) (bool, error) {
	_, err := r.cli.ImageInspect(ctx, ref)
	if err == nil {
		return false, nil
	}
	if !cerrdefs.IsNotFound(err) {
		return false, fmt.Errorf("inspect image %s: %w", ref, r.wrap(err))
	}
	pctx, cancel := keepOnDeadline(ctx, 0)
	defer cancel()
	if err := PullImage(pctx, r.cli, ref, r.spec.Progress); err != nil {
		if client.IsErrConnectionFailed(err) {
			return false, r.wrap(err)
		}
		if pctx.Err() != nil {
			return false, fmt.Errorf("pull %s: %w", ref, pctx.Err())
		}
		return false, &ImageError{Image: ref, Err: err}
	}
	return true, nil
}

// keepOnDeadline returns a context that outlives ctx's deadline but ends
// when ctx is canceled, with a timeout of its own when timeout > 0.
func keepOnDeadline(ctx context.Context, timeout time.Duration) (context.Context, func()) {
	out, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if timeout > 0 {
		var cancelT func()
		out, cancelT = context.WithTimeout(out, timeout)
		prev := cancel
		cancel = func() { cancelT(); prev() }
	}
	stop := context.AfterFunc(ctx, func() {
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			cancel()
		}
	})
	return out, func() { stop(); cancel() }
}

// PullImage pulls ref, calling progress (when set) for every layer update.
func PullImage(ctx context.Context, cli *client.Client, ref string, progress func(layer string, current, total int64)) error {
	rc, err := cli.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return err
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	for {
		var m jsonmessage.JSONMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read pull progress: %w", err)
		}
		if m.Error != nil {
			return errors.New(m.Error.Message)
		}
		// "Pull complete" and friends carry an empty progress: skip them.
		if progress != nil && m.ID != "" && m.Progress != nil && (m.Progress.Current > 0 || m.Progress.Total > 0) {
			progress(m.ID, m.Progress.Current, m.Progress.Total)
		}
	}
}

// publishedPort reads the 127.0.0.1 host port Docker chose for the
// container's first exposed port.
func publishedPort(info container.InspectResponse) (Upstream, error) {
	if info.NetworkSettings != nil {
		for _, bindings := range info.NetworkSettings.Ports {
			for _, b := range bindings {
				if b.HostPort != "" && (b.HostIP == "127.0.0.1" || b.HostIP == "") {
					return Upstream{Network: "tcp", Address: net.JoinHostPort("127.0.0.1", b.HostPort)}, nil
				}
			}
		}
	}
	return Upstream{}, fmt.Errorf("container %s has no published port", shortID(info.ID))
}

// hash identifies a plan: a running container made from the same one can be
// adopted.
func (p containerPlan) hash() string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	names := make([]string, 0, len(p.files))
	for n := range p.files {
		names = append(names, n)
	}
	slices.Sort(names)
	_ = enc.Encode([]any{p.image, p.cmd, p.env, p.workDir, p.port, p.mounts, p.volume, p.network, names})
	for _, n := range names {
		h.Write(p.files[n])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func isPortConflict(err error) bool {
	s := err.Error()
	return containsAny(s, "port is already allocated", "address already in use")
}

func isRemovalInProgress(err error) bool {
	return containsAny(err.Error(), "already in progress")
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
