package engine

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// Doctor's checks of the php services' PHP: the version each one runs
// (choosePHP), the extensions that version has (`php -m` of the version's
// command line, or in its image), and composer.json's ext-* requirements
// against them, naming the package that adds a missing one.

// checkPHPExtensions checks every php service of ps.
func (m *Manager) checkPHPExtensions(ctx context.Context, ps []store.Project) []Check {
	var out []Check
	var local []string
	localDone := false
	for _, p := range ps {
		for _, s := range p.Services {
			if s.Stack != stackdef.PHP {
				continue
			}
			container := s.Runtime == wire.RuntimeContainer
			if container && !localDone {
				local, localDone = m.localPHPImages(ctx), true
			}
			out = append(out, m.checkPHPService(ctx, p, s, local)...)
		}
	}
	return out
}

// checkPHPService is the version check and the extension checks of one
// php service.
func (m *Manager) checkPHPService(ctx context.Context, p store.Project, s store.Service, local []string) []Check {
	label := p.Name
	if len(p.Services) > 1 {
		label += "/" + s.Name
	}
	c, err := m.choosePHP(ctx, p.Root, s, local)
	if err != nil {
		return []Check{{Name: "php version (" + label + ")", Detail: err.Error(),
			Fix: "devport set " + p.Name + " --php X.Y with a version devport php versions lists"}}
	}
	container := s.Runtime == wire.RuntimeContainer
	var mods []string
	name := "php extensions (" + label + ")"
	switch {
	case container:
		cli, err := stacks.NewDockerClient()
		if err == nil {
			defer cli.Close()
			err = stacks.PingDocker(ctx, cli)
		}
		if err != nil {
			return nil // the docker check says what is wrong
		}
		if mods, err = stacks.ImagePHPModules(ctx, cli, c.image); err != nil {
			return []Check{{Name: name, OK: true, Detail: oneLine(err.Error()), Fix: "devport start " + p.Name + ", then doctor again"}}
		}
	case c.version == "":
		return nil // stack php's own check says what to install
	default:
		i := slices.IndexFunc(stacks.PHPVersions(), func(v stacks.PHPVersion) bool { return v.Version == c.version && v.CLI != "" })
		if i < 0 {
			return []Check{{Name: name, Detail: "PHP " + c.version + "'s command line (php" + c.version + ") is not installed, and doctor reads the extensions with it",
				Fix: "sudo apt-get install php" + c.version + "-cli"}}
		}
		if mods, err = stacks.PHPModules(ctx, stacks.PHPVersions()[i].CLI); err != nil {
			return []Check{{Name: name, Detail: oneLine(err.Error()), Fix: "run php" + c.version + " -m to see why it fails"}}
		}
	}
	where := "process"
	if container {
		where = c.image
	}
	version := cmp.Or(c.version, "of "+c.image)
	out := []Check{{Name: name, OK: true, Detail: fmt.Sprintf("PHP %s (%s) has %s", version, where, strings.Join(mods, ", "))}}
	want, err := stacks.ComposerExtensions(p.Root)
	if err != nil {
		return append(out, Check{Name: "composer.json (" + label + ")", Detail: oneLine(err.Error()), Fix: "fix composer.json"})
	}
	if len(want) == 0 {
		return out
	}
	var missing []string
	for _, e := range want {
		if !slices.Contains(mods, e) && !(e == "zend-opcache" && slices.Contains(mods, "opcache")) {
			missing = append(missing, e)
		}
	}
	req := Check{Name: "composer.json ext-* (" + label + ")", OK: len(missing) == 0}
	if req.OK {
		req.Detail = fmt.Sprintf("PHP %s has every extension composer.json requires (%s)", version, strings.Join(want, ", "))
		return append(out, req)
	}
	req.Detail = fmt.Sprintf("composer.json requires %s, which PHP %s lacks", "ext-"+strings.Join(missing, ", ext-"), version)
	if container {
		req.Fix = "an image with them: FROM " + c.image + " and RUN docker-php-ext-install " + strings.Join(missing, " ") +
			" (pecl install for redis and xdebug), then devport set " + p.Name + " --runtime container --image YOURS"
	} else {
		req.Fix = "sudo apt-get install " + strings.Join(phpExtPackages(c.version, missing), " ")
	}
	return append(out, req)
}

// phpExtPackages are the Debian packages (Ondřej Surý's name them the
// same) that add extensions exts to PHP version v: php8.2-mysql for
// mysqli and pdo_mysql, php8.2-xml for dom and simplexml, and so on.
func phpExtPackages(v string, exts []string) []string {
	var out []string
	for _, e := range exts {
		pkg := "php" + v + "-" + phpExtPackage(e)
		if !slices.Contains(out, pkg) {
			out = append(out, pkg)
		}
	}
	return out
}

// phpExtPackage is the part after "phpX.Y-" of the package that provides
// extension e.
func phpExtPackage(e string) string {
	switch e {
	case "mysqli", "pdo_mysql", "mysqlnd":
		return "mysql"
	case "pgsql", "pdo_pgsql":
		return "pgsql"
	case "sqlite3", "pdo_sqlite":
		return "sqlite3"
	case "dom", "simplexml", "xml", "xmlreader", "xmlwriter", "xsl":
		return "xml"
	case "opcache", "zend-opcache":
		return "opcache"
	case "ctype", "fileinfo", "iconv", "tokenizer", "exif", "ffi", "ftp", "gettext", "pdo", "phar", "posix",
		"shmop", "sockets", "sysvmsg", "sysvsem", "sysvshm", "calendar":
		return "common"
	case "json", "openssl", "pcre", "hash", "filter", "reflection", "spl", "standard", "date", "sodium", "random", "zlib", "core", "libxml", "readline":
		return "cli"
	case "pdo_dblib", "mssql":
		return "sybase"
	case "pdo_odbc":
		return "odbc"
	case "pdo_firebird":
		return "interbase"
	}
	return e
}
