package cli

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/devport/devport/app/engine"
)

// TestWindowLaunch checks which invocations open the window, with which
// options, and that the CLI commands and headless paths never do.
func TestWindowLaunch(t *testing.T) {
	home := t.TempDir()
	env := func(display string) func(string) string {
		return func(k string) string {
			switch k {
			case "DEVPORT_HOME":
				return home
			case "DISPLAY":
				return display
			}
			return ""
		}
	}
	tests := []struct {
		name     string
		args     []string
		display  string
		noWindow bool           // CLI without a window (a build without one)
		want     *WindowOptions // nil: the window must not open
		wantErr  string
	}{
		{name: "no args", args: nil, display: ":1", want: &WindowOptions{}},
		{name: "launch flags", args: []string{"--minimized", "--start", "shop,api", "--https-port", "9443", "--http-port", "9080"}, display: ":1",
			want: &WindowOptions{Minimized: true, Start: []string{"shop", "api"}, Serve: engine.ServeOptions{HTTPSPort: 9443, HTTPPort: 9080}}},
		{name: "serve without headless", args: []string{"serve", "--start", "shop"}, display: ":1", want: &WindowOptions{Start: []string{"shop"}}},
		{name: "no display", args: nil, wantErr: "devport serve --headless"},
		{name: "bad flag", args: []string{"--bogus"}, display: ":1", wantErr: "bogus"},
		{name: "bad port", args: []string{"--https-port", "70000"}, display: ":1", wantErr: "port 70000"},
		{name: "help is not the window", args: []string{"--help"}, display: ":1"},
		{name: "a command is not the window", args: []string{"version"}, display: ":1"},
		{name: "build without window", args: []string{"serve"}, display: ":1", noWindow: true, wantErr: "--headless"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got *WindowOptions
			var out bytes.Buffer
			c := &CLI{Stdout: &out, Stderr: &out, Getenv: env(tc.display)}
			if !tc.noWindow {
				c.Window = func(_ context.Context, o WindowOptions) error { got = &o; return nil }
			}
			err := c.Run(context.Background(), tc.args)
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want a usage error with %q", err, tc.wantErr)
				}
				if got != nil {
					t.Fatal("the window opened anyway")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if got != nil {
					t.Fatalf("the window opened for %q", tc.args)
				}
				return
			}
			if got == nil {
				t.Fatal("the window did not open")
			}
			if got.Paths.Data != home || got.Minimized != tc.want.Minimized || !reflect.DeepEqual(got.Start, tc.want.Start) ||
				got.Serve.HTTPSPort != tc.want.Serve.HTTPSPort || got.Serve.HTTPPort != tc.want.Serve.HTTPPort {
				t.Fatalf("window options %+v, want %+v", *got, *tc.want)
			}
		})
	}
}
