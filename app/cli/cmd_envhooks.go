package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
)

// envHooksFlags are devport set's --env, --env-unset, --before-start and
// --before-start-unset: a service's environment and the project's
// before_start hook, on top of devport.toml's env and hooks.
type envHooksFlags struct {
	set, unset []envFlag // in the order given
	// beforeStart is --before-start's command; nil when not given.
	beforeStart      *string
	beforeStartUnset bool
}

// envFlag is one [SERVICE:]KEY[=VALUE] of --env or --env-unset; service
// "" is --service's, else the project's only service.
type envFlag struct{ service, key, value string }

func (f *envHooksFlags) define(fs *flag.FlagSet) {
	fs.Func("env", "set a variable of a service's environment: [SERVICE:]KEY=VALUE (repeatable; SERVICE defaults to --service, else the project's only service)", func(kv string) error {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("--env %q: use [SERVICE:]KEY=VALUE, e.g. --env APP_ENV=dev or --env api:APP_ENV=dev", kv)
		}
		e := splitEnvKey(k)
		e.value = v
		f.set = append(f.set, e)
		return nil
	})
	fs.Func("env-unset", "remove a variable a service's environment has: [SERVICE:]KEY (repeatable)", func(k string) error {
		f.unset = append(f.unset, splitEnvKey(k))
		return nil
	})
	fs.Func("before-start", "the command run with sh -c in the project folder before its services start (devport.toml's hooks.before_start)", func(cmd string) error {
		if cmd == "" {
			return errors.New("--before-start needs a command; --before-start-unset removes the hook")
		}
		f.beforeStart = &cmd
		return nil
	})
	fs.BoolVar(&f.beforeStartUnset, "before-start-unset", false, "remove the before_start hook")
}

// splitEnvKey splits [SERVICE:]KEY; a variable's name has no ":", so
// the first one ends the service.
func splitEnvKey(k string) envFlag {
	if service, key, ok := strings.Cut(k, ":"); ok {
		return envFlag{service: service, key: key}
	}
	return envFlag{key: k}
}

func (f *envHooksFlags) given() bool {
	return len(f.set) > 0 || len(f.unset) > 0 || f.beforeStart != nil || f.beforeStartUnset
}

// request is the env change the flags ask for, one entry a service in
// the order they first come; service is --service, the default.
func (f *envHooksFlags) request(service string) wire.EnvRequest {
	var req wire.EnvRequest
	at := map[string]int{}
	entry := func(s string) *wire.ServiceEnv {
		if s == "" {
			s = service
		}
		i, ok := at[s]
		if !ok {
			i = len(req.Services)
			at[s] = i
			req.Services = append(req.Services, wire.ServiceEnv{Service: s})
		}
		return &req.Services[i]
	}
	for _, e := range f.set {
		se := entry(e.service)
		if se.Set == nil {
			se.Set = map[string]string{}
		}
		se.Set[e.key] = e.value
	}
	for _, e := range f.unset {
		se := entry(e.service)
		se.Unset = append(se.Unset, e.key)
	}
	return req
}

// setEnvHooks changes the environment and the before_start hook of
// project name, and prints them as they are now. The environment goes
// first: a refusal of it leaves the hook as it was too (the hook itself
// can only be refused for a NUL, which no argument holds), and the
// restart it causes still runs the old hook.
func (c *CLI) setEnvHooks(ctx context.Context, name, service string, f envHooksFlags) error {
	if f.beforeStart != nil && f.beforeStartUnset {
		return fmt.Errorf("%w: give --before-start CMD or --before-start-unset, not both", ErrUsage)
	}
	var st wire.ProjectStatus
	err := c.withAPI(ctx, func(a api, cl *wire.Client) error {
		return c.withProgress(ctx, cl, name, func() (err error) {
			if len(f.set) > 0 || len(f.unset) > 0 {
				if st, err = a.SetEnv(ctx, name, f.request(service)); err != nil {
					return err
				}
			}
			if f.beforeStart != nil || f.beforeStartUnset {
				var hooks wire.HooksRequest
				if f.beforeStart != nil {
					hooks.BeforeStart = *f.beforeStart
				}
				st, err = a.SetHooks(ctx, name, hooks)
			}
			return err
		})
	})
	if err != nil {
		return err
	}
	if len(f.set) > 0 || len(f.unset) > 0 {
		for _, s := range st.Services {
			if stackdef.RunsNothing(s.Stack) {
				continue
			}
			if len(s.Env) == 0 {
				fmt.Fprintf(c.Stdout, "%s/%s has no variables of its own (%s)\n", st.Name, s.Name, st.State)
				continue
			}
			fmt.Fprintf(c.Stdout, "%s/%s's environment (%s):\n", st.Name, s.Name, st.State)
			for _, k := range slices.Sorted(maps.Keys(s.Env)) {
				fmt.Fprintf(c.Stdout, "  %s=%s\n", k, shownValue(s.Env[k]))
			}
		}
	}
	switch {
	case f.beforeStart != nil:
		fmt.Fprintf(c.Stdout, "%s runs before start: %s (from its next start)\n", st.Name, shownValue(st.BeforeStart))
	case f.beforeStartUnset:
		fmt.Fprintf(c.Stdout, "%s runs nothing before start\n", st.Name)
	}
	return nil
}

// shownValue is v for a terminal: as it is when every character prints,
// else quoted, so a line break or an escape sequence in a value from a
// cloned devport.toml neither forges lines nor drives the terminal.
func shownValue(v string) string {
	if strings.ContainsFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return strconv.Quote(v)
	}
	return v
}
