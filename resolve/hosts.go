package resolve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// DefaultHostsPath is the hosts file the OS resolver reads on Linux and macOS.
const DefaultHostsPath = "/etc/hosts"

// The lines that delimit devport's block in the hosts file. Everything
// between them belongs to devport; everything outside is never touched.
const (
	BeginMarker = "# BEGIN devport (managed: devport dns off removes this block)"
	EndMarker   = "# END devport"
)

// The command lines that [NeedsElevationError] suggests, after the
// pkexec/sudo prefix and the path of the running binary.
var (
	applyHostsArgs  = []string{"dns", "hosts", "--apply"}
	removeHostsArgs = []string{"dns", "off"}
)

// SetHosts makes the devport block of the hosts file at path (usually
// [DefaultHostsPath]) map exactly names to 127.0.0.1 and ::1, one line per
// name and address. The first call appends the block; later calls replace
// it where it is. Lines outside the block are kept byte for byte, including
// CRLF line ends and a missing final newline, so that [RemoveHosts] gives
// back exactly the file as it was before the first SetHosts. When nothing
// changes the file is not written at all. An empty names removes the block.
//
// Writers are serialized across goroutines and processes (a lock on the
// file's directory) and the file is replaced atomically, so a reader never
// sees half a file. When the caller is not root and may not write the file,
// the error is a *[NeedsElevationError].
func SetHosts(ctx context.Context, path string, names []string) error {
	norm, err := normalizeNames(names)
	if err != nil {
		return fmt.Errorf("hosts file %s: %w", path, err)
	}
	if len(norm) == 0 {
		return RemoveHosts(ctx, path)
	}
	// The elevated command carries the names: as root it cannot read the
	// user's store, and it must write exactly what this call would have.
	elevate := append(append([]string{}, applyHostsArgs...), norm...)
	return editHosts(ctx, path, elevate, func(lines []hostsLine) ([]hostsLine, error) {
		return setBlock(lines, norm)
	})
}

// RemoveHosts takes the devport block out of the hosts file at path. If
// devport added the block to a file without a final newline, that newline
// goes too: the file is then byte for byte what it was before [SetHosts].
// A file without a block, or no file at all, is left alone.
func RemoveHosts(ctx context.Context, path string) error {
	return editHosts(ctx, path, removeHostsArgs, func(lines []hostsLine) ([]hostsLine, error) {
		return removeBlocks(lines)
	})
}

// HostsNames returns the names in the devport block of the hosts file at
// path, sorted, or none when there is no block or no file.
func HostsNames(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read hosts file: %w", err)
	}
	lines := splitLines(data)
	blocks, err := findBlocks(lines)
	if err != nil {
		return nil, fmt.Errorf("hosts file %s: %w", path, err)
	}
	var names []string
	for _, b := range blocks {
		for _, l := range lines[b.begin+1 : b.end] {
			fields := strings.Fields(l.text)
			if len(fields) >= 2 && !strings.HasPrefix(fields[0], "#") {
				names = append(names, fields[1:]...)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// ElevatedCommand returns args prefixed with the program that runs them as
// root: pkexec in a graphical session where it is installed (it asks through
// the desktop's polkit agent), sudo otherwise.
func ElevatedCommand(args ...string) []string {
	graphical := os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
	prefix := "sudo"
	if _, err := exec.LookPath("pkexec"); err == nil && graphical {
		prefix = "pkexec"
	} else if _, err := exec.LookPath("sudo"); err != nil {
		if _, err := exec.LookPath("pkexec"); err == nil {
			prefix = "pkexec"
		}
	}
	return append([]string{prefix}, args...)
}

// editHosts runs edit on the lines of the hosts file under the directory
// lock and writes the result when it differs.
func editHosts(ctx context.Context, path string, elevateArgs []string, edit func([]hostsLine) ([]hostsLine, error)) error {
	target := resolveSymlink(path)
	unlock, err := lockDir(ctx, dirOf(target))
	if err != nil {
		return fmt.Errorf("hosts file %s: %w", path, elevationOr(path, elevateArgs, err))
	}
	defer unlock()

	data, err := os.ReadFile(target)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read hosts file: %w", elevationOr(path, elevateArgs, err))
	}
	lines, err := edit(splitLines(data))
	if err != nil {
		return fmt.Errorf("hosts file %s: %w", path, err)
	}
	out := joinLines(lines)
	if bytes.Equal(out, data) {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("hosts file %s: %w", path, err)
	}
	if err := replaceFile(target, out, 0o644); err != nil {
		return fmt.Errorf("write hosts file: %w", elevationOr(path, elevateArgs, err))
	}
	return nil
}

// elevationOr turns a permission error of a non-root process into a
// *NeedsElevationError and returns any other error as it is.
func elevationOr(path string, args []string, err error) error {
	if os.Geteuid() == 0 || !errors.Is(err, fs.ErrPermission) {
		return err
	}
	exe, exeErr := os.Executable()
	if exeErr != nil {
		exe = "devport"
	}
	return &NeedsElevationError{Path: path, Command: ElevatedCommand(append([]string{exe}, args...)...), Err: err}
}

// hostsLine is one line of the hosts file: its text and its terminator
// ("\n", "\r\n", or "" for a last line without a newline).
type hostsLine struct {
	text string
	term string
}

func splitLines(data []byte) []hostsLine {
	var lines []hostsLine
	s := string(data)
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			lines = append(lines, hostsLine{text: s})
			break
		}
		text, term := s[:i], "\n"
		if strings.HasSuffix(text, "\r") {
			text, term = text[:len(text)-1], "\r\n"
		}
		lines = append(lines, hostsLine{text: text, term: term})
		s = s[i+1:]
	}
	return lines
}

func joinLines(lines []hostsLine) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l.text)
		b.WriteString(l.term)
	}
	return b.Bytes()
}

// block is the index of a begin line and of its end line.
type block struct{ begin, end int }

func findBlocks(lines []hostsLine) ([]block, error) {
	var blocks []block
	open := -1
	for i, l := range lines {
		switch strings.TrimSpace(l.text) {
		case BeginMarker:
			if open >= 0 {
				return nil, fmt.Errorf("line %d: %w: remove the devport lines by hand", i+1, ErrBrokenBlock)
			}
			open = i
		case EndMarker:
			if open < 0 {
				return nil, fmt.Errorf("line %d: %w: remove the devport lines by hand", i+1, ErrBrokenBlock)
			}
			blocks = append(blocks, block{open, i})
			open = -1
		}
	}
	if open >= 0 {
		return nil, fmt.Errorf("line %d: %w: remove the devport lines by hand", open+1, ErrBrokenBlock)
	}
	return blocks, nil
}

// lineEnding is the file's own line terminator, so that a CRLF file stays CRLF.
func lineEnding(lines []hostsLine) string {
	for _, l := range lines {
		if l.term != "" {
			return l.term
		}
	}
	return "\n"
}

func blockLines(names []string, eol, lastTerm string) []hostsLine {
	out := []hostsLine{{text: BeginMarker, term: eol}}
	for _, n := range names {
		out = append(out, hostsLine{"127.0.0.1 " + n, eol}, hostsLine{"::1 " + n, eol})
	}
	return append(out, hostsLine{text: EndMarker, term: lastTerm})
}

// setBlock replaces the first block with one for names (and drops any
// other), or appends one. Appending to a file whose last line has no
// newline adds that newline as a separator and leaves the end line without
// one, which records the fact for removeBlocks.
func setBlock(lines []hostsLine, names []string) ([]hostsLine, error) {
	blocks, err := findBlocks(lines)
	if err != nil {
		return nil, err
	}
	eol := lineEnding(lines)
	if len(blocks) == 0 {
		out := slices.Clone(lines)
		lastTerm := eol
		if n := len(out); n > 0 && out[n-1].term == "" {
			out[n-1].term = eol
			lastTerm = ""
		}
		return append(out, blockLines(names, eol, lastTerm)...), nil
	}
	return rewriteBlocks(lines, blocks, blockLines(names, eol, lines[blocks[0].end].term)), nil
}

// removeBlocks deletes every devport block. A block that ends the file
// without a final newline was appended to a file that had none: the
// newline devport added before it goes too.
func removeBlocks(lines []hostsLine) ([]hostsLine, error) {
	blocks, err := findBlocks(lines)
	if err != nil {
		return nil, err
	}
	return rewriteBlocks(lines, blocks, nil), nil
}

// rewriteBlocks puts replacement where the first block was and drops the
// others.
func rewriteBlocks(lines []hostsLine, blocks []block, replacement []hostsLine) []hostsLine {
	out := make([]hostsLine, 0, len(lines)+len(replacement))
	prev := 0
	for i, b := range blocks {
		out = append(out, lines[prev:b.begin]...)
		if i == 0 && replacement != nil {
			out = append(out, replacement...)
		} else if b.end == len(lines)-1 && lines[b.end].term == "" && len(out) > 0 {
			out[len(out)-1].term = ""
		}
		prev = b.end + 1
	}
	return append(out, lines[prev:]...)
}
