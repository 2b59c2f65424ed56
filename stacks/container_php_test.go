//go:build unix

package stacks

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// TestContainerOwnFolder serves a php project from its own folder (no
// public/), which belongs to an ordinary user, in a container: Apache's
// workers write as that user, its dotfiles stay private, and Apache trusts
// forwarding headers only from the address devport's proxy reaches it from
// (the project network's gateway, where Docker's port publishing connects).
func TestContainerOwnFolder(t *testing.T) {
	cli := requireDocker(t, testPHPImage)
	files := maps.Clone(ownFolderSite)
	files["upload.php"] = uploadPage
	spec := containerSpec(t, cli, stackdef.PHP, testPHPImage, files)
	if os.Geteuid() != 0 {
		t.Skip("hands the project folder to another uid: needs root")
	}
	chownTree(t, spec.Dir, freshUID, freshUID)
	r := mustContainerRunner(t, spec)
	up := startRunner(t, r)
	t.Run("workers write as the folder's owner", func(t *testing.T) {
		status, body := get(t, up, "/upload.php", nil)
		want := fmt.Sprintf("uid=%d\ngid=%d\nwrote=yes\n", freshUID, freshUID)
		if status != 200 || !strings.Contains(body, want) {
			t.Fatalf("GET /upload.php = %d:\n%s\nwant\n%s", status, body, want)
		}
		uid, gid := ownerOfFile(t, filepath.Join(spec.Dir, "wp-content/uploads/2026/hello.txt"))
		if uid != freshUID || gid != freshUID {
			t.Errorf("the upload belongs to %d:%d, want %d:%d", uid, gid, freshUID, freshUID)
		}
	})
	t.Run("dotfiles", func(t *testing.T) { checkDotfiles(t, up) })

	gw := networkGateway(t, cli, networkName(spec.Home, spec.Project))
	t.Run("client address through the published port", func(t *testing.T) {
		checkClientAddr(t, up, "/client.php", gw)
	})
	t.Run("forwarding headers from another address on the network are not trusted", func(t *testing.T) {
		info, err := cli.ContainerInspect(t.Context(), r.ContainerID())
		if err != nil {
			t.Fatal(err)
		}
		own := info.NetworkSettings.Networks[networkName(spec.Home, spec.Project)].IPAddress
		if own == "" {
			t.Fatalf("container has no address on the project network: %+v", info.NetworkSettings.Networks)
		}
		// A sibling container on the project network is a private
		// address, as the container itself is: ask from there.
		out := execIn(t, cli, r.ContainerID(), "bash", "-c",
			`exec 3<>/dev/tcp/`+own+`/80 && printf 'GET /client.php HTTP/1.0\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n' >&3 && cat <&3`)
		if !strings.Contains(out, "remote="+own+"\n") || strings.Contains(out, "6.6.6.6") {
			t.Errorf("a request from %s claiming X-Forwarded-For 6.6.6.6 got:\n%s\nwant remote=%s", own, out, own)
		}
	})
	t.Run("the site trusts the gateway only", func(t *testing.T) {
		site := string(mustRead(t, spec.RunDir+"/"+containerVhost))
		if !strings.Contains(site, "\nRemoteIPInternalProxy "+gw+"\n") {
			t.Errorf("site does not trust exactly %s:\n%s", gw, site)
		}
	})
}

// networkGateway is the IPv4 gateway of Docker network name.
func networkGateway(t *testing.T, cli *client.Client, name string) string {
	t.Helper()
	n, err := cli.NetworkInspect(t.Context(), name, network.InspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range n.IPAM.Config {
		if a, err := netip.ParseAddr(c.Gateway); err == nil && a.Is4() {
			return a.String()
		}
	}
	t.Fatalf("network %s has no IPv4 gateway: %+v", name, n.IPAM.Config)
	return ""
}

// execIn runs cmd in container id and returns its output.
func execIn(t *testing.T, cli *client.Client, id string, cmd ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	ex, err := cli.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	att, err := cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, att.Reader); err != nil {
		t.Fatal(err)
	}
	return out.String()
}
