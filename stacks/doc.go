// Package stacks runs a project's backends as local processes: Apache with
// mod_php for the php stack, uvicorn for the uvicorn stack, gunicorn with
// uvicorn workers for the gunicorn stack, gunicorn's sync workers for the
// wsgi stack, and uWSGI for the uwsgi stack.
//
// A Runner starts one service and reports the Upstream the proxy should
// forward to (a loopback TCP port for Apache, a unix socket for the Python
// stacks). uWSGI's socket speaks the uwsgi protocol, as nginx's uwsgi_pass
// does: its Upstream has Protocol "uwsgi", and its readiness probe sends a
// request in that protocol (uwsgiproto.go).
// Start returns only after a real HTTP request got an answer (a data
// stack's own readiness check), and a backend
// that dies before that comes back as a *StartError holding the command and
// the last lines of its log. Every backend runs in its own process group, so
// Stop can take down everything it spawned (Apache's workers included) and
// returns only when nothing of that group is left.
//
// With Spec.Supervisor set (the engine passes its own binary and
// SuperviseCommand), each backend runs under a supervisor (Supervise,
// supervise.go) that leads its process group and is the subreaper of its
// tree, so that nothing of it survives the engine, not even a SIGKILL of
// the engine: Pdeathsig reaches only a direct child, and Apache's children
// and gunicorn's workers would go on serving. SupervisedCommand runs the
// engine's hooks the same way. Every process of a backend carries its
// group's token in DEVPORT_PROCESS_GROUP; the engine records each runner's
// ProcessGroup, and KillGroups, given what an earlier engine recorded,
// kills what it left behind and nothing else (group.go).
//
// Apache runs from a private config generated from assets.HTTPDConf: it
// reads nothing from /etc/apache2 and writes only into the service's run
// folder, so it never collides with a system Apache.
//
// NewContainerRunner runs the same stacks in Docker containers instead:
// the project folder bind-mounted, the Python servers with the same flags
// on TCP (uWSGI still in the uwsgi protocol), the port published on
// 127.0.0.1 with an ephemeral host port, labels that tie each container to
// its project, service and devport data folder, and adoption of a matching
// container that is already running (after the engine was killed). One file
// per concern: container.go (the runner: start, adopt, create, stop),
// container_stack.go (what each stack's container is made of),
// container_watch.go (a running container's exit, log stream and
// readiness), container_image.go (pulls), container_network.go (the
// project network), container_docker.go (the client and its errors) and
// container_list.go (what the engine lists and removes).
//
// The data stacks (mariadb, postgres, redis, mailpit) run through the
// same Runners: data_process.go and data_STACK.go in the process runtime
// (a private data folder, socket and loopback port, never the system's
// service manager), container_data*.go in the container runtime (the
// official images' conventions, a named volume that Stop keeps). They are
// ready by a check of their own rather than an HTTP probe, and the
// databases' runners are also a Database (data.go): Dump, Restore and
// Shell, for the engine's snapshots. sendmail.go is PHP's sendmail_path
// for a project with Mailpit.
//
// Check reports missing prerequisites (apache2, mod_php, a Python that can
// import uvicorn or gunicorn, uwsgi and its python3 plugin) as a
// *MissingError naming the package to install, and Detect guesses a
// folder's stack.
package stacks
