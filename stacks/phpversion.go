package stacks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/devport/devport/internal/stackdef"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// PHPVersion is one PHP version installed on this host. Debian's packages
// and Ondřej Surý's (https://deb.sury.org) install each version side by
// side under its own names: /usr/bin/phpX.Y, Apache's
// /usr/lib/apache2/modules/libphpX.Y.so and /usr/sbin/php-fpmX.Y.
type PHPVersion struct {
	Version string // "8.2"
	CLI     string // the command line, /usr/bin/php8.2; "" when not installed
	Module  string // mod_php, libphp8.2.so; "" when not installed
	FPM     string // php-fpm8.2; "" when not installed
}

// Serves reports whether the process runtime can serve a site with this
// version: each project's private Apache loads the version's mod_php.
func (v PHPVersion) Serves() bool { return v.Module != "" }

// ErrNoPHPVersion is the cause of every "this PHP version is not there"
// error: not installed (process), no satisfying version, no image.
var ErrNoPHPVersion = errors.New("PHP version not available")

// PHPVersionError is a PHP version that is not there, with the one line a
// user acts on: what there is, and how to get the one asked for. It wraps
// ErrNoPHPVersion.
type PHPVersionError struct{ Msg string }

func (e *PHPVersionError) Error() string { return e.Msg }
func (e *PHPVersionError) Unwrap() error { return ErrNoPHPVersion }

// OfficialPHPVersions are the versions the official php:X.Y-apache images
// exist for, oldest first: what the container runtime can pull.
var OfficialPHPVersions = []string{"5.6", "7.0", "7.1", "7.2", "7.3", "7.4", "8.0", "8.1", "8.2", "8.3", "8.4", "8.5"}

// PHPVersions lists the PHP versions installed on this host, newest
// first: every version with a command line, a mod_php or a php-fpm.
func PHPVersions() []PHPVersion { return systemTools().phpVersions() }

var (
	phpCLIRe    = regexp.MustCompile(`^php(\d+\.\d+)$`)
	phpModuleRe = regexp.MustCompile(`^libphp(\d+\.\d+)\.so$`)
	phpFPMRe    = regexp.MustCompile(`^php-fpm(\d+\.\d+)$`)
	// phpShortRe is a version as a project names it: MAJOR.MINOR.
	phpShortRe = regexp.MustCompile(`^\d{1,2}\.\d{1,2}$`)
)

func (t toolchain) phpVersions() []PHPVersion {
	found := map[string]*PHPVersion{}
	get := func(v string) *PHPVersion {
		if found[v] == nil {
			found[v] = &PHPVersion{Version: v}
		}
		return found[v]
	}
	scan := func(dirs []string, re *regexp.Regexp, executable bool, set func(*PHPVersion, string)) {
		for _, d := range dirs {
			ents, _ := os.ReadDir(d)
			for _, e := range ents {
				m := re.FindStringSubmatch(e.Name())
				p := filepath.Join(d, e.Name())
				if m == nil || (executable && !isExecutable(p)) || (!executable && !isFile(p)) {
					continue
				}
				if v := get(m[1]); v != nil {
					set(v, p)
				}
			}
		}
	}
	bins := append(filepath.SplitList(t.path), t.bin...)
	scan(bins, phpCLIRe, true, func(v *PHPVersion, p string) {
		if v.CLI == "" {
			v.CLI = p
		}
	})
	scan([]string{t.modulesDir}, phpModuleRe, false, func(v *PHPVersion, p string) { v.Module = p })
	scan(append(t.sbin, bins...), phpFPMRe, true, func(v *PHPVersion, p string) {
		if v.FPM == "" {
			v.FPM = p
		}
	})
	out := make([]PHPVersion, 0, len(found))
	for _, v := range found {
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b PHPVersion) int { return compareVersioned(b.Version, a.Version) })
	return out
}

// phpModuleFor is mod_php of version v ("8.2"), or the newest installed one
// when v is "".
func (t toolchain) phpModuleFor(v string) (string, error) {
	if v == "" {
		return t.phpModule()
	}
	var have []string
	for _, pv := range t.phpVersions() {
		if pv.Version == v && pv.Serves() {
			return pv.Module, nil
		}
		if pv.Serves() {
			have = append(have, pv.Version)
		}
	}
	return "", NotInstalledPHP(v, have)
}

// NotInstalledPHP is the error for PHP version v that the process runtime
// cannot serve here, naming those it can (have) and how to get v.
func NotInstalledPHP(v string, have []string) error {
	there := "none is"
	if len(have) > 0 {
		there = strings.Join(have, ", ") + " " + isAre(len(have))
	}
	return &PHPVersionError{Msg: fmt.Sprintf("PHP %s is not installed for Apache here (%s): install php%s and libapache2-mod-php%s (Ondřej Surý's packages, https://deb.sury.org), choose one that is (--php %s), or run it in a container (--runtime container uses php:%s-apache)",
		v, there, v, v, firstOr(have, "X.Y"), v)}
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func firstOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	return s[0]
}

// ValidPHPVersion reports whether v has the shape of a PHP version a
// project names, MAJOR.MINOR ("8.2").
func ValidPHPVersion(v string) bool { return phpShortRe.MatchString(v) }

// ComposerPHP is the PHP constraint of dir's composer.json (require.php,
// "^7.4 || ^8.0"); "" when there is no composer.json or it says nothing
// about PHP.
func ComposerPHP(dir string) (string, error) {
	req, err := composerRequire(dir)
	if err != nil {
		return "", fmt.Errorf("%w, or choose a version with --php X.Y", err)
	}
	s, _ := req["php"].(string)
	return strings.TrimSpace(s), nil
}

// composerRequire is composer.json's require in dir; nil without a
// composer.json.
func composerRequire(dir string) (map[string]any, error) {
	b, err := os.ReadFile(filepath.Join(dir, "composer.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read composer.json: %w", err)
	}
	var c struct {
		Require map[string]any `json:"require"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %s: fix the JSON", filepath.Join(dir, "composer.json"), err)
	}
	return c.Require, nil
}

// PHPConstraint parses a Composer version constraint with semver. Composer
// writes an or as "|" or "||" and an and as a space or a comma; stability
// flags (@dev) say nothing about the version.
func PHPConstraint(s string) (*semver.Constraints, error) {
	norm := regexp.MustCompile(`@\w+`).ReplaceAllString(s, "")
	norm = regexp.MustCompile(`\s*\|\|?\s*`).ReplaceAllString(norm, " || ")
	c, err := semver.NewConstraint(strings.TrimSpace(norm))
	if err != nil {
		return nil, fmt.Errorf("composer.json's require.php %q is not a version constraint: %w", s, err)
	}
	return c, nil
}

// Satisfies reports whether some release of series v ("7.4": 7.4.0 to
// 7.4.99) satisfies c, so that ">=7.4.3" accepts 7.4.
func Satisfies(c *semver.Constraints, v string) bool {
	for patch := 0; patch < 100; patch++ {
		sv, err := semver.NewVersion(fmt.Sprintf("%s.%d", v, patch))
		if err != nil {
			return false
		}
		if c.Check(sv) {
			return true
		}
	}
	return false
}

// NewestSatisfying is the newest of have (MAJOR.MINOR versions, any order)
// that satisfies constraint (composer.json's require.php), or an
// ErrNoPHPVersion error that lists have.
func NewestSatisfying(constraint string, have []string) (string, error) {
	c, err := PHPConstraint(constraint)
	if err != nil {
		return "", err
	}
	sorted := slices.Clone(have)
	slices.SortFunc(sorted, func(a, b string) int { return compareVersioned(b, a) })
	for _, v := range sorted {
		if Satisfies(c, v) {
			return v, nil
		}
	}
	there := "none"
	if len(sorted) > 0 {
		there = strings.Join(sorted, ", ")
	}
	return "", &PHPVersionError{Msg: fmt.Sprintf("composer.json asks for PHP %q, which no version here satisfies (there are: %s)", constraint, there)}
}

// PHPImage is the official image of PHP version v, php:X.Y-apache.
func PHPImage(v string) string { return stackdef.PHPImage(v) }

var phpImageRe = regexp.MustCompile(`^(?:docker\.io/)?(?:library/)?php:(\d+\.\d+)(?:\.\d+)?-apache`)

// PHPOfImage is the PHP version an official php image names in its tag
// ("8.3" of php:8.3-apache or php:8.3.1-apache-bookworm), "" for other
// images.
func PHPOfImage(ref string) string {
	if m := phpImageRe.FindStringSubmatch(ref); m != nil {
		return m[1]
	}
	return ""
}

// LocalPHPImages are the PHP versions whose php:X.Y-apache image is
// present in the Docker engine, newest first: the container runtime uses
// them without a pull.
func LocalPHPImages(ctx context.Context, cli *client.Client) ([]string, error) {
	imgs, err := cli.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("reference", "php:*-apache"))})
	if err != nil {
		return nil, fmt.Errorf("list php images: %w", err)
	}
	var out []string
	for _, im := range imgs {
		for _, tag := range im.RepoTags {
			if m := phpImageRe.FindStringSubmatch(tag); m != nil && PHPImage(m[1]) == strings.TrimPrefix(tag, "docker.io/library/") && !slices.Contains(out, m[1]) {
				out = append(out, m[1])
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int { return compareVersioned(b, a) })
	return out, nil
}
