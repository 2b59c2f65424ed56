package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"

	"github.com/devport/devport/app/engine"
)

// setup does, once, everything that needs root so that every project
// opens in the browser: devport setup [--java] [--undo]. It asks for root
// once (sudo in a terminal, pkexec in a desktop session), for the steps
// that need it; see engine/setup.go for the steps.
//
// Run through sudo or pkexec itself, it does the user's steps as the user
// who asked (their NSS databases, their projects), and only the rest as
// root. The hidden flags carry the parts between the processes.
func (c *CLI) setup(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("setup", flag.ContinueOnError)
	java := fs.Bool("java", false, "also trust the CA in Java's keystore (Java, Gradle, Maven)")
	undo := fs.Bool("undo", false, "reverse every step: the stores, the hosts file, the resolver file, the sudoers grant and the capability")
	apply := fs.String("apply", "", "internal: the steps that need root, as the user's part planned them")
	phase := fs.String("phase", "", "internal: user or finish, the user's part when devport setup runs through sudo or pkexec")
	planArg := fs.String("plan", "", "internal: the plan, for --phase finish")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: devport setup takes no arguments", ErrUsage)
	}
	out := bufio.NewWriter(c.Stdout)
	if *apply != "" { // the root part: carries out the plan, says what it did as JSON
		if os.Geteuid() != 0 {
			return errors.New("devport setup --apply needs root: devport setup asks for it")
		}
		plan, err := engine.DecodeSetupPlan(*apply)
		if err != nil {
			return err
		}
		return engine.PrintSetupSteps(out, engine.ApplySetup(ctx, plan))
	}
	if os.Geteuid() == 0 && *phase == "" {
		if uid, gid, ok := c.asker(); ok {
			return c.setupForAsker(ctx, uid, gid, args)
		}
	}
	m, err := c.manager(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	o := engine.SetupOptions{Java: *java, Undo: *undo, Home: c.Getenv("HOME"), Elevate: c.elevateCapture}
	if os.Geteuid() != 0 {
		if u, err := user.Current(); err == nil {
			o.User = u.Username
		}
	}
	switch *phase {
	case "user":
		steps, plan, err := m.SetupUser(ctx, o)
		if err != nil {
			return err
		}
		if err := engine.PrintSetupSteps(out, steps); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "plan %s\n", plan.Encode())
		return nil
	case "finish":
		plan, err := engine.DecodeSetupPlan(*planArg)
		if err != nil {
			return err
		}
		return engine.PrintSetupSteps(out, m.SetupFinish(ctx, plan))
	case "":
	default:
		return fmt.Errorf("%w: devport setup --phase %q", ErrUsage, *phase)
	}
	steps, err := m.Setup(ctx, o)
	c.printSetup(steps)
	return err
}

func (c *CLI) printSetup(steps []engine.SetupStep) {
	for _, s := range steps {
		fmt.Fprintln(c.Stdout, s.String())
	}
}

// asker is the user who ran devport setup through sudo or pkexec.
func (c *CLI) asker() (uid, gid int, ok bool) {
	for _, v := range []string{"SUDO_UID", "PKEXEC_UID"} {
		if s := c.Getenv(v); s != "" {
			uid, err := strconv.Atoi(s)
			if err != nil || uid == 0 {
				continue
			}
			gid := uid
			if g, err := strconv.Atoi(c.Getenv("SUDO_GID")); err == nil && v == "SUDO_UID" {
				gid = g
			} else if u, err := user.LookupId(s); err == nil {
				gid, _ = strconv.Atoi(u.Gid)
			}
			return uid, gid, true
		}
	}
	return 0, 0, false
}

// setupForAsker is devport setup run as root through sudo or pkexec: the
// user's part runs as the user who asked (setpriv), the root part here.
func (c *CLI) setupForAsker(ctx context.Context, uid, gid int, args []string) error {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		return errors.New("devport setup through sudo needs setpriv (util-linux) to do your part as you: run devport setup without sudo; it asks for root itself")
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	asUser := func(extra ...string) ([]byte, error) {
		argv := append([]string{"--reuid=" + strconv.Itoa(uid), "--regid=" + strconv.Itoa(gid), "--init-groups", "--reset-env", "--", exe, "setup"}, args...)
		cmd := exec.CommandContext(ctx, setpriv, append(argv, extra...)...)
		cmd.Stderr = c.Stderr
		return cmd.Output()
	}
	out, err := asUser("--phase", "user")
	if err != nil {
		return fmt.Errorf("devport setup as uid %d: %w", uid, err)
	}
	steps := engine.ParseSetupSteps(out)
	var plan engine.SetupPlan
	for _, l := range strings.Split(string(out), "\n") {
		if enc, ok := strings.CutPrefix(l, "plan "); ok {
			if plan, err = engine.DecodeSetupPlan(enc); err != nil {
				return err
			}
		}
	}
	if plan.Exe == "" {
		return fmt.Errorf("devport setup as uid %d planned nothing:\n%s", uid, out)
	}
	steps = append(steps, engine.ApplySetup(ctx, plan)...)
	if skip, ok := engine.FinishSkipped(steps); ok {
		steps = append(steps, skip)
		c.printSetup(steps)
		return setupFailures(steps)
	}
	fin, err := asUser("--phase", "finish", "--plan", plan.Encode())
	if err != nil {
		return fmt.Errorf("devport setup as uid %d: %w", uid, err)
	}
	steps = append(steps, engine.ParseSetupSteps(fin)...)
	c.printSetup(steps)
	return setupFailures(steps)
}

func setupFailures(steps []engine.SetupStep) error {
	for _, s := range steps {
		if s.Result == engine.SetupFailed {
			return errors.New("some setup steps failed; each gives its fix above")
		}
	}
	return nil
}

// elevateCapture runs argv as root, through pkexec in a desktop session
// (its agent asks) or sudo in a terminal (it asks here), and returns what
// it printed. It is nil-equivalent when neither exists.
func (c *CLI) elevateCapture(ctx context.Context, argv []string) ([]byte, error) {
	full := elevate(argv)
	if full == nil {
		return nil, errors.New("neither sudo nor pkexec is installed")
	}
	fmt.Fprintf(c.Stderr, "devport: the steps that need root run as: %s\n", strings.Join(full[:len(full)-1], " ")+" PLAN")
	cmd := exec.CommandContext(ctx, full[0], full[1:]...)
	var out bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, &out, c.Stderr
	err := cmd.Run()
	return out.Bytes(), err
}

// elevate returns argv as it must run to have root: unchanged as root,
// through pkexec in a desktop session, through sudo in a terminal, or nil
// when there is no way.
func elevate(argv []string) []string {
	if os.Geteuid() == 0 {
		return argv
	}
	if p, err := exec.LookPath("pkexec"); err == nil && (os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "") {
		return append([]string{p}, argv...)
	}
	if p, err := exec.LookPath("sudo"); err == nil {
		return append([]string{p, "--"}, argv...)
	}
	return nil
}
