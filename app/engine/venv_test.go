package engine

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
)

const fastapiMain = "from fastapi import FastAPI\napp = FastAPI()\n"

// TestDeclaredDeps: each file that declares a project's dependencies.
func TestDeclaredDeps(t *testing.T) {
	tests := []struct {
		name      string
		files     map[string]string
		wantFiles []string
		wantArgs  []string // pip's arguments after install's options
	}{
		{"none", map[string]string{"main.py": fastapiMain}, nil, nil},
		{"requirements.txt", map[string]string{"requirements.txt": "fastapi\n"}, []string{"requirements.txt"}, []string{"-r", "requirements.txt"}},
		{"pyproject dependencies", map[string]string{"pyproject.toml": "[project]\nname = \"x\"\ndependencies = [\n  \"uvicorn[standard]>=0.17\", # the server\n  'fastapi',\n]\n[project.optional-dependencies]\ndev = [\"pytest\"]\n"},
			[]string{"pyproject.toml"}, []string{"uvicorn[standard]>=0.17", "fastapi"}},
		{"pyproject of tools only", map[string]string{"pyproject.toml": "[tool.black]\nline-length = 100\n"}, nil, nil},
		{"uv.lock", map[string]string{"uv.lock": "version = 1\n", "pyproject.toml": "[project]\nname = \"x\"\ndependencies = [\"flask\"]\n"},
			[]string{"pyproject.toml", "uv.lock"}, []string{"flask"}},
		{"poetry.lock", map[string]string{"poetry.lock": "", "pyproject.toml": "[tool.poetry]\nname = \"x\"\n[tool.poetry.dependencies]\npython = \"^3.11\"\n"},
			[]string{"pyproject.toml", "poetry.lock"}, []string{"."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			d := declaredDeps(dir)
			if !slices.Equal(d.files, tc.wantFiles) {
				t.Errorf("files = %q, want %q", d.files, tc.wantFiles)
			}
			args := installArgs(d)
			if tc.wantArgs == nil && args != nil || tc.wantArgs != nil && !slices.Equal(args[len(args)-len(tc.wantArgs):], tc.wantArgs) {
				t.Errorf("pip %q, want it to end with %q", args, tc.wantArgs)
			}
			preview := DescribeEnv(wire.AddRequest{Dir: dir, Stack: "uvicorn"})
			if got := strings.Contains(preview, "devport add --venv"); got != (tc.wantFiles != nil) {
				t.Errorf("preview %q offers --venv: %v, want %v", preview, got, tc.wantFiles != nil)
			}
		})
	}
}

// needVenv skips t unless Debian's python3 can make a virtualenv with pip
// and imports uvicorn.
func needVenv(t *testing.T) {
	t.Helper()
	testenv.Tool(t, "python3")
	ok := exec.Command("/usr/bin/python3", "-c", "import ensurepip, venv, uvicorn, fastapi").Run() == nil
	testenv.Need(t, "Debian's /usr/bin/python3 with venv, ensurepip and uvicorn", ok, "apt-get install python3-venv python3-uvicorn python3-fastapi ("+testenv.InstallFix+")")
}

// closedIndex is the URL of a package index nothing listens on.
func closedIndex(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/simple"
}

// TestCreateVenv makes real virtualenvs offline: requirements the system
// already has install with nothing from the index, and one it lacks
// gives the clear error and leaves no .venv behind.
func TestCreateVenv(t *testing.T) {
	needVenv(t)
	// Offline: an index nothing answers, no local wheels, no retries.
	t.Setenv("PIP_INDEX_URL", closedIndex(t))
	t.Setenv("PIP_FIND_LINKS", "")
	t.Setenv("PIP_RETRIES", "0")
	tests := []struct {
		name         string
		requirements string
		wantErr      string // "" for success
	}{
		{"empty requirements", "", ""},
		{"already satisfied", "uvicorn\n", ""},
		{"index unreachable", "devport-surely-not-a-package==1.0\n", "the package index (PIP_INDEX_URL or pypi.org) cannot be reached: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"main.py": fastapiMain, "requirements.txt": tc.requirements})
			var out bytes.Buffer
			v, err := CreateVenv(context.Background(), VenvOptions{Request: wire.AddRequest{Dir: dir}, Out: &out})
			venv := filepath.Join(dir, ".venv")
			if tc.wantErr != "" {
				var ve *VenvError
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &ve) || ve.Unreachable == "" {
					t.Fatalf("err = %v, want a *VenvError with %q\n%s", err, tc.wantErr, out.String())
				}
				if !strings.Contains(err.Error(), "set PIP_INDEX_URL") {
					t.Errorf("err %q names no fix", err)
				}
				if _, err := os.Lstat(venv); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s is left behind (%v)", venv, err)
				}
				if !strings.Contains(out.String(), "  | ") {
					t.Errorf("no pip progress lines:\n%s", out.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("CreateVenv: %v\n%s", err, out.String())
			}
			if !v.Created || v.Python != filepath.Join(venv, "bin", "python") {
				t.Fatalf("venv = %+v", v)
			}
			// It is the project's environment now, and sees Debian's server.
			py, err := servicePython(dir, "uvicorn")
			if err != nil || py != v.Python {
				t.Fatalf("servicePython = %q, %v; want %s", py, err, v.Python)
			}
			if !importsAll(py, "uvicorn", "fastapi") {
				t.Errorf("%s cannot import uvicorn and fastapi", py)
			}
			if !strings.Contains(out.String(), "is ready") {
				t.Errorf("progress:\n%s", out.String())
			}
			if tc.requirements != "" && !strings.Contains(out.String(), "already satisfied") {
				t.Errorf("pip's output is not streamed:\n%s", out.String())
			}
		})
	}
}

// TestCreateVenvKeepsExisting: a failure never removes an environment
// the project had; CreateVenv leaves it as it is.
func TestCreateVenvKeepsExisting(t *testing.T) {
	needVenv(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.py": fastapiMain, "requirements.txt": "devport-surely-not-a-package\n"})
	if out, err := exec.Command("/usr/bin/python3", "-m", "venv", "--without-pip", "--system-site-packages", filepath.Join(dir, ".venv")).CombinedOutput(); err != nil {
		t.Fatalf("venv: %v\n%s", err, out)
	}
	v, err := CreateVenv(context.Background(), VenvOptions{Request: wire.AddRequest{Dir: dir}})
	if err != nil || v.Created {
		t.Fatalf("CreateVenv = %+v, %v; want the existing one", v, err)
	}
	if err := v.Remove(); err != nil {
		t.Fatal(err)
	}
	if !isExecutable(filepath.Join(dir, ".venv", "bin", "python")) {
		t.Fatal("Remove deleted an environment CreateVenv did not make")
	}
}
