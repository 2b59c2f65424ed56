#!/bin/sh
# STAND-IN for the entrypoint of the official redis image (Docker Hub
# "redis"), for the devport-test/redis:bookworm test image that
# scripts/build-test-images.sh builds from Debian's redis-server: no
# registry can be reached on the test machines. It is not the official
# script. Like the official image it runs redis-server as the redis user in
# /data (the image's WORKDIR, where dump.rdb goes), and with protected mode
# off, which the official image compiles in: otherwise Redis refuses every
# client that does not come from the container's own loopback.
set -e

if [ "${1#-}" != "$1" ]; then
	set -- redis-server "$@"
fi
if [ "$1" = redis-server ]; then
	if [ "$(id -u)" = 0 ]; then
		find . \! -user redis -exec chown redis '{}' +
		umask 0077
		exec gosu redis "$0" "$@"
	fi
	shift
	# A config file comes first, options after it.
	if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
		conf=$1
		shift
		set -- redis-server "$conf" --protected-mode no "$@"
	else
		set -- redis-server --protected-mode no "$@"
	fi
fi

exec "$@"
