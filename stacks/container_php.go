package stacks

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"

	"github.com/devport/devport/assets"
	"github.com/docker/docker/api/types/mount"
)

// siteTemplate is parsed once; it is never modified afterwards.
var siteTemplate = template.Must(template.New("apache-site.conf").
	Funcs(confFuncs).
	Parse(assets.ApacheSiteConf))

// siteConfig is the data of assets.ApacheSiteConf, the site of a php
// container.
type siteConfig struct {
	ServerName string
	DocRoot    string // in the container
	KeepAlive  string // Off (ApacheKeepAlive)
	// ProxyFrom is where devport's proxy connects from (the project
	// network's gateways), space-separated: the one hop whose forwarding
	// headers are trusted. "" trusts none.
	ProxyFrom string
	// RunAsOwner makes the workers run as the account phpRunScript gives
	// the project folder's owner (DEVPORT_RUN_USER, DEVPORT_RUN_GROUP).
	RunAsOwner bool
	Links      []apacheLink
	Sendmail   string // PHP's sendmail_path, "" for PHP's own (Spec.Sendmail)
}

// planPHP mounts the project folder at /var/www/html and replaces the
// image's default site with one that matches the process runtime: the
// document root (public/ when present), .htaccess with mod_rewrite, HTTPS=on
// for X-Forwarded-Proto: https and the client address from X-Forwarded-For.
func planPHP(s Spec, image string, proxyFrom []string) (containerPlan, error) {
	root := s.DocRoot
	if root == "" {
		root = s.Dir
		if pub := filepath.Join(s.Dir, "public"); isDir(pub) {
			root = pub
		}
	}
	if !isDir(root) {
		return containerPlan{}, fmt.Errorf("document root %q does not exist: create it or choose another one", root)
	}
	p := containerPlan{image: image, port: phpPort,
		mounts: []mount.Mount{{Type: mount.TypeBind, Source: filepath.Clean(s.Dir), Target: phpAppDir}}}
	// Apache's workers run as the project folder's owner, so that the app
	// writes its files as that user; a folder root owns is served by the
	// image's www-data. The workers see the folders with their host modes.
	worker, workerName := apacheAccount{uid: wwwDataUID, gid: wwwDataUID}, "www-data"
	uid, gid, ok := fileOwner(s.Dir)
	runAsOwner := ok && uid != 0
	// The start script makes the project's PHP scan folder (phpIniScript),
	// gives the folder's owner an account when the workers run as that
	// user, then runs the image's own command.
	script := phpIniScript
	if s.Xdebug {
		script += phpXdebugCheck
	}
	if runAsOwner {
		worker, workerName = apacheAccount{uid: uid, gid: gid}, "uid "+strconv.FormatUint(uint64(uid), 10)
		script += fmt.Sprintf(phpRunScript, uid, gid)
	}
	p.files = map[string][]byte{
		containerPHPRun: []byte(script + "exec \"$@\"\n"),
		containerPHPIni: phpIni(s, xdebugHostContainer),
	}
	p.mounts = append(p.mounts,
		mount.Mount{Type: mount.TypeBind, Source: filepath.Join(s.RunDir, containerPHPRun), Target: phpScriptPath, ReadOnly: true},
		mount.Mount{Type: mount.TypeBind, Source: filepath.Join(s.RunDir, containerPHPIni), Target: phpIniMount, ReadOnly: true})
	p.cmd, p.imageCmd = []string{"sh", phpScriptPath}, true
	p.env = []string{"PHP_INI_SCAN_DIR=" + phpScanDir}
	if s.Xdebug {
		// xdebug.client_host: the host's gateway, where the IDE listens.
		p.extraHosts = []string{xdebugHostContainer + ":host-gateway"}
	}
	for _, d := range []string{s.Dir, root} {
		fi, err := os.Stat(d)
		if err != nil {
			continue
		}
		if ok, fix := allows(fi, worker, permRead|permSearch); !ok {
			return containerPlan{}, fmt.Errorf("folder %q (mode %s) is %w %s, which serves it in the container: %s %q",
				d, fi.Mode().Perm(), ErrNotReadable, workerName, fix, d)
		}
	}
	inRoot := phpAppDir
	rel, err := filepath.Rel(filepath.Clean(s.Dir), filepath.Clean(root))
	switch {
	case err == nil && rel == ".":
	case err == nil && !strings.HasPrefix(rel, ".."):
		inRoot = phpAppDir + "/" + filepath.ToSlash(rel)
	default: // a document root outside the project folder gets a mount of its own
		inRoot = "/var/www/docroot"
		p.mounts = append(p.mounts, mount.Mount{Type: mount.TypeBind, Source: filepath.Clean(root), Target: inRoot})
	}
	if !confSafe(inRoot) {
		return containerPlan{}, fmt.Errorf("document root %q holds a character apache's config cannot carry (\", \\, a newline or ${): rename it", root)
	}
	cfg := siteConfig{ServerName: serverName(s), DocRoot: inRoot, KeepAlive: ApacheKeepAlive,
		ProxyFrom: strings.Join(proxyFrom, " "), RunAsOwner: runAsOwner, Sendmail: s.Sendmail}
	if !confSafe(cfg.ProxyFrom) {
		return containerPlan{}, fmt.Errorf("gateway %q of the project network cannot be written into apache's config", cfg.ProxyFrom)
	}
	if cfg.Links, err = phpSiteLinks(s); err != nil {
		return containerPlan{}, err
	}
	var site bytes.Buffer
	if err := siteTemplate.Execute(&site, cfg); err != nil {
		return containerPlan{}, fmt.Errorf("render apache site: %w", err)
	}
	p.files[containerVhost] = site.Bytes()
	p.mounts = append(p.mounts, mount.Mount{Type: mount.TypeBind, Source: filepath.Join(s.RunDir, containerVhost),
		Target: phpVhostPath, ReadOnly: true})
	return p, nil
}

// phpSiteLinks forwards a php container's links to the containers of the
// same project on the project's network (the chain proxy → Apache →
// uvicorn), as the process runtime's httpd.conf does to sockets.
func phpSiteLinks(s Spec) ([]apacheLink, error) {
	var out []apacheLink
	for _, l := range s.Links {
		if l.Container == "" {
			return nil, fmt.Errorf("service %s runs in a container, and Apache there can only forward %s to a service in a container too: run that service with --runtime container, or this one as a process",
				s.label(), l.Prefix)
		}
		out = append(out, l.render(true))
	}
	return out, nil
}

// wwwDataUID is www-data's uid and gid in Debian-based images (the official
// php:*-apache images and Debian's apache2 alike).
const wwwDataUID = 33

// phpIniScript makes the container's PHP scan folder phpScanDir, which
// PHP_INI_SCAN_DIR names for Apache's mod_php and for docker exec's php
// alike: a link to each entry of the image's own conf.d (the official
// images' /usr/local/etc/php/conf.d, Debian's /etc/php/X.Y/apache2/conf.d),
// except Xdebug's, and devport's zz-devport.ini (mounted read-only).
const phpIniScript = `# Generated by devport: the project's php.ini settings, and Xdebug only when asked.
set -e
scan=` + phpScanDir + `
src=
for d in /usr/local/etc/php/conf.d /etc/php/*/apache2/conf.d; do
    if [ -d "$d" ]; then src=$d; break; fi
done
rm -rf "$scan"
mkdir -p "$scan"
if [ -n "$src" ]; then
    for f in "$src"/*.ini; do
        [ -e "$f" ] || continue
        case "${f##*/}" in *xdebug*) continue ;; esac
        ln -s "$f" "$scan/"
    done
fi
ln -s ` + phpIniMount + ` "$scan/zz-devport.ini"
`

// phpXdebugCheck says in the service log when Xdebug is on and the image
// has no Xdebug: PHP's own warning is easy to miss among Apache's lines.
const phpXdebugCheck = `ext=$(php -n -r 'echo PHP_EXTENSION_DIR;' 2>/dev/null || true)
if [ -n "$ext" ] && [ ! -e "$ext/xdebug.so" ]; then
    echo "devport: Xdebug is on, but this image has no Xdebug ($ext/xdebug.so): use an image with it, or devport xdebug NAME off" >&2
fi
`

// phpRunScript gives the host's uid %[1]d (group %[2]d), which owns a php
// container's project folder, an account in the container when the image
// has none, names them in DEVPORT_RUN_USER and DEVPORT_RUN_GROUP (the
// site's User and Group) and in APACHE_RUN_USER and APACHE_RUN_GROUP
// (which the official image's apache2.conf reads; Debian's envvars
// overrides them, the site does not); the start script then runs the
// image's own command. Apache's User takes "#uid" too, but for a uid
// without an account its workers then fail to drop root and serve as root
// (AH02155).
const phpRunScript = `# Apache's workers run as the project folder's owner.
uid=%[1]d
gid=%[2]d
user=$(grep "^[^:]*:[^:]*:$uid:" /etc/passwd | head -n 1 | cut -d: -f1)
if [ -z "$user" ]; then
    user=devport$uid
    echo "$user:x:$uid:$gid:devport:/nonexistent:/usr/sbin/nologin" >> /etc/passwd
fi
group=$(grep "^[^:]*:[^:]*:$gid:" /etc/group | head -n 1 | cut -d: -f1)
if [ -z "$group" ]; then
    group=devport$gid
    echo "$group:x:$gid:" >> /etc/group
fi
export DEVPORT_RUN_USER="$user" DEVPORT_RUN_GROUP="$group" APACHE_RUN_USER="$user" APACHE_RUN_GROUP="$group"
`
