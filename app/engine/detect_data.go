package engine

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/manifest"
	"github.com/devport/devport/store"
)

// DetectData proposes the data services a project folder shows it needs:
// WordPress's wp-config-sample.php (MariaDB), Laravel's .env
// (DB_CONNECTION, and Redis as cache or session store), Django's DATABASES
// engine, and the database, Redis and mail services of a
// docker-compose.yml. The preview shows them and the user chooses; nothing
// is added silently. At most one proposal per stack, first found first.
//
// A folder with a devport.toml gets none: the file says what the project
// has.
func DetectData(dir string) []wire.DataProposal {
	if isFile(filepath.Join(dir, manifest.FileName)) {
		return nil
	}
	var out []wire.DataProposal
	add := func(name, stack, why string) {
		if slices.ContainsFunc(out, func(p wire.DataProposal) bool { return p.Stack == stack || p.Name == name }) {
			return
		}
		if store.ValidateName("service", name) != nil {
			name = stack
		}
		out = append(out, wire.DataProposal{Name: name, Stack: stack, Why: why})
	}
	if isFile(filepath.Join(dir, "wp-config-sample.php")) || isFile(filepath.Join(dir, "wp-config.php")) {
		add("db", stackdef.MariaDB, "WordPress (wp-config-sample.php) needs a MySQL database")
	}
	if env := readDotEnv(filepath.Join(dir, ".env")); env != nil {
		switch env["DB_CONNECTION"] {
		case "mysql", "mariadb":
			add("db", stackdef.MariaDB, ".env says DB_CONNECTION="+env["DB_CONNECTION"])
		case "pgsql":
			add("db", stackdef.Postgres, ".env says DB_CONNECTION=pgsql")
		}
		for _, k := range []string{"CACHE_STORE", "CACHE_DRIVER", "SESSION_DRIVER", "QUEUE_CONNECTION"} {
			if env[k] == "redis" {
				add("cache", stackdef.Redis, ".env says "+k+"=redis")
			}
		}
		if env["MAIL_MAILER"] == "smtp" {
			add("mail", stackdef.Mailpit, ".env says MAIL_MAILER=smtp")
		}
	}
	for _, f := range djangoSettings(dir) {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		rel, _ := filepath.Rel(dir, f)
		switch s := string(b); {
		case strings.Contains(s, "django.db.backends.postgresql"):
			add("db", stackdef.Postgres, rel+" uses django.db.backends.postgresql")
		case strings.Contains(s, "django.db.backends.mysql"):
			add("db", stackdef.MariaDB, rel+" uses django.db.backends.mysql")
		}
	}
	for _, name := range []string{"docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"} {
		for _, svc := range composeImages(filepath.Join(dir, name)) {
			if stack := stackOfImage(svc.image); stack != "" {
				add(svc.name, stack, name+" runs "+svc.image+" as "+svc.name)
			}
		}
	}
	return out
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// readDotEnv reads KEY=value lines (quotes and comments stripped); nil
// when there is no such file.
func readDotEnv(path string) map[string]string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		env[strings.TrimSpace(strings.TrimPrefix(k, "export "))] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return env
}

// djangoSettings are the settings files of a Django project in dir:
// */settings.py and */settings/*.py, one level down.
func djangoSettings(dir string) []string {
	a, _ := filepath.Glob(filepath.Join(dir, "*", "settings.py"))
	b, _ := filepath.Glob(filepath.Join(dir, "*", "settings", "*.py"))
	return append(a, b...)
}

type composeImage struct{ name, image string }

// composeServiceRE and composeImageRE read a compose file's services and
// their images without a YAML parser: "  db:" at two spaces under
// "services:", and "image: mariadb:11" under it.
var (
	composeServiceRE = regexp.MustCompile(`^  ([A-Za-z0-9][A-Za-z0-9_.-]*):\s*$`)
	composeImageRE   = regexp.MustCompile(`^\s+image:\s*["']?([^"'\s#]+)`)
)

func composeImages(path string) []composeImage {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []composeImage
	in, current := false, ""
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "services:"):
			in = true
			continue
		case line != "" && line[0] != ' ' && line[0] != '#':
			in = false
		}
		if !in {
			continue
		}
		if m := composeServiceRE.FindStringSubmatch(line); m != nil {
			current = m[1]
		} else if m := composeImageRE.FindStringSubmatch(line); m != nil && current != "" {
			out = append(out, composeImage{name: current, image: m[1]})
		}
	}
	return out
}

// stackOfImage is the data stack an image runs: mysql and mariadb,
// postgres (and postgis), redis (and valkey), mailpit and mailhog.
func stackOfImage(image string) string {
	repo, _, _ := strings.Cut(image, ":")
	base := repo[strings.LastIndexByte(repo, '/')+1:]
	switch {
	case base == "mysql" || base == "mariadb" || base == "percona":
		return stackdef.MariaDB
	case base == "postgres" || base == "postgis":
		return stackdef.Postgres
	case base == "redis" || base == "valkey":
		return stackdef.Redis
	case base == "mailpit" || base == "mailhog":
		return stackdef.Mailpit
	}
	return ""
}

// describeData is the preview's lines about data services: those asked
// for, and those detection proposes that were not.
func describeData(req wire.AddRequest) string {
	var b strings.Builder
	for _, d := range req.Data {
		fmt.Fprintf(&b, "  data service %s: %s\n", d.Name, stackdef.Canonical(d.Stack))
	}
	for _, p := range DetectData(req.Dir) {
		if slices.ContainsFunc(req.Data, func(d wire.DataServiceRequest) bool { return stackdef.Canonical(d.Stack) == p.Stack }) {
			continue
		}
		fmt.Fprintf(&b, "  proposed: data service %s: %s, because %s (add it with --data %s=%s)\n", p.Name, p.Stack, p.Why, p.Name, p.Stack)
	}
	return b.String()
}
