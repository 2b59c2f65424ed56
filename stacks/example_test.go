//go:build unix

package stacks_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
)

// A service's life: start, forward to the upstream, watch for a crash, stop.
func ExampleNewRunner() {
	r, err := stacks.NewRunner(stacks.Spec{
		Project: "shop", Service: "api", Stack: stackdef.Uvicorn,
		Dir: "/home/me/shop", App: "main:app", PathPrefix: "/api",
		RunDir:  "/home/me/.local/state/devport/run/shop-api",
		LogPath: "/home/me/.local/state/devport/logs/shop-api.log",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	up, err := r.Start(ctx)
	var se *stacks.StartError
	if errors.As(err, &se) {
		fmt.Println(se) // "uvicorn exited at start: exit status 1" and the log tail
		return
	}
	fmt.Println("forward to", up) // unix:/home/me/.local/state/devport/run/shop-api/api.sock
	go func() {
		<-r.Exited()
		fmt.Println("crashed:", r.Err())
	}()
	_ = r.Stop(context.Background())
}

func ExampleStartError() {
	err := &stacks.StartError{
		Command: "/usr/sbin/apache2 -f /run/shop-web/httpd.conf -DFOREGROUND",
		Tail:    []string{"(98)Address already in use: AH00072: make_sock: could not bind to address 127.0.0.1:8081"},
		Err:     exec.Command("false").Run(),
	}
	fmt.Println(err)
	// Output:
	// apache2 exited at start: exit status 1
	//   (98)Address already in use: AH00072: make_sock: could not bind to address 127.0.0.1:8081
}

func ExampleMissingError() {
	fmt.Println(&stacks.MissingError{Binary: "apache2", Package: "apache2 libapache2-mod-php"})
	// Output: apache2 is not installed: sudo apt-get install apache2 libapache2-mod-php
}
