#!/usr/bin/env bash
# build-test-images.sh: build the local stand-in images the container tests
# use, because no registry can be reached on the test machines. Each image is
# a Debian bookworm root made with debootstrap and loaded with `docker
# import`; an image whose tag already exists is kept (cache by tag).
#
#   devport-test/php-apache:bookworm  Apache + mod_php, CMD apache2ctl -D FOREGROUND
#   devport-test/python:bookworm      python3 + pip and every Python server devport
#                                     runs (uvicorn, fastapi, gunicorn, uWSGI,
#                                     flask), CMD python3
#   devport-test/nginx:bookworm       the same root, CMD nginx -g 'daemon off;'
#                                     (the nginx of exported compose files)
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

# build TAG PACKAGES CMD_JSON [TAG2 CMD2_JSON]: one debootstrap root,
# imported as TAG (and as TAG2 with another CMD).
build() {
	local tag=$1 pkgs=$2 cmd=$3 tag2=${4:-} cmd2=${5:-}
	if [ "$FORCE" -eq 0 ] && docker image inspect "$tag" >/dev/null 2>&1 &&
		{ [ -z "$tag2" ] || docker image inspect "$tag2" >/dev/null 2>&1; }; then
		echo "build-test-images: $tag${tag2:+ and $tag2} exist (cached)"
		return
	fi
	local root
	root=$(mktemp -d /tmp/devport-image.XXXXXX)
	# shellcheck disable=SC2064
	trap "$SUDO rm -rf '$root'" RETURN
	echo "build-test-images: building $tag (debootstrap, about a minute)"
	local t0=$SECONDS
	$SUDO debootstrap --variant=minbase --include="$pkgs" bookworm "$root" "$(mirror)" >"$root.log" 2>&1 || {
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
	import "$root" "$tag" "$cmd"
	if [ -n "$tag2" ]; then
		import "$root" "$tag2" "$cmd2"
	fi
	echo "build-test-images: $tag${tag2:+ and $tag2} built in $((SECONDS - t0)) s"
}

# import ROOT TAG CMD_JSON
import() {
	$SUDO tar -C "$1" -c . | docker import \
		-c "CMD $3" \
		-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		-c 'LABEL devport.test-image=1' \
		- "$2" >/dev/null
}

build devport-test/php-apache:bookworm apache2,libapache2-mod-php \
	'["apache2ctl","-D","FOREGROUND"]'
build devport-test/python:bookworm \
	python3-uvicorn,python3-fastapi,python3-pip,gunicorn,uwsgi,uwsgi-plugin-python3,python3-flask,nginx-light \
	'["python3"]' \
	devport-test/nginx:bookworm '["nginx","-g","daemon off;"]'
