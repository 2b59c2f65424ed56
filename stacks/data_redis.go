package stacks

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// redis is the redis stack in the process runtime, configured by flags
// alone (no redis.conf is read):
//
//	redis-server --port Port --bind 127.0.0.1 --unixsocket RunDir/redis.sock
//	  --unixsocketperm 700 --dir DataDir --appendonly yes --save ""
//
// The append-only file in DataDir keeps every write across restarts (RDB
// snapshots are off: they would only fork to write the same data again).
// Ready once PING over the socket answers PONG (it answers LOADING while it
// reads its data back).
type redis struct {
	spec  Spec
	tools toolchain
}

func newRedis(spec Spec, tools toolchain) *redis { return &redis{spec: spec, tools: tools} }

// redis finds redis-server.
func (t toolchain) redis() (string, error) { return t.findData("redis-server", pkgRedis) }

func (r *redis) socketPath() string { return filepath.Join(r.spec.RunDir, "redis.sock") }

func (r *redis) prepare(ctx context.Context, _ int) (launch, error) {
	bin, err := r.tools.redis()
	if err != nil {
		return launch{}, err
	}
	have, err := versionOf(bin, []string{"--version"}, redisVersionRe, 1)
	if err != nil {
		return launch{}, err
	}
	if _, err := pickVersion(r.spec.Stack, r.spec.Version, have); err != nil {
		return launch{}, err
	}
	sock := r.socketPath()
	if err := prepareData(ctx, r.spec, nil, "", sock); err != nil {
		return launch{}, err
	}
	return launch{
		path: bin,
		args: []string{
			"--port", strconv.Itoa(r.spec.Port),
			"--bind", "127.0.0.1",
			"--unixsocket", sock,
			"--unixsocketperm", "700",
			"--dir", r.spec.DataDir,
			"--appendonly", "yes",
			"--save", "",
			"--daemonize", "no",
			"--logfile", "", // the service log
		},
		dir:      r.spec.RunDir,
		env:      append(os.Environ(), r.spec.Env...),
		upstream: Upstream{Network: "tcp", Address: net.JoinHostPort("127.0.0.1", strconv.Itoa(r.spec.Port))},
		ready:    func(ctx context.Context) error { return redisPing(ctx, sock) },
	}, nil
}

// retry: the port is the service's own; another attempt binds the same.
func (r *redis) retry(*StartError) bool { return false }

// cleanup removes the socket a killed redis-server leaves.
func (r *redis) cleanup() { _ = removeSocket(r.socketPath()) }

// redisPing sends PING over the socket and wants +PONG back.
func redisPing(ctx context.Context, sock string) error {
	ctx, cancel := context.WithTimeout(ctx, clientTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read PING's answer: %w", err)
	}
	line = strings.TrimSpace(line)
	if line != "+PONG" {
		return errors.New("PING answered " + line)
	}
	return nil
}
