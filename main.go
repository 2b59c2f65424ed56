// Command devport gives local projects trusted HTTPS domains and runs their
// backends. Without a command it opens the desktop window (app/desktop);
// see README.md, or run devport help.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/devport/devport/app/cli"
	"github.com/devport/devport/app/desktop"
	"github.com/devport/devport/app/desktop/quietinit"
	_ "github.com/devport/devport/proxy/xconnect" // websockets over HTTP/2 (RFC 8441)
)

func main() {
	quietinit.Restore() // see quietinit: Fyne's init logs locale noise
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.RunWithWindow(ctx, os.Args[1:], desktop.Open)
	stop()
	var exit *cli.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.Code)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "devport:", err)
		if errors.Is(err, cli.ErrUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
