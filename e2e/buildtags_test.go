package e2e

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestBuildTagsMatchMakefile keeps the binary the tests run the one make
// builds: the Makefile's TAGS equal buildTags, and the test binary was
// built with them (go version -m reads its build settings).
func TestBuildTagsMatchMakefile(t *testing.T) {
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TAGS\s*\?=\s*(\S*)\s*$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("the Makefile sets no TAGS ?= line")
	}
	if got := string(m[1]); got != buildTags {
		t.Errorf("Makefile TAGS = %q, e2e buildTags = %q: the tests would run another binary than make builds", got, buildTags)
	}
	out, err := exec.Command("go", "version", "-m", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, out)
	}
	if want := "-tags=" + buildTags; !strings.Contains(string(out), want) {
		t.Errorf("go version -m %s lacks %s:\n%s", bin, want, out)
	}
}
