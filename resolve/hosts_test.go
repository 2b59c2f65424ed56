//go:build unix

package resolve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestHostsRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		original string
		// want is the file after SetHosts(shop.test, API.test).
		want string
	}{
		{
			name:     "empty file",
			original: "",
			want: BeginMarker + "\n127.0.0.1 api.test\n::1 api.test\n127.0.0.1 shop.test\n::1 shop.test\n" +
				EndMarker + "\n",
		},
		{
			name:     "trailing newline",
			original: "127.0.0.1 localhost\n::1 localhost ip6-localhost\n",
			want: "127.0.0.1 localhost\n::1 localhost ip6-localhost\n" + BeginMarker +
				"\n127.0.0.1 api.test\n::1 api.test\n127.0.0.1 shop.test\n::1 shop.test\n" + EndMarker + "\n",
		},
		{
			name:     "no trailing newline",
			original: "127.0.0.1 localhost\n10.0.0.1\tbox # lan",
			want: "127.0.0.1 localhost\n10.0.0.1\tbox # lan\n" + BeginMarker +
				"\n127.0.0.1 api.test\n::1 api.test\n127.0.0.1 shop.test\n::1 shop.test\n" + EndMarker,
		},
		{
			name:     "CRLF",
			original: "127.0.0.1 localhost\r\n# comment\r\n",
			want: "127.0.0.1 localhost\r\n# comment\r\n" + BeginMarker +
				"\r\n127.0.0.1 api.test\r\n::1 api.test\r\n127.0.0.1 shop.test\r\n::1 shop.test\r\n" + EndMarker + "\r\n",
		},
		{
			name:     "CRLF without trailing newline",
			original: "127.0.0.1 localhost\r\n::1 localhost",
			want: "127.0.0.1 localhost\r\n::1 localhost\r\n" + BeginMarker +
				"\r\n127.0.0.1 api.test\r\n::1 api.test\r\n127.0.0.1 shop.test\r\n::1 shop.test\r\n" + EndMarker,
		},
		{
			name:     "blank lines, spaces and a lone CR",
			original: "\n\n  127.0.0.1   localhost  \n\t# tab\rcomment\n\n",
			want: "\n\n  127.0.0.1   localhost  \n\t# tab\rcomment\n\n" + BeginMarker +
				"\n127.0.0.1 api.test\n::1 api.test\n127.0.0.1 shop.test\n::1 shop.test\n" + EndMarker + "\n",
		},
		{
			name:     "single newline",
			original: "\n",
			want: "\n" + BeginMarker + "\n127.0.0.1 api.test\n::1 api.test\n127.0.0.1 shop.test\n::1 shop.test\n" +
				EndMarker + "\n",
		},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, tc.original)

			if err := SetHosts(ctx, path, []string{"shop.test", "API.test", "shop.test."}); err != nil {
				t.Fatalf("SetHosts: %v", err)
			}
			if got := readString(t, path); got != tc.want {
				t.Fatalf("after SetHosts:\n got %q\nwant %q", got, tc.want)
			}
			names, err := HostsNames(path)
			if err != nil || !slices.Equal(names, []string{"api.test", "shop.test"}) {
				t.Fatalf("HostsNames = %v, %v; want [api.test shop.test]", names, err)
			}

			// Idempotent: the same names do not even rewrite the file.
			before, _ := os.Stat(path)
			time.Sleep(10 * time.Millisecond)
			if err := SetHosts(ctx, path, []string{"api.test", "shop.test"}); err != nil {
				t.Fatalf("second SetHosts: %v", err)
			}
			after, _ := os.Stat(path)
			if got := readString(t, path); got != tc.want || !after.ModTime().Equal(before.ModTime()) {
				t.Fatalf("second SetHosts changed the file (mtime %v -> %v):\n%q", before.ModTime(), after.ModTime(), got)
			}

			// Update in place: other lines keep their bytes.
			if err := SetHosts(ctx, path, []string{"blog.test"}); err != nil {
				t.Fatalf("update: %v", err)
			}
			got := readString(t, path)
			if strings.Contains(got, "shop.test") || !strings.Contains(got, "127.0.0.1 blog.test") || !strings.Contains(got, "::1 blog.test") {
				t.Fatalf("after update: %q", got)
			}
			if prefix := tc.want[:strings.Index(tc.want, BeginMarker)]; !strings.HasPrefix(got, prefix) {
				t.Fatalf("after update the lines before the block changed:\n got %q\nwant prefix %q", got, prefix)
			}

			if err := RemoveHosts(ctx, path); err != nil {
				t.Fatalf("RemoveHosts: %v", err)
			}
			if got := readString(t, path); got != tc.original {
				t.Fatalf("after RemoveHosts:\n got %q\nwant %q (the original)", got, tc.original)
			}
			if err := RemoveHosts(ctx, path); err != nil {
				t.Fatalf("second RemoveHosts: %v", err)
			}
			if got := readString(t, path); got != tc.original {
				t.Fatalf("after second RemoveHosts: %q", got)
			}
			if names, err := HostsNames(path); err != nil || len(names) != 0 {
				t.Fatalf("HostsNames after remove = %v, %v", names, err)
			}
		})
	}
}

func TestHostsEdits(t *testing.T) {
	ctx := context.Background()
	block := func(names ...string) string {
		s := BeginMarker + "\n"
		for _, n := range names {
			s += "127.0.0.1 " + n + "\n::1 " + n + "\n"
		}
		return s + EndMarker + "\n"
	}
	tests := []struct {
		name    string
		content string
		set     []string // nil: RemoveHosts
		want    string
		wantErr error
	}{
		{
			name:    "block in the middle is updated where it is",
			content: "127.0.0.1 localhost\n" + block("old.test") + "10.1.1.1 nas # added later\n",
			set:     []string{"new.test"},
			want:    "127.0.0.1 localhost\n" + block("new.test") + "10.1.1.1 nas # added later\n",
		},
		{
			name:    "block in the middle is removed with its lines only",
			content: "127.0.0.1 localhost\n" + block("old.test") + "10.1.1.1 nas\n",
			want:    "127.0.0.1 localhost\n10.1.1.1 nas\n",
		},
		{
			name:    "two blocks merge into the first",
			content: "a\n" + block("one.test") + "b\n" + block("two.test") + "c\n",
			set:     []string{"three.test"},
			want:    "a\n" + block("three.test") + "b\nc\n",
		},
		{
			name:    "empty names remove the block",
			content: "a\n" + block("one.test"),
			set:     []string{},
			want:    "a\n",
		},
		{
			name:    "begin without end",
			content: "a\n" + BeginMarker + "\n127.0.0.1 x.test\n",
			set:     []string{"shop.test"},
			wantErr: ErrBrokenBlock,
		},
		{
			name:    "end without begin",
			content: "a\n" + EndMarker + "\n",
			wantErr: ErrBrokenBlock,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, tc.content)
			var err error
			if tc.set == nil {
				err = RemoveHosts(ctx, path)
			} else {
				err = SetHosts(ctx, path, tc.set)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if got := readString(t, path); got != tc.content {
					t.Fatalf("a failed edit changed the file: %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := readString(t, path); got != tc.want {
				t.Fatalf("\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestHostsRejectsBadNames(t *testing.T) {
	for _, name := range []string{"", "shop test", "shop.test\n1.2.3.4 evil.com", "a#b.test", "-a.test", "a..test", strings.Repeat("a", 64) + ".test"} {
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			path := writeTemp(t, "127.0.0.1 localhost\n")
			if err := SetHosts(context.Background(), path, []string{"ok.test", name}); err == nil {
				t.Fatalf("SetHosts accepted %q", name)
			}
			if got := readString(t, path); got != "127.0.0.1 localhost\n" {
				t.Fatalf("file changed: %q", got)
			}
		})
	}
}

func TestHostsKeepsModeOwnerAndSymlink(t *testing.T) {
	ctx := context.Background()
	t.Run("mode and owner", func(t *testing.T) {
		path := writeTemp(t, "127.0.0.1 localhost\n")
		if err := os.Chmod(path, 0o640); err != nil {
			t.Fatal(err)
		}
		wantUID := os.Getuid()
		if os.Geteuid() == 0 {
			wantUID = 65534
			if err := os.Chown(path, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}
		if err := SetHosts(ctx, path, []string{"shop.test"}); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o640 {
			t.Errorf("mode = %v, want 0640", fi.Mode().Perm())
		}
		if uid := int(fi.Sys().(*syscall.Stat_t).Uid); uid != wantUID {
			t.Errorf("owner = %d, want %d", uid, wantUID)
		}
		leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".hosts.devport-*"))
		if len(leftovers) > 0 {
			t.Errorf("temporary files left: %v", leftovers)
		}
	})
	t.Run("symlink", func(t *testing.T) {
		target := writeTemp(t, "127.0.0.1 localhost\n")
		link := filepath.Join(t.TempDir(), "hosts")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if err := SetHosts(ctx, link, []string{"shop.test"}); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("the symlink was replaced: %v %v", fi, err)
		}
		if !strings.Contains(readString(t, target), "127.0.0.1 shop.test") {
			t.Fatalf("target not updated: %q", readString(t, target))
		}
	})
}

// TestHostsConcurrent runs many SetHosts at once while readers watch the
// file: every version a reader sees must be whole (the original lines and
// one complete block), and the last state must be one of the name sets.
func TestHostsConcurrent(t *testing.T) {
	const original = "127.0.0.1 localhost\n# keep me\n"
	path := writeTemp(t, original)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	stop := make(chan struct{})
	var readers sync.WaitGroup
	var bad []string
	var badMu sync.Mutex
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				b, err := os.ReadFile(path)
				if err != nil || !bytes.HasPrefix(b, []byte(original)) ||
					(len(b) > len(original) && !bytes.HasSuffix(b, []byte(EndMarker+"\n"))) {
					badMu.Lock()
					bad = append(bad, fmt.Sprintf("%q %v", b, err))
					badMu.Unlock()
				}
			}
		}()
	}

	var writers sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			names := []string{fmt.Sprintf("w%d.test", i), fmt.Sprintf("x%d.test", i)}
			if i%5 == 4 {
				errs <- RemoveHosts(ctx, path)
				return
			}
			errs <- SetHosts(ctx, path, names)
		}()
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent edit: %v", err)
		}
	}
	if len(bad) > 0 {
		t.Fatalf("readers saw %d broken versions, first: %s", len(bad), bad[0])
	}
	got := readString(t, path)
	names, err := HostsNames(path)
	if err != nil {
		t.Fatalf("final file unreadable: %v\n%s", err, got)
	}
	if len(names) != 0 && (len(names) != 2 || strings.Count(got, BeginMarker) != 1) {
		t.Fatalf("final file is not one whole block: %q", got)
	}
	if err := RemoveHosts(ctx, path); err != nil || readString(t, path) != original {
		t.Fatalf("final remove: %v, %q", err, readString(t, path))
	}
}

func TestHostsLockHonorsContext(t *testing.T) {
	path := writeTemp(t, "127.0.0.1 localhost\n")
	unlock, err := lockDir(context.Background(), filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = SetHosts(ctx, path, []string{"shop.test"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SetHosts while locked = %v, want context.DeadlineExceeded", err)
	}
}

// TestHostsNeedsElevation runs SetHosts as user nobody (a copy of this
// test binary under setuid credentials) on a root-owned file and expects a
// NeedsElevationError that names a pkexec or sudo command.
func TestHostsNeedsElevation(t *testing.T) {
	if os.Getenv("DEVPORT_RESOLVE_AS_NOBODY") != "" {
		path := os.Getenv("DEVPORT_RESOLVE_AS_NOBODY")
		err := SetHosts(context.Background(), path, []string{"shop.test"})
		var ne *NeedsElevationError
		if !errors.As(err, &ne) {
			fmt.Printf("RESULT no NeedsElevationError: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("RESULT %s | %s\n", strings.Join(ne.Command, " "), ne.Error())
		os.Exit(0)
	}
	if os.Geteuid() != 0 {
		// As a normal user a root-owned file is what the real case is.
		path := "/etc/hosts"
		if fi, err := os.Stat(path); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 0 {
			t.Skip("needs root (to switch to nobody) or a root-owned /etc/hosts")
		}
		var ne *NeedsElevationError
		if err := SetHosts(context.Background(), path, []string{"shop.test"}); !errors.As(err, &ne) {
			t.Fatalf("SetHosts as non-root = %v, want *NeedsElevationError", err)
		}
		return
	}
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "resolve.test")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	hosts := filepath.Join(dir, "hosts")
	if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-test.run=^TestHostsNeedsElevation$")
	cmd.Env = append(os.Environ(), "DEVPORT_RESOLVE_AS_NOBODY="+hosts, "DISPLAY=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	t.Logf("as nobody: %s", bytes.TrimSpace(out))
	if err != nil {
		t.Fatalf("helper as nobody: %v", err)
	}
	line := string(out[bytes.Index(out, []byte("RESULT ")):])
	// The names travel with the command: as root it cannot read the user's store.
	if !strings.Contains(line, bin+" dns hosts --apply shop.test") || !(strings.Contains(line, "RESULT sudo ") || strings.Contains(line, "RESULT pkexec ")) {
		t.Fatalf("command = %s, want sudo|pkexec %s dns hosts --apply shop.test", line, bin)
	}
	if got := readString(t, hosts); got != "127.0.0.1 localhost\n" {
		t.Fatalf("file changed: %q", got)
	}
}
