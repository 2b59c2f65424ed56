#!/usr/bin/env bash
# build-test-images.sh: build the local stand-in images the container tests
# use, because no registry can be reached on the test machines. Each image is
# a Debian bookworm root made with debootstrap and loaded with `docker
# import`; an image whose tag already exists is kept (cache by tag).
#
#   devport-test/php-apache:bookworm  Apache + mod_php (with mysqli), CMD apache2ctl -D FOREGROUND
#   devport-test/python:bookworm      python3 + pip and every Python server devport
#                                     runs (uvicorn, fastapi, gunicorn, uWSGI,
#                                     flask), CMD python3
#   devport-test/nginx:bookworm       the same root, CMD nginx -g 'daemon off;'
#                                     (the nginx of exported compose files)
#   php:7.4-apache                    Debian bullseye's Apache + PHP 7.4, and
#   php:8.4-apache                    trixie's Apache + PHP 8.4: stand-ins tagged
#                                     under the official names, so that a
#                                     project's PHP version selects them with
#                                     no pull (the image present locally wins)
#
# and the STAND-INS for the official images of the data services, which
# devport runs by default (mariadb:11, postgres:17, redis:7,
# axllent/mailpit). They are not those images: they are Debian's packages
# with small entrypoints (scripts/test-images/) that honour the same
# environment, keep the data in the same folder and listen on the same
# ports, so that what devport does with them works with the real ones:
#
#   devport-test/mariadb:bookworm     MariaDB 10.11; MARIADB_* env, /var/lib/mysql, 3306
#   devport-test/postgres:bookworm    PostgreSQL 15; POSTGRES_* env, /var/lib/postgresql/data, 5432
#   devport-test/redis:bookworm       Redis 7; /data, 6379, protected mode off
#   devport-test/mailpit:bookworm     Mailpit v1.33.1 at /mailpit (the ENTRYPOINT);
#                                     1025 (SMTP) and 8025 (UI), MP_DATABASE
#
# The four share one debootstrap root (one minute instead of four). Docker
# import cannot set STOPSIGNAL (postgres's is SIGINT): devport sets each
# data stack's stop signal itself.
#
# Usage: scripts/build-test-images.sh [--force]
# The mirror is the first URIs: line of /etc/apt/sources.list.d/debian.sources
# (override with MIRROR=...). Without docker or debootstrap it says so and
# exits 0: the container tests then skip with the reason.
set -euo pipefail

FORCE=0
if [ "${1:-}" = "--force" ]; then
	FORCE=1
fi

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
	echo "build-test-images: no Docker engine answers; skipping (scripts/start-dockerd.sh starts one)" >&2
	exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
	echo "build-test-images: debootstrap is not installed (sudo apt-get install debootstrap); skipping" >&2
	exit 0
fi

mirror() {
	if [ -n "${MIRROR:-}" ]; then
		echo "$MIRROR"
		return
	fi
	local f=/etc/apt/sources.list.d/debian.sources
	if [ -r "$f" ]; then
		local uri
		uri=$(awk '/^URIs:/ {print $2; exit}' "$f")
		if [ -n "$uri" ]; then
			echo "$uri"
			return
		fi
	fi
	if [ -r /etc/apt/sources.list ]; then
		local uri
		uri=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list)
		if [ -n "$uri" ]; then
			echo "$uri"
			return
		fi
	fi
	echo "http://deb.debian.org/debian"
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

# has_packages TAG PACKAGES: TAG exists and was built from PACKAGES (its
# devport.test-image.packages label), so a changed package list rebuilds
# an image that is cached under the same tag.
has_packages() {
	[ "$(docker image inspect -f '{{index .Config.Labels "devport.test-image.packages"}}' "$1" 2>/dev/null)" = "$2" ]
}

# build TAG PACKAGES CMD_JSON [TAG2 CMD2_JSON]: one debootstrap root of
# Debian's $SUITE (bookworm unless set), imported as TAG (and as TAG2 with
# another CMD).
build() {
	local suite=${SUITE:-bookworm}
	local tag=$1 pkgs=$2 cmd=$3 tag2=${4:-} cmd2=${5:-}
	if [ "$FORCE" -eq 0 ] && has_packages "$tag" "$pkgs" &&
		{ [ -z "$tag2" ] || has_packages "$tag2" "$pkgs"; }; then
		echo "build-test-images: $tag${tag2:+ and $tag2} exist (cached)"
		return
	fi
	local root
	root=$(mktemp -d /tmp/devport-image.XXXXXX)
	# shellcheck disable=SC2064
	trap "$SUDO rm -rf '$root'" RETURN
	echo "build-test-images: building $tag ($suite, debootstrap, about a minute)"
	local t0=$SECONDS
	$SUDO debootstrap --variant=minbase --include="$pkgs" "$suite" "$root" "$(mirror)" >"$root.log" 2>&1 || {
		tail -20 "$root.log" >&2
		rm -f "$root.log"
		return 1
	}
	rm -f "$root.log"
	# Keep the image small: no apt lists or caches in it. Drop Debian's
	# EXTERNALLY-MANAGED marker so pip acts as in the python:3.12 images
	# (offline, `pip install uvicorn` then says "already satisfied").
	$SUDO rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
		"$root"/usr/lib/python3*/EXTERNALLY-MANAGED
	import "$root" "$tag" "$cmd" "LABEL devport.test-image.packages=$pkgs"
	if [ -n "$tag2" ]; then
		import "$root" "$tag2" "$cmd2" "LABEL devport.test-image.packages=$pkgs"
	fi
	echo "build-test-images: $tag${tag2:+ and $tag2} built in $((SECONDS - t0)) s"
}

# import ROOT TAG CMD_JSON [CHANGE...]: extra Dockerfile changes (ENV,
# ENTRYPOINT, WORKDIR, VOLUME, EXPOSE) after the CMD.
import() {
	local root=$1 tag=$2 cmd=$3
	shift 3
	local changes=(-c "CMD $cmd" -c 'LABEL devport.test-image=1')
	local has_path=0 c
	for c in "$@"; do
		changes+=(-c "$c")
		case "$c" in "ENV PATH="*) has_path=1 ;; esac
	done
	if [ "$has_path" -eq 0 ]; then
		changes+=(-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
	fi
	$SUDO tar -C "$root" -c . | docker import "${changes[@]}" - "$tag" >/dev/null
}

# mailpit_binary DEST: the Mailpit the stand-in runs, /usr/local/bin/mailpit
# when this machine has one, else built from the module proxy (about 35 s).
MAILPIT_VERSION=v1.33.1
mailpit_binary() {
	if [ -x /usr/local/bin/mailpit ]; then
		$SUDO cp /usr/local/bin/mailpit "$1"
		return
	fi
	if ! command -v go >/dev/null 2>&1; then
		echo "build-test-images: go is not installed, and Mailpit is built with go install" >&2
		return 1
	fi
	local bin
	bin=$(mktemp -d /tmp/devport-mailpit.XXXXXX)
	echo "build-test-images: building Mailpit $MAILPIT_VERSION (go install, about 35 s)"
	GOBIN="$bin" go install "github.com/axllent/mailpit@$MAILPIT_VERSION"
	$SUDO cp "$bin/mailpit" "$1"
	rm -rf "$bin"
}

DATA_TAGS=(devport-test/mariadb:bookworm devport-test/postgres:bookworm devport-test/redis:bookworm devport-test/mailpit:bookworm)

# build_data: the stand-ins of the data services' official images, from
# one root; only the tags that are missing are imported (all with --force).
build_data() {
	local missing=() tag
	for tag in "${DATA_TAGS[@]}"; do
		if [ "$FORCE" -eq 1 ] || ! docker image inspect "$tag" >/dev/null 2>&1; then
			missing+=("$tag")
		fi
	done
	if [ "${#missing[@]}" -eq 0 ]; then
		echo "build-test-images: ${DATA_TAGS[*]} exist (cached)"
		return
	fi
	local root here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	root=$(mktemp -d /tmp/devport-image.XXXXXX)
	# shellcheck disable=SC2064
	trap "$SUDO rm -rf '$root'" RETURN
	echo "build-test-images: building ${missing[*]} (one debootstrap, about a minute)"
	local t0=$SECONDS
	$SUDO debootstrap --variant=minbase --include=mariadb-server,mariadb-client,postgresql,redis-server,gosu \
		bookworm "$root" "$(mirror)" >"$root.log" 2>&1 || {
		tail -20 "$root.log" >&2
		rm -f "$root.log"
		return 1
	}
	rm -f "$root.log"
	# The data folders start empty, as in the official images: the
	# packages' own clusters would be copied into a new volume, and the
	# entrypoints would take them for initialised data.
	$SUDO sh -e -c '
		r=$1 here=$2
		rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*
		rm -rf "$r"/var/lib/mysql "$r"/var/lib/postgresql "$r"/etc/postgresql/*/main
		mkdir -p "$r"/var/lib/mysql "$r"/run/mysqld "$r"/var/lib/postgresql/data "$r"/var/run/postgresql \
			"$r"/data "$r"/docker-entrypoint-initdb.d
		chroot "$r" chown mysql:mysql /var/lib/mysql /run/mysqld
		chroot "$r" chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
		chmod 1777 "$r"/var/lib/postgresql/data
		chmod 3777 "$r"/var/run/postgresql
		chroot "$r" chown redis:redis /data
		install -m 0644 "$here"/test-images/mariadb.cnf "$r"/etc/mysql/mariadb.conf.d/99-devport-standin.cnf
	' sh "$root" "$here"
	mailpit_binary "$root/mailpit"
	local pg
	pg=$(ls "$root"/usr/lib/postgresql | sort -n | tail -1)
	# Each image gets its stack's entrypoint under the official name,
	# /usr/local/bin/docker-entrypoint.sh.
	entrypoint() {
		$SUDO install -m 0755 "$here/test-images/$1-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
	}
	for tag in "${missing[@]}"; do
		case "$tag" in
		*/mariadb:*)
			entrypoint mariadb
			import "$root" "$tag" '["mariadbd"]' 'ENTRYPOINT ["docker-entrypoint.sh"]' \
				'VOLUME /var/lib/mysql' 'EXPOSE 3306' ;;
		*/postgres:*)
			entrypoint postgres
			import "$root" "$tag" '["postgres"]' 'ENTRYPOINT ["docker-entrypoint.sh"]' \
				"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/postgresql/$pg/bin" \
				"ENV PG_MAJOR=$pg" 'ENV PGDATA=/var/lib/postgresql/data' 'ENV LANG=C.UTF-8' \
				'VOLUME /var/lib/postgresql/data' 'EXPOSE 5432' ;;
		*/redis:*)
			entrypoint redis
			import "$root" "$tag" '["redis-server"]' 'ENTRYPOINT ["docker-entrypoint.sh"]' \
				'WORKDIR /data' 'VOLUME /data' 'EXPOSE 6379' ;;
		*/mailpit:*)
			$SUDO rm -f "$root/usr/local/bin/docker-entrypoint.sh"
			import "$root" "$tag" '[]' 'ENTRYPOINT ["/mailpit"]' 'EXPOSE 1025 8025' ;;
		esac
	done
	echo "build-test-images: ${missing[*]} built in $((SECONDS - t0)) s"
}

build devport-test/php-apache:bookworm apache2,libapache2-mod-php,php-mysql \
	'["apache2ctl","-D","FOREGROUND"]'
build devport-test/python:bookworm \
	python3-uvicorn,python3-fastapi,python3-pip,gunicorn,uwsgi,uwsgi-plugin-python3,python3-flask,nginx-light \
	'["python3"]' \
	devport-test/nginx:bookworm '["nginx","-g","daemon off;"]'
# The official php:X.Y-apache images' names, for the PHP versions a project
# chooses (devport add --php 7.4): Debian's own PHP of each suite.
SUITE=bullseye build php:7.4-apache apache2,libapache2-mod-php,php-mysql \
	'["apache2ctl","-D","FOREGROUND"]'
SUITE=trixie build php:8.4-apache apache2,libapache2-mod-php,php-mysql \
	'["apache2ctl","-D","FOREGROUND"]'
build_data
