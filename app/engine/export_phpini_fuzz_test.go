package engine

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devport/devport/export"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// FuzzExportPHPIni holds the php.ini writers to PHP's own parser: a
// directive, whatever it holds, goes through stacks' writer into the
// compose layout, whose check must accept what the writer wrote; PHP's ini
// scanner (parse_ini_file, as php.ini is read) must parse the file, find
// no section and no directive but the one written, and find it exactly
// when the store would have taken it.
func FuzzExportPHPIni(f *testing.F) {
	for _, kv := range [][2]string{
		{"memory_limit", "1G"},
		{"error_reporting", "E_ALL & ~E_DEPRECATED"},
		{"date.timezone", "Europe/Berlin"},
		{"session.save_path", "/tmp/s p"},
		{"memory_limit", "1G\n[evil]\nauto_prepend_file=/etc/passwd"},
		{"memory_limit", "1G\rauto_prepend_file=/etc/passwd"},
		{"x", `a" b = "c`},
		{"x", "${HOME}"},
		{"x", `\`},
		{"x", "; y = 1"},
		{"x", "[y]"},
		{"x", "=1"},
		{"extension", "evil.so"},
		{"yes", "1"},
		{"None", "1"},
		{"NULL", "1"},
		{"off", "1"},
		{"a[]", "1"},
		{"x", "é \u2028 \u0085"},
	} {
		f.Add(kv[0], kv[1])
	}
	php, _ := exec.LookPath("php")
	f.Fuzz(func(t *testing.T, k, v string) {
		ini := stacks.ExportPHPIni(map[string]string{k: v})
		p := export.Project{Name: "shop", Root: "/srv/shop", Domains: []string{"shop.test"},
			Services: []export.Service{{Name: "web", Stack: "php", Prefix: "/", Network: "tcp", Address: "127.0.0.1:8080", PHPIni: ini}}}
		if _, err := export.ComposeLayout(p, export.Options{}); err != nil {
			t.Fatalf("the compose layout refuses what stacks wrote for %q = %q: %v\n%s", k, v, err, ini)
		}
		if php == "" {
			return
		}
		file := filepath.Join(t.TempDir(), "zz-devport.ini")
		if err := os.WriteFile(file, ini, 0o644); err != nil {
			t.Fatal(err)
		}
		// Sections on: a "[section]" line would show as a nested array.
		out, err := exec.Command(php, "-n", "-r",
			`$a = parse_ini_file($argv[1], true, INI_SCANNER_RAW); if ($a === false) { exit(3); } echo json_encode(array_map(fn($v) => is_array($v) ? "SECTION" : "", $a));`,
			file).CombinedOutput()
		if err != nil {
			t.Fatalf("PHP cannot parse what was written for %q = %q: %v %s\n%s", k, v, err, out, ini)
		}
		got := strings.TrimSpace(string(out))
		valid := store.ValidatePHPIni(map[string]string{k: v}, "") == nil
		switch {
		case got == "[]" && !valid:
		case got == "[]" && valid:
			t.Errorf("%q = %q is valid, and PHP finds no directive in:\n%s", k, v, ini)
		case strings.Contains(got, "SECTION"):
			t.Errorf("%q = %q opened a section: %s\n%s", k, v, got, ini)
		default:
			// One key: k itself (JSON-escaped the same way only when plain).
			if !slices.Contains([]string{`{"` + k + `":""}`}, got) {
				t.Errorf("%q = %q: PHP reads %s from:\n%s", k, v, got, ini)
			}
		}
	})
}
