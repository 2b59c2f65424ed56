package stacks

import (
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
)

// TestProjectEnv: each marker a project may have gives the environment
// its services and devport python run on, and none gives none.
func TestProjectEnv(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no poetry command: the cache folder is read
	cache := t.TempDir()
	t.Setenv("POETRY_VIRTUALENVS_PATH", cache)
	py := func(t *testing.T, env string) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(env, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(env, "bin", "python")
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write := func(t *testing.T, path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	poetryHash := func(dir string) string {
		real, _ := filepath.EvalSymlinks(dir)
		sum := sha256.Sum256([]byte(real))
		return base64.URLEncoding.EncodeToString(sum[:])[:8]
	}
	tests := []struct {
		name     string
		setup    func(t *testing.T, dir string) string // the environment's folder, "" for none
		wantTool string
	}{
		{"nothing", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "requirements.txt"), "fastapi\n")
			return ""
		}, ""},
		{".venv", func(t *testing.T, dir string) string {
			py(t, filepath.Join(dir, ".venv"))
			return filepath.Join(dir, ".venv")
		}, "venv"},
		{"venv", func(t *testing.T, dir string) string {
			py(t, filepath.Join(dir, "venv"))
			return filepath.Join(dir, "venv")
		}, "venv"},
		{".venv before venv", func(t *testing.T, dir string) string {
			py(t, filepath.Join(dir, "venv"))
			py(t, filepath.Join(dir, ".venv"))
			return filepath.Join(dir, ".venv")
		}, "venv"},
		{"uv.lock with .venv", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "uv.lock"), "version = 1\n")
			py(t, filepath.Join(dir, ".venv"))
			return filepath.Join(dir, ".venv")
		}, "uv"},
		{"uv.lock without .venv", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "uv.lock"), "version = 1\n")
			return ""
		}, ""},
		{"poetry in-project", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "poetry.lock"), "")
			write(t, filepath.Join(dir, "pyproject.toml"), "[tool.poetry]\nname = \"Shop-API\"\n")
			py(t, filepath.Join(dir, ".venv"))
			return filepath.Join(dir, ".venv")
		}, "poetry"},
		{"poetry in its cache", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "poetry.lock"), "")
			write(t, filepath.Join(dir, "pyproject.toml"), "[tool.poetry]\nname = \"Shop-API\"\nversion = \"0.1.0\"\n")
			py(t, filepath.Join(cache, "shop-api-AAAAAAAA-py3.11")) // another project of that name
			env := filepath.Join(cache, "shop-api-"+poetryHash(dir)+"-py3.11")
			py(t, env)
			return env
		}, "poetry"},
		{"poetry moved: the one of its name", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "poetry.lock"), "")
			write(t, filepath.Join(dir, "pyproject.toml"), "[project]\nname = \"moved\"\n")
			env := filepath.Join(cache, "moved-ZZZZZZZZ-py3.12")
			py(t, env)
			return env
		}, "poetry"},
		{"poetry with no environment", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "poetry.lock"), "")
			write(t, filepath.Join(dir, "pyproject.toml"), "[tool.poetry]\nname = \"nowhere\"\n")
			return ""
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			want := tc.setup(t, dir)
			env, ok := ProjectEnv(dir)
			if ok != (want != "") || env.Dir != want || ok && (env.Tool != tc.wantTool || env.Python != filepath.Join(want, "bin", "python")) {
				t.Fatalf("ProjectEnv = %+v, %v; want Dir %q, Tool %q", env, ok, want, tc.wantTool)
			}
		})
	}
}
