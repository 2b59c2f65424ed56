#!/usr/bin/env bash
# install-deps.sh: install the Debian/Ubuntu packages devport needs, skipping
# the ones already present. `make run` asks for the runtime set, `make test`
# for everything the tests drive for real.
#
#   scripts/install-deps.sh run    # build (cgo, GL for the window) + backends + trust stores
#   scripts/install-deps.sh test   # run + Docker + browser + X server + tools the tests use
#   scripts/install-deps.sh bench  # test + nginx, Caddy and wrk for the proxy benchmark
set -euo pipefail

set_name=${1:-test}

run_pkgs=(
  gcc libc6-dev pkg-config            # cgo: mattn/go-sqlite3
  libgl1-mesa-dev xorg-dev            # cgo: Fyne's GL and GLFW
  ca-certificates libnss3-tools       # trust stores: update-ca-certificates, certutil
  libcap2-bin                         # setcap: devport setup lets the binary bind 443 and 80
  apache2 libapache2-mod-php php-cli  # php stack
  python3 python3-uvicorn python3-fastapi  # uvicorn stack
)
test_pkgs=(
  curl openssl                        # end-to-end checks over real HTTPS
  chromium                            # the browser reads NSS
  docker.io debootstrap               # container runtime; local stand-in images
  docker-registry                     # a local registry: the container tests pull from it
  docker-compose                      # runs devport export --format compose for real (e2e/compose_test.go)
  xvfb xdotool imagemagick            # the real window: display, clicks, screenshots
  dbus dbus-x11                       # a session bus for the tray
  bind9-dnsutils                      # dig: a real DNS client against the resolve responder
  python3-websockets                  # uvicorn's websocket support: websockets through the proxy
  gunicorn                            # gunicorn and wsgi stacks (uwsgi and Flask: the next line)
  uwsgi uwsgi-plugin-python3 python3-flask  # uwsgi stack: the proxy speaks the uwsgi protocol to it
  nginx-light                         # nginx -t on the nginx export (export, e2e)
  procps                              # pgrep in process checks
  python3-django                      # a real third-party app behind the wsgi stack: Django's admin (e2e)
  python3-debugpy                     # devport debug: the Python stacks under debugpy, a DAP client attaches (stacks, e2e)
  python3-venv python3-pip            # devport add --venv creates .venv and installs with pip (engine)
  sudo                                # devport setup as an ordinary user asks for root through it (e2e)
  systemd                             # systemctl: setup where systemd-resolved is installed but not running (e2e)
  mariadb-server mariadb-client       # mariadb stack (process runtime): mariadbd, mariadb-install-db, the mariadb client and mariadb-dump
  postgresql postgresql-client        # postgres stack: initdb, postgres, pg_isready, psql, pg_dump
  redis-server redis-tools            # redis stack: redis-server, redis-cli
  php-mysql python3-psycopg2 python3-redis  # the apps of the data-service e2e tests talk to them (mysqli, psycopg2, redis-py)
  php-xdebug composer                 # devport xdebug (a DBGp client accepts its connection) and devport composer (stacks, engine, e2e)
  git                                 # a real repository whose checkouts the databases follow (e2e)
  wordpress wordpress-theme-twentytwentythree  # a real third-party app with a database and mail: WordPress (e2e)
)
bench_pkgs=(
  caddy wrk                           # the proxy benchmark's peers and load generator (nginx: the test set)
)

pkgs=("${run_pkgs[@]}")
case "$set_name" in
  run) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 run|test|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Mailpit is not a Debian package: the mailpit stack's tests build the real
# one from the Go module proxy (about 35 s) when it is not there yet.
mailpit_module=github.com/axllent/mailpit@v1.33.1
install_mailpit() {
  if [ "$set_name" = run ] || [ -x /usr/local/bin/mailpit ]; then
    return 0
  fi
  if ! command -v go >/dev/null 2>&1; then
    echo "install-deps: go not found; mailpit not installed (with Go: GOBIN=/usr/local/bin go install $mailpit_module)" >&2
    return 0
  fi
  echo "install-deps: installing mailpit ($mailpit_module) into /usr/local/bin"
  if [ -w /usr/local/bin ]; then
    GOBIN=/usr/local/bin go install "$mailpit_module"
  elif command -v sudo >/dev/null 2>&1; then
    sudo env "PATH=$PATH" GOBIN=/usr/local/bin go install "$mailpit_module"
  else
    echo "install-deps: /usr/local/bin is not writable and no sudo; as root run: GOBIN=/usr/local/bin go install $mailpit_module" >&2
    return 1
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  install_mailpit
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: apt-get not found; install these by hand: ${missing[*]}" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install-deps: not root and no sudo; as root run: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# Keep the packages' own services (the system apache2 on port 80) from
# starting: devport runs its own private instances.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod +x "$policy"
  made_policy=1
fi
cleanup() { if [ "$made_policy" = 1 ]; then "${sudo[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq || echo "install-deps: apt-get update failed; trying the cached lists" >&2
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_mailpit
echo "install-deps: done"
