//go:build unix

package stacks

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/testenv"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
)

// The STAND-INS for the official images of the data stacks, which
// scripts/build-test-images.sh builds from Debian's packages (no registry
// can be reached on the test machines): same environment, same data
// folders, same ports as mariadb:11, postgres:17, redis:7 and
// axllent/mailpit.
const (
	testMariaDBImage  = "devport-test/mariadb:bookworm"
	testPostgresImage = "devport-test/postgres:bookworm"
	testRedisImage    = "devport-test/redis:bookworm"
	testMailpitImage  = "devport-test/mailpit:bookworm"
)

// freeHostPort returns a loopback port nothing listens on (for a moment).
func freeHostPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// containerDataSpec is a containerSpec for a data stack: its own home, a free
// port, a database and a user. At the end its data volume is removed with
// RemoveDataVolume, and no volume or network of its home may be left.
func containerDataSpec(t *testing.T, cli *client.Client, stack, image, service string) Spec {
	t.Helper()
	s := containerSpec(t, cli, stack, image, nil)
	s.Service = service
	s.LogPath = filepath.Join(filepath.Dir(s.LogPath), service+".log")
	s.StopTimeout = 0 // DataStopTimeout
	s.Port = freeHostPort(t)
	if stackdef.IsDatabase(stack) {
		// A quote and a backslash: the images' entrypoints escape them.
		s.Database, s.User, s.Password = "shop", "shop_user", `s3cret'\pw`
	}
	t.Cleanup(func() { // before containerSpec's check, after the runners stopped
		if err := RemoveDataVolume(context.Background(), s.Home, s.Project, s.Service); err != nil {
			t.Errorf("RemoveDataVolume: %v", err)
		}
		f := filters.NewArgs(filters.Arg("label", LabelHome+"="+s.Home))
		vols, err := cli.VolumeList(context.Background(), volume.ListOptions{Filters: f})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vols.Volumes {
			t.Errorf("volume %s of home %s left behind", v.Name, s.Home)
		}
		nets, err := cli.NetworkList(context.Background(), network.ListOptions{Filters: f})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nets {
			t.Errorf("network %s of home %s left behind", n.Name, s.Home)
		}
	})
	return s
}

// runnerOf is the containerRunner behind a container runtime Runner.
func runnerOf(t *testing.T, r Runner) *containerRunner {
	t.Helper()
	switch r := r.(type) {
	case *containerRunner:
		return r
	case *containerDatabase:
		return r.containerRunner
	}
	t.Fatalf("%T is not a container runner", r)
	return nil
}

// startDataContainer starts r with the budget of a first start (the data
// folder is initialised).
func startDataContainer(t *testing.T, r Runner) Upstream {
	t.Helper()
	t.Cleanup(func() { stopRunner(t, r) })
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	t0 := time.Now()
	up, err := r.Start(ctx)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("start to ready: %v", time.Since(t0).Round(time.Millisecond))
	return up
}

// inContainer runs cmd in r's container and returns its output.
func inContainer(t *testing.T, r Runner, env []string, cmd ...string) string {
	t.Helper()
	cr := runnerOf(t, r)
	var out bytes.Buffer
	if err := cr.execIn(t.Context(), cr.ContainerID(), execSpec{cmd: cmd, env: env, stdout: &out}); err != nil {
		t.Fatalf("%s: %v", strings.Join(cmd, " "), err)
	}
	return strings.TrimSpace(out.String())
}

// containerDataClient writes and reads one list of values with a real client of
// the stack: mariadb and psql in the container, redis-cli there too, and
// SMTP plus Mailpit's API from the host.
type containerDataClient struct {
	write func(t *testing.T, r Runner, s Spec, up Upstream, v string)
	read  func(t *testing.T, r Runner, s Spec, up Upstream) string // the values, sorted, comma-separated
	// hello talks to the server on 127.0.0.1:Spec.Port from the host and
	// returns what shows it is this server.
	hello func(t *testing.T, c net.Conn) string
	want  string // in hello's answer
}

var containerDataClients = map[string]containerDataClient{
	stackdef.MariaDB: {
		write: func(t *testing.T, r Runner, s Spec, _ Upstream, v string) {
			inContainer(t, r, []string{"MYSQL_PWD=" + s.Password}, "mariadb", "--user="+s.User, s.Database,
				"--execute=CREATE TABLE IF NOT EXISTS notes (v VARCHAR(50)); INSERT INTO notes VALUES ('"+v+"')")
		},
		read: func(t *testing.T, r Runner, s Spec, _ Upstream) string {
			return inContainer(t, r, []string{"MYSQL_PWD=" + s.Password}, "mariadb", "--user="+s.User, s.Database,
				"--batch", "--skip-column-names", "--execute=SELECT GROUP_CONCAT(v ORDER BY v) FROM notes")
		},
		// The server speaks first: its handshake names its version.
		hello: func(t *testing.T, c net.Conn) string { return readSome(t, c) },
		want:  "MariaDB",
	},
	stackdef.Postgres: {
		write: func(t *testing.T, r Runner, s Spec, _ Upstream, v string) {
			inContainer(t, r, []string{"PGPASSWORD=" + s.Password}, "psql", "--username="+s.User, "--dbname="+s.Database,
				"-XAtq", "--command=CREATE TABLE IF NOT EXISTS notes (v text); INSERT INTO notes VALUES ('"+v+"')")
		},
		read: func(t *testing.T, r Runner, s Spec, _ Upstream) string {
			return inContainer(t, r, []string{"PGPASSWORD=" + s.Password}, "psql", "--username="+s.User, "--dbname="+s.Database,
				"-XAtq", "--command=SELECT string_agg(v, ',' ORDER BY v) FROM notes")
		},
		// An SSLRequest: a PostgreSQL server answers one byte, S or N.
		hello: func(t *testing.T, c net.Conn) string {
			var req [8]byte
			binary.BigEndian.PutUint32(req[0:], 8)
			binary.BigEndian.PutUint32(req[4:], 80877103)
			if _, err := c.Write(req[:]); err != nil {
				t.Fatal(err)
			}
			return readSome(t, c)
		},
		want: "N",
	},
	stackdef.Redis: {
		write: func(t *testing.T, r Runner, _ Spec, _ Upstream, v string) {
			inContainer(t, r, nil, "redis-cli", "RPUSH", "notes", v)
		},
		read: func(t *testing.T, r Runner, _ Spec, _ Upstream) string {
			vals := strings.Fields(inContainer(t, r, nil, "redis-cli", "LRANGE", "notes", "0", "-1"))
			slices.Sort(vals)
			return strings.Join(vals, ",")
		},
		hello: func(t *testing.T, c net.Conn) string {
			if _, err := io.WriteString(c, "PING\r\n"); err != nil {
				t.Fatal(err)
			}
			return readSome(t, c)
		},
		want: "+PONG",
	},
	stackdef.Mailpit: {
		write: func(t *testing.T, _ Runner, s Spec, _ Upstream, v string) {
			msg := "From: app@shop.test\r\nTo: someone@example.com\r\nSubject: " + v + "\r\n\r\nhello\r\n"
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
			if err := smtp.SendMail(addr, nil, "app@shop.test", []string{"someone@example.com"}, []byte(msg)); err != nil {
				t.Fatalf("send mail to %s: %v", addr, err)
			}
		},
		read: func(t *testing.T, _ Runner, _ Spec, up Upstream) string {
			code, body := get(t, up, "/api/v1/messages", nil)
			if code != 200 {
				t.Fatalf("GET /api/v1/messages: %d %s", code, body)
			}
			var list struct{ Messages []struct{ Subject string } }
			if err := json.Unmarshal([]byte(body), &list); err != nil {
				t.Fatalf("messages: %v: %s", err, body)
			}
			var subjects []string
			for _, m := range list.Messages {
				subjects = append(subjects, m.Subject)
			}
			slices.Sort(subjects)
			return strings.Join(subjects, ",")
		},
		hello: func(t *testing.T, c net.Conn) string { return readSome(t, c) },
		want:  "220",
	},
}

// readSome reads what a server says within a second.
func readSome(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	if n == 0 && err != nil {
		t.Fatalf("read from %s: %v", c.RemoteAddr(), err)
	}
	return string(buf[:n])
}

// TestContainerData runs each data stack on its stand-in image: the
// client port on 127.0.0.1:Spec.Port, data written with a real client
// that is still there after a stop and a start, a clean shutdown within
// the stop timeout, the volume kept by Stop and removed by
// RemoveDataVolume; and for the databases a Dump and Restore round trip, a
// corrupt dump refused with the server's message and the data intact, and
// the Shell command line.
func TestContainerData(t *testing.T) {
	cli := requireDocker(t, testMariaDBImage, testPostgresImage, testRedisImage, testMailpitImage)
	tests := []struct {
		stack, image, service string
		dataDir               string // where the volume is mounted
		stopped               string // in the log when the server shut down cleanly
	}{
		{stackdef.MariaDB, testMariaDBImage, "db", "/var/lib/mysql", "Shutdown complete"},
		{stackdef.Postgres, testPostgresImage, "pg", "/var/lib/postgresql/data", "database system is shut down"},
		{stackdef.Redis, testRedisImage, "cache", "/data", "ready to exit, bye bye"},
		{stackdef.Mailpit, testMailpitImage, "mail", "/data", ""},
	}
	for _, tc := range tests {
		t.Run(tc.stack, func(t *testing.T) {
			t.Parallel()
			spec := containerDataSpec(t, cli, tc.stack, tc.image, tc.service)
			client := containerDataClients[tc.stack]
			r, err := NewContainerRunner(spec)
			if err != nil {
				t.Fatal(err)
			}
			_, isDB := r.(Database)
			if isDB != stackdef.IsDatabase(tc.stack) {
				t.Fatalf("runner %T: Database %v, want %v", r, isDB, stackdef.IsDatabase(tc.stack))
			}
			up := startDataContainer(t, r)
			vol := DataVolume(spec.Home, spec.Project, spec.Service)

			t.Run("upstream and published ports", func(t *testing.T) {
				hostPort := net.JoinHostPort("127.0.0.1", strconv.Itoa(spec.Port))
				if tc.stack == stackdef.Mailpit {
					if up.Network != "tcp" || !strings.HasPrefix(up.Address, "127.0.0.1:") || up.Address == hostPort {
						t.Fatalf("upstream %+v, want the UI on an ephemeral 127.0.0.1 port", up)
					}
					if code, body := get(t, up, "/", nil); code != 200 || !strings.Contains(body, "Mailpit") {
						t.Fatalf("GET / on the UI: %d", code)
					}
				} else if up != (Upstream{Network: "tcp", Address: hostPort}) {
					t.Fatalf("upstream %+v, want tcp %s", up, hostPort)
				}
				c, err := net.DialTimeout("tcp", hostPort, 2*time.Second)
				if err != nil {
					t.Fatalf("dial %s from the host: %v", hostPort, err)
				}
				defer c.Close()
				if got := client.hello(t, c); !strings.Contains(got, client.want) {
					t.Fatalf("server on %s said %q, want %q in it", hostPort, got, client.want)
				}
				info, err := cli.ContainerInspect(t.Context(), runnerOf(t, r).ContainerID())
				if err != nil {
					t.Fatal(err)
				}
				for port, bs := range info.HostConfig.PortBindings {
					for _, b := range bs {
						if b.HostIP != "127.0.0.1" {
							t.Errorf("port %s bound on %q", port, b.HostIP)
						}
					}
				}
				mounted := false
				for _, m := range info.Mounts {
					mounted = mounted || (m.Name == vol && m.Destination == tc.dataDir)
				}
				if !mounted {
					t.Errorf("volume %s is not mounted at %s: %+v", vol, tc.dataDir, info.Mounts)
				}
			})
			client.write(t, r, spec, up, "first")
			if got := client.read(t, r, spec, up); got != "first" {
				t.Fatalf("read %q after writing first", got)
			}

			t.Run("stop keeps the volume, shuts down cleanly", func(t *testing.T) {
				t0 := time.Now()
				stopRunner(t, r)
				t.Logf("stop took %v", time.Since(t0).Round(time.Millisecond))
				if time.Since(t0) > 10*time.Second {
					t.Errorf("stop took %v", time.Since(t0))
				}
				if ids := homeContainers(t, cli, spec.Home); len(ids) != 0 {
					t.Fatalf("containers after Stop: %v", ids)
				}
				v, err := cli.VolumeInspect(t.Context(), vol)
				if err != nil {
					t.Fatalf("volume after Stop: %v", err)
				}
				if v.Labels[LabelHome] != spec.Home || v.Labels[LabelService] != spec.Service || v.Labels[LabelData] != tc.stack {
					t.Errorf("volume labels %v", v.Labels)
				}
				if tc.stopped != "" {
					if b, _ := os.ReadFile(spec.LogPath); !strings.Contains(string(b), tc.stopped) {
						t.Errorf("log lacks %q (a clean shutdown):\n%s", tc.stopped, b)
					}
				}
			})
			up = startDataContainer(t, r)
			t.Run("data survives stop and start", func(t *testing.T) {
				if got := client.read(t, r, spec, up); got != "first" {
					t.Fatalf("read %q after a restart, want first", got)
				}
			})
			if db, ok := r.(Database); ok {
				t.Run("dump and restore", func(t *testing.T) { checkContainerDumpRestore(t, db, spec, up, client) })
				t.Run("shell", func(t *testing.T) { checkContainerShell(t, db, spec) })
			}
			if tc.stack == stackdef.MariaDB {
				t.Run("reachable by service name on the project network", func(t *testing.T) {
					checkByName(t, cli, spec)
				})
			}
			stopRunner(t, r)
			if stackdef.IsDatabase(tc.stack) {
				t.Run("settings the volume was not made with are refused at once", func(t *testing.T) {
					other := spec
					other.Database = "other"
					r, err := NewContainerRunner(other)
					if err != nil {
						t.Fatal(err)
					}
					t0 := time.Now()
					_, err = r.Start(t.Context())
					stopRunner(t, r)
					t.Logf("after %v: %v", time.Since(t0).Round(time.Millisecond), err)
					if err == nil || !strings.Contains(err.Error(), DataVolume(spec.Home, spec.Project, spec.Service)) {
						t.Fatalf("Start = %v, want an error naming the volume", err)
					}
					if time.Since(t0) > 15*time.Second {
						t.Errorf("the refusal took %v", time.Since(t0))
					}
				})
			}
			t.Run("the volume's size, then RemoveDataVolume", func(t *testing.T) {
				t0 := time.Now()
				size := DataVolumeSize(t.Context(), spec.Home, spec.Project, spec.Service)
				t.Logf("DataVolumeSize = %d bytes in %v", size, time.Since(t0).Round(time.Millisecond))
				if size <= 0 {
					t.Errorf("DataVolumeSize = %d", size)
				}
				if err := RemoveDataVolume(t.Context(), spec.Home, spec.Project, spec.Service); err != nil {
					t.Fatal(err)
				}
				if _, err := cli.VolumeInspect(t.Context(), vol); !cerrdefs.IsNotFound(err) {
					t.Fatalf("volume after RemoveDataVolume: %v", err)
				}
				if size := DataVolumeSize(t.Context(), spec.Home, spec.Project, spec.Service); size != -1 {
					t.Errorf("DataVolumeSize of a removed volume = %d, want -1", size)
				}
			})
		})
	}
}

// checkContainerDumpRestore: a dump taken, data changed, the dump restored
// brings the old data back; a corrupt dump is refused with the server's
// message and changes nothing.
func checkContainerDumpRestore(t *testing.T, db Database, spec Spec, up Upstream, client containerDataClient) {
	var dump bytes.Buffer
	if err := db.Dump(t.Context(), &dump); err != nil {
		t.Fatalf("Dump: %v", err)
	}
	if !strings.Contains(dump.String(), "notes") || !strings.Contains(dump.String(), "first") {
		t.Fatalf("dump lacks the table or its row:\n%s", dump.String())
	}
	client.write(t, db, spec, up, "second")
	if got := client.read(t, db, spec, up); got != "first,second" {
		t.Fatalf("read %q, want first,second", got)
	}
	if err := db.Restore(t.Context(), bytes.NewReader(dump.Bytes())); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got := client.read(t, db, spec, up); got != "first" {
		t.Fatalf("read %q after the restore, want first", got)
	}
	corrupt := "CREATE TABLE fine (x int);\nTHIS IS NOT SQL;\n"
	err := db.Restore(t.Context(), strings.NewReader(corrupt))
	t.Logf("corrupt dump: %v", err)
	var ee *ExecError
	if !errors.As(err, &ee) {
		t.Fatalf("Restore of a corrupt dump = %v, want an *ExecError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "syntax") || !strings.Contains(msg, "as it was") {
		t.Errorf("error lacks the server's message or the state of the data: %v", err)
	}
	if got := client.read(t, db, spec, up); got != "first" {
		t.Fatalf("read %q after a corrupt restore, want first (intact)", got)
	}
	if entries, _ := os.ReadDir(spec.RunDir); slices.ContainsFunc(entries, func(e os.DirEntry) bool {
		return strings.Contains(e.Name(), "before-restore")
	}) {
		t.Errorf("a restore's backup is left in %s", spec.RunDir)
	}
	t.Run("a new database may be created by the user", func(t *testing.T) {
		r := db.(*containerDatabase)
		if spec.Stack == stackdef.MariaDB {
			inContainer(t, r, []string{"MYSQL_PWD=" + spec.Password}, "mariadb", "--user="+spec.User,
				"--execute=CREATE DATABASE test_shop; DROP DATABASE test_shop")
		} else {
			inContainer(t, r, []string{"PGPASSWORD=" + spec.Password}, "psql", "--username="+spec.User, "--dbname="+spec.Database,
				"-XAtq", "--command=CREATE DATABASE test_shop", "--command=DROP DATABASE test_shop")
		}
	})
}

// checkContainerShell runs Shell's command line without a terminal (-i for -it)
// and a query on its standard input.
func checkContainerShell(t *testing.T, db Database, spec Spec) {
	argv, env := db.Shell()
	t.Logf("shell: %q", argv)
	for _, a := range argv {
		if strings.Contains(a, spec.Password) {
			t.Fatalf("the password is on the command line: %q", argv)
		}
	}
	if len(env) != 1 || !strings.HasSuffix(env[0], "="+spec.Password) {
		t.Fatalf("env %q, want the password", env)
	}
	i := slices.Index(argv, "-it")
	if argv[0] != "docker" || i < 0 {
		t.Fatalf("argv %q, want docker exec -it", argv)
	}
	argv = slices.Clone(argv)
	argv[i] = "-i"
	cmd := exec.Command(testenv.Tool(t, "docker"), argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader("SELECT v FROM notes;\n")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "first") {
		t.Fatalf("shell: %v\n%s", err, out)
	}
}

// checkByName: a container on the project network (a web service's)
// reaches the database as SERVICE:3306, the service's name.
func checkByName(t *testing.T, cli *client.Client, spec Spec) {
	if _, err := cli.ImageInspect(t.Context(), testUvicornImage); err != nil {
		testenv.Need(t, "image "+testUvicornImage, false, err.Error()+"; scripts/build-test-images.sh builds it")
	}
	script := fmt.Sprintf(`import socket
s = socket.create_connection((%q, %d), timeout=5)
print(s.recv(256)[5:].split(b"\0")[0].decode())
`, spec.Service, stackdef.Port(spec.Stack))
	netName := networkName(spec.Home, spec.Project)
	created, err := cli.ContainerCreate(t.Context(),
		&container.Config{Image: testUvicornImage, Cmd: []string{"python3", "-c", script},
			Labels: map[string]string{LabelHome: spec.Home, LabelProject: spec.Project, LabelService: "web"}},
		&container.HostConfig{NetworkMode: container.NetworkMode(netName)}, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
	}()
	waitC, errC := cli.ContainerWait(t.Context(), created.ID, container.WaitConditionNextExit)
	if err := cli.ContainerStart(t.Context(), created.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	var code int64
	select {
	case w := <-waitC:
		code = w.StatusCode
	case err := <-errC:
		t.Fatal(err)
	}
	logs, err := cli.ContainerLogs(t.Context(), created.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	var out strings.Builder
	sc := bufio.NewScanner(logs)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
	}
	if code != 0 || !strings.Contains(out.String(), "MariaDB") {
		t.Fatalf("connect to %s:%d from the project network: exit %d\n%s", spec.Service, stackdef.Port(spec.Stack), code, out.String())
	}
	t.Logf("%s:%d from a web container: %s", spec.Service, stackdef.Port(spec.Stack), strings.TrimSpace(out.String()))
}

// TestContainerDataImage: Spec.Version picks the tag of the official
// repository; an image present locally is used without a pull.
func TestContainerDataImage(t *testing.T) {
	for _, tc := range []struct {
		name, stack, image, version, want string
	}{
		{"default", stackdef.MariaDB, "", "", stackdef.DefaultMariaDBImage},
		{"version", stackdef.MariaDB, "", "10.11", "mariadb:10.11"},
		{"version of postgres", stackdef.Postgres, "", "16", "postgres:16"},
		{"version of mailpit", stackdef.Mailpit, "", "v1.33", "axllent/mailpit:v1.33"},
		{"image wins", stackdef.Redis, "valkey/valkey:8", "7", "valkey/valkey:8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := containerDataImage(Spec{Stack: tc.stack, Image: tc.image, Version: tc.version}); got != tc.want {
				t.Fatalf("image %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("a local image of that tag starts without a pull", func(t *testing.T) {
		cli := requireDocker(t, testRedisImage)
		const version = "7-devport-standin" // no real tag: never someone's image
		ref := "redis:" + version
		if _, err := cli.ImageInspect(t.Context(), ref); err == nil {
			t.Fatalf("%s exists before the test", ref)
		}
		if err := cli.ImageTag(t.Context(), testRedisImage, ref); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_, err := cli.ImageRemove(context.Background(), ref, image.RemoveOptions{})
			if err != nil {
				t.Errorf("remove tag %s: %v", ref, err)
			}
		})
		spec := containerDataSpec(t, cli, stackdef.Redis, "", "cache")
		spec.Version = version
		pulled := false
		spec.Progress = func(string, int64, int64) { pulled = true }
		r, err := NewContainerRunner(spec)
		if err != nil {
			t.Fatal(err)
		}
		startDataContainer(t, r)
		info, err := cli.ContainerInspect(t.Context(), runnerOf(t, r).ContainerID())
		if err != nil {
			t.Fatal(err)
		}
		if info.Config.Image != ref || pulled {
			t.Fatalf("container of image %q (pulled: %v), want %s without a pull", info.Config.Image, pulled, ref)
		}
		stopRunner(t, r)
	})
}

// TestContainerDataErrors: what a data service's start refuses, with the
// fix in one line.
func TestContainerDataErrors(t *testing.T) {
	cli := requireDocker(t, testRedisImage)
	t.Run("port in use", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		spec := containerDataSpec(t, cli, stackdef.Redis, testRedisImage, "cache")
		spec.Port = l.Addr().(*net.TCPAddr).Port
		r, err := NewContainerRunner(spec)
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Start(t.Context())
		stopRunner(t, r)
		t.Logf("error: %v", err)
		if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), strconv.Itoa(spec.Port)) ||
			!strings.Contains(err.Error(), "another port") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("Start = %v, want one line naming port %d and the fix", err, spec.Port)
		}
		if ids := homeContainers(t, cli, spec.Home); len(ids) != 0 {
			t.Fatalf("containers left: %v", ids)
		}
	})

	base := Spec{Project: "shop", Service: "db", Stack: stackdef.MariaDB, Dir: "/srv/shop", RunDir: "/run/devport/db",
		Home: "/home/u/.local/share/devport", Port: 3306, Database: "shop", User: "shop", Password: "pw"}
	for _, tc := range []struct {
		name   string
		change func(*Spec)
		want   string
	}{
		{"no port", func(s *Spec) { s.Port = 0 }, "port 0"},
		{"database name with a quote", func(s *Spec) { s.Database = "sh'op" }, `database name "sh'op"`},
		{"root as the user", func(s *Spec) { s.User = "root" }, "user root"},
		{"no password", func(s *Spec) { s.Password = "" }, "needs a password"},
		{"version that is no tag", func(s *Spec) { s.Version = "11 beta" }, "not an image tag"},
		{"mysql is mariadb", func(s *Spec) { s.Stack = stackdef.MySQL; s.User = "root" }, "user root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			tc.change(&s)
			_, err := NewContainerRunner(s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewContainerRunner = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestContainerDataAdopt: a new runner (an engine restarted after a
// SIGKILL) takes over the running database with its fixed port instead of
// starting another.
func TestContainerDataAdopt(t *testing.T) {
	cli := requireDocker(t, testRedisImage)
	spec := containerDataSpec(t, cli, stackdef.Redis, testRedisImage, "cache")
	r1, err := NewContainerRunner(spec)
	if err != nil {
		t.Fatal(err)
	}
	up1 := startDataContainer(t, r1)
	r2, err := NewContainerRunner(spec)
	if err != nil {
		t.Fatal(err)
	}
	up2 := startDataContainer(t, r2)
	if id1, id2 := runnerOf(t, r1).ContainerID(), runnerOf(t, r2).ContainerID(); id1 != id2 || up1 != up2 {
		t.Fatalf("second runner: %s at %v, want %s at %v", shortID(id2), up2, shortID(id1), up1)
	}
	stopRunner(t, r2)
	stopRunner(t, r1)
}

// TestResolveDataMount: the postgres volume goes where the image keeps
// its cluster: PGDATA up to 17, the folder above the versioned one for the
// images of 18 and later (PGDATA=/var/lib/postgresql/18/docker).
func TestResolveDataMount(t *testing.T) {
	cli := requireDocker(t)
	for _, tc := range []struct {
		name, pgdata, want string
	}{
		{"postgres 17", "/var/lib/postgresql/data", "/var/lib/postgresql/data"},
		{"postgres 18", "/var/lib/postgresql/18/docker", "/var/lib/postgresql"},
		{"no PGDATA", "", "/var/lib/postgresql/data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := "devport-test/pgdata:" + strings.ReplaceAll(strings.ToLower(tc.name), " ", "-")
			var changes []string
			if tc.pgdata != "" {
				changes = []string{"ENV PGDATA=" + tc.pgdata}
			}
			var tarball bytes.Buffer
			tw := tar.NewWriter(&tarball)
			if err := tw.WriteHeader(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
				t.Fatal(err)
			}
			tw.Close()
			rc, err := cli.ImageImport(t.Context(), image.ImportSource{Source: &tarball, SourceName: "-"}, ref,
				image.ImportOptions{Changes: changes})
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, rc)
			rc.Close()
			t.Cleanup(func() { _, _ = cli.ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true}) })

			spec := Spec{Project: "shop", Service: "pg", Stack: stackdef.Postgres, Home: "/home/u/devport", Port: 5432,
				Database: "shop", User: "shop", Password: "pw"}
			p, err := planDataContainer(spec, ref)
			if err != nil {
				t.Fatal(err)
			}
			r := &containerRunner{spec: spec, cli: cli}
			if err := r.resolveDataMount(t.Context(), &p); err != nil {
				t.Fatal(err)
			}
			if len(p.mounts) != 1 || p.mounts[0].Target != tc.want || p.mounts[0].Source != DataVolume(spec.Home, "shop", "pg") {
				t.Fatalf("mounts %+v, want the volume at %s", p.mounts, tc.want)
			}
		})
	}
}
