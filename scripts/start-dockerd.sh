#!/usr/bin/env bash
# start-dockerd.sh: make sure a Docker engine answers. When `docker info`
# fails, it starts dockerd in the background (log: /var/log/dockerd.log) and
# waits until it answers. It never stops an engine it did not start.
set -euo pipefail

if ! command -v docker >/dev/null 2>&1; then
	echo "start-dockerd: docker is not installed (sudo apt-get install docker.io); container tests will skip" >&2
	exit 0
fi
if docker info >/dev/null 2>&1; then
	exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
	echo "start-dockerd: dockerd is not installed (sudo apt-get install docker.io)" >&2
	exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
if [ -n "$SUDO" ] && command -v systemctl >/dev/null 2>&1 && $SUDO systemctl start docker 2>/dev/null; then
	:
else
	echo "start-dockerd: starting dockerd (log: /var/log/dockerd.log)" >&2
	# In a session of its own: a kill of the caller's process group (a
	# tool that ends its job, Ctrl-C in the terminal) must not take the
	# engine down with it.
	$SUDO setsid -f sh -c 'exec dockerd >/var/log/dockerd.log 2>&1' </dev/null
fi
for _ in $(seq 1 60); do
	if docker info >/dev/null 2>&1; then
		exit 0
	fi
	sleep 0.5
done
echo "start-dockerd: dockerd did not answer within 30 s; see /var/log/dockerd.log" >&2
exit 1
