package stacks

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/devport/devport/internal/shellquote"
	"github.com/devport/devport/internal/stackdef"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
)

// NewContainerRunner returns a Runner that runs spec in a Docker container:
// the stack's image (Spec.Image, else DefaultImage), the project folder
// bind-mounted, the port published on 127.0.0.1 with an ephemeral host port
// that Start returns as the Upstream. Start pulls a missing image (reporting
// to Spec.Progress), adopts a running container of the same service and
// data folder that matches the spec, and removes any other. Stop removes
// the container. The container's output is streamed into Spec.LogPath.
//
// The data stacks (mariadb, postgres, redis, mailpit; container_data.go)
// run their official images instead (Spec.Version picks the tag), with the
// data in a named volume that Stop keeps (DataVolume), the client port
// published on 127.0.0.1:Spec.Port, and DataStopTimeout as the default
// StopTimeout. The runners of mariadb and postgres are Databases.
func NewContainerRunner(spec Spec) (Runner, error) {
	spec.Stack = stackdef.Canonical(spec.Stack)
	data := stackdef.IsData(spec.Stack)
	if data && spec.StopTimeout <= 0 {
		spec.StopTimeout = DataStopTimeout
	}
	if err := spec.validate(); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(spec.Home) {
		return nil, fmt.Errorf("service %s: data folder %q must be an absolute path", spec.label(), spec.Home)
	}
	if !ContainerStack(spec.Stack) {
		return nil, fmt.Errorf("service %s: stack %q: %w in a container (use php, uvicorn, gunicorn, wsgi, uwsgi, mariadb, postgres, redis or mailpit)",
			spec.label(), spec.Stack, ErrUnknownStack)
	}
	if data {
		if err := spec.validateContainerData(); err != nil {
			return nil, err
		}
		spec.Image = containerDataImage(spec)
	}
	if spec.Image == "" {
		spec.Image = stackdef.DefaultImage(spec.Stack)
	}
	cli, err := NewDockerClient()
	if err != nil {
		return nil, err
	}
	r := &containerRunner{spec: spec, cli: cli, lifecycle: newLifecycle[*runningContainer]()}
	if stackdef.IsDatabase(spec.Stack) {
		return &containerDatabase{r}, nil
	}
	return r, nil
}

// ContainerStack reports whether stack runs in the container runtime: every
// stack with a backend (the static stack has none; the proxy serves it),
// and the data stacks.
func ContainerStack(stack string) bool {
	stack = stackdef.Canonical(stack)
	return stack == stackdef.PHP || stackdef.IsPython(stack) || stackdef.IsData(stack)
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
		timeout := DefaultReadyTimeout
		if stackdef.IsData(r.spec.Stack) {
			timeout = containerDataReadyTimeout
		}
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeout(ctx, timeout)
		defer cancelTimeout()
	}
	if err := PingDocker(ctx, r.cli); err != nil {
		return Upstream{}, fmt.Errorf("start %s: %w", r.spec.label(), err)
	}
	// The network first: the php site trusts forwarding headers from its
	// gateway only, which Docker picks when it creates the network.
	proxyFrom, err := r.ensureNetwork(ctx, networkName(r.spec.Home, r.spec.Project))
	if err != nil {
		return Upstream{}, fmt.Errorf("start %s: %w", r.spec.label(), err)
	}
	plan, err := planContainer(r.spec, r.spec.Image, proxyFrom)
	if err != nil {
		return Upstream{}, fmt.Errorf("start %s: %w", r.spec.label(), err)
	}
	if err := plan.writeFiles(r.spec.RunDir); err != nil {
		return Upstream{}, fmt.Errorf("start %s: %w", r.spec.label(), err)
	}
	hash := plan.hash()
	c, err := r.adoptOrClean(ctx, hash, plan)
	if err != nil {
		return Upstream{}, fmt.Errorf("start %s: %w", r.spec.label(), err)
	}
	if c == nil {
		if c, err = r.create(ctx, plan, hash); err != nil {
			// No container of this start is left: the project's
			// network goes too, unless a sibling's container uses it.
			_ = r.cli.NetworkRemove(context.WithoutCancel(ctx), networkName(r.spec.Home, r.spec.Project))
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
func (r *containerRunner) adoptOrClean(ctx context.Context, hash string, plan containerPlan) (*runningContainer, error) {
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
			if c, err := r.adopt(ctx, s.ID, plan); err == nil {
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
func (r *containerRunner) adopt(ctx context.Context, id string, plan containerPlan) (*runningContainer, error) {
	info, err := r.cli.ContainerInspect(ctx, id)
	if err != nil {
		return nil, err
	}
	up, err := publishedPort(info, plan.upstreamPort())
	if err != nil {
		return nil, err
	}
	up.Protocol = plan.protocol
	if plan.ready != nil {
		err = r.dataReadyCheck(plan, id, up)(ctx)
	} else {
		check, closeIdle := readiness(up, "")
		err = check(ctx) // bounded by probeTimeout
		closeIdle()
	}
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
	if plan.hostPort != 0 {
		if err := checkDataPortFree(r.spec, plan.hostPort); err != nil {
			return nil, fmt.Errorf("start %s: %w", r.spec.label(), err)
		}
	}
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
		vlabels := serviceLabels(r.spec)
		maps.Copy(vlabels, plan.volumeLabels)
		_, err := r.cli.VolumeCreate(ctx, volume.CreateOptions{Name: plan.volume, Labels: vlabels})
		if err != nil {
			return nil, fmt.Errorf("start %s: create volume %s: %w", r.spec.label(), plan.volume, r.wrap(err))
		}
	}
	if plan.dataFromImage {
		if err := r.resolveDataMount(ctx, &plan); err != nil {
			return nil, fmt.Errorf("start %s: %w", r.spec.label(), err)
		}
	}
	labels[LabelConfig] = hash
	cmd := plan.cmd
	if plan.imageCmd {
		img, err := r.cli.ImageInspect(ctx, plan.image)
		if err != nil {
			return nil, fmt.Errorf("start %s: inspect image %s: %w", r.spec.label(), plan.image, r.wrap(err))
		}
		if img.Config != nil {
			cmd = append(slices.Clone(cmd), img.Config.Cmd...)
		}
	}
	exposed, bindings := plan.portBindings()
	cfg := &container.Config{
		Image:        plan.image,
		Cmd:          cmd,
		Env:          append(slices.Clone(plan.env), r.spec.Env...),
		WorkingDir:   plan.workDir,
		Labels:       labels,
		ExposedPorts: exposed,
		StopSignal:   plan.stopSignal,
	}
	if plan.hostPort != 0 {
		// A `docker stop` (or Docker's own shutdown) gives a database
		// the time Stop would.
		secs := max(1, int(r.spec.StopTimeout.Round(time.Second)/time.Second))
		cfg.StopTimeout = &secs
	}
	init := true
	host := &container.HostConfig{
		Init:         &init,
		PortBindings: bindings,
		Mounts:       plan.mounts,
		ExtraHosts:   plan.extraHosts,
	}
	var netCfg *network.NetworkingConfig
	if plan.network != "" {
		if _, err := r.ensureNetwork(ctx, plan.network); err != nil { // gone since Start made it: a sibling removed it
			return nil, fmt.Errorf("start %s: %w", r.spec.label(), err)
		}
		netCfg = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			plan.network: {Aliases: []string{r.spec.Service}},
		}}
		host.NetworkMode = container.NetworkMode(plan.network)
	}
	name := containerName(r.spec.Home, r.spec.Project, r.spec.Service)
	command := shellquote.Join(append([]string{"docker", "run", plan.image}, cmd...))
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
			if plan.hostPort != 0 {
				return fail(dataPortInUse(r.spec, plan.hostPort, err))
			}
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
	if c.upstream, err = publishedPort(info, plan.upstreamPort()); err != nil {
		return fail(err)
	}
	c.upstream.Protocol = plan.protocol
	if plan.ready != nil {
		err = r.waitDataReady(ctx, c, plan)
		if err == nil {
			err = r.afterDataReady(ctx, c)
		}
	} else {
		err = c.waitReady(ctx)
	}
	if err != nil {
		return fail(err)
	}
	return c, nil
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

// publishedPort reads the 127.0.0.1 host port Docker published the
// container's TCP port on ("" : the only one).
func publishedPort(info container.InspectResponse, port string) (Upstream, error) {
	if info.NetworkSettings != nil {
		for p, bindings := range info.NetworkSettings.Ports {
			if port != "" && p.Port() != port {
				continue
			}
			for _, b := range bindings {
				if b.HostPort != "" && (b.HostIP == "127.0.0.1" || b.HostIP == "") {
					return Upstream{Network: "tcp", Address: net.JoinHostPort("127.0.0.1", b.HostPort)}, nil
				}
			}
		}
	}
	return Upstream{}, fmt.Errorf("container %s has no published port", shortID(info.ID))
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
