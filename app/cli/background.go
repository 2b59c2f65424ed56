package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/devport/devport/app/engine"
	"github.com/devport/devport/app/wire"
)

// spawnEngine starts `devport serve --headless` in the background,
// detached from this terminal (its own session, so closing the terminal
// does not stop it), with its output appended to Paths.EngineLog(). It
// listens where the last engine of this data dir did, else on the
// defaults with their fallback. It returns once the control socket
// answers, or with the end of the engine's log when it exits first.
func (c *CLI) spawnEngine(ctx context.Context, m *engine.Manager) (*wire.Client, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the devport binary: %w", err)
	}
	// --no-restore: the user asked for one project, not for what ran
	// before (the window's next launch restores what runs from here).
	args := []string{"serve", "--headless", "--no-restore"}
	https, http := m.LastPorts(ctx)
	for _, f := range []struct{ flag, port string }{{"--https-port", https}, {"--http-port", http}} {
		if f.port != "" {
			args = append(args, f.flag, f.port)
		}
	}
	logPath := m.Paths().EngineLog()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("engine log: %w", err)
	}
	defer logf.Close() // the engine holds its own descriptor
	fmt.Fprintf(logf, "--- devport %s: %s %s\n", time.Now().Format(time.RFC3339), exe, strings.Join(args, " "))
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = detached()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start a background engine: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if cl, err := wire.Dial(ctx, m.Paths().Control()); err == nil {
			fmt.Fprintf(c.Stderr, "devport: started a background engine (pid %d, log %s); devport quit stops it\n", cmd.Process.Pid, logPath)
			return cl, nil
		}
		select {
		case err := <-exited:
			var tailBuf strings.Builder
			tail(&tailBuf, logPath, 8)
			return nil, fmt.Errorf("the background engine exited (%v); the end of %s:\n%s", err, logPath, strings.TrimRight(tailBuf.String(), "\n"))
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			return nil, fmt.Errorf("the background engine did not answer within 30s; see %s", logPath)
		case <-tick.C:
		}
	}
}

// quit asks the running engine to stop every project and exit, and waits
// until it has.
func (c *CLI) quit(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: devport quit takes no arguments", ErrUsage)
	}
	cl, err := c.engine(ctx)
	if err != nil {
		return err
	}
	if cl == nil {
		return errors.New("no devport engine is running")
	}
	info, err := cl.Engine(ctx)
	if err != nil {
		return err
	}
	if err := cl.Quit(ctx); err != nil {
		return err
	}
	wait := engine.StopAllTimeout + 10*time.Second
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if !processAlive(info.PID) {
			fmt.Fprintf(c.Stdout, "stopped the engine (pid %d) and its projects\n", info.PID)
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the engine (pid %d) is still running after %v; see %s", info.PID, wait, strconv.Quote(c.mustPaths().EngineLog()))
}

func (c *CLI) mustPaths() engine.Paths {
	p, _ := c.paths()
	return p
}
