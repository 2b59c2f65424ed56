#!/usr/bin/env bash
# build-test-images.sh: build the local stand-in images the container tests
# use, because no registry can be reached on the test machines. Each image is
# a Debian bookworm root made with debootstrap and loaded with `docker
# import`; an image whose tag already exists is kept (cache by tag).
#
#   devport-test/php-apache:bookworm     Apache + mod_php, CMD apache2ctl -D FOREGROUND
#   devport-test/python-uvicorn:bookworm python3 + uvicorn + fastapi + pip
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

# build TAG PACKAGES CMD_JSON
build() {
	local tag=$1 pkgs=$2 cmd=$3
	if [ "$FORCE" -eq 0 ] && docker image inspect "$tag" >/dev/null 2>&1; then
		echo "build-test-images: $tag exists (cached)"
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
	# Keep the image small: no apt lists or caches in it.
	$SUDO rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
	$SUDO tar -C "$root" -c . | docker import \
		-c "CMD $cmd" \
		-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		-c 'LABEL devport.test-image=1' \
		- "$tag" >/dev/null
	echo "build-test-images: $tag built in $((SECONDS - t0)) s"
}

build devport-test/php-apache:bookworm apache2,libapache2-mod-php \
	'["apache2ctl","-D","FOREGROUND"]'
build devport-test/python-uvicorn:bookworm python3-uvicorn,python3-fastapi,python3-pip \
	'["python3"]'
