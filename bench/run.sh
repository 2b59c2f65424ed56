#!/usr/bin/env bash
# bench/run.sh: nginx, Caddy and devport's proxy side by side, on loopback.
#
# One origin (an nginx instance of its own, plain HTTP, serving a 1 KiB
# body) sits behind three TLS-terminating proxies: nginx, Caddy and
# devport's proxy package (bench/devport-proxy). wrk drives each over HTTPS
# keep-alive at 1 and at 64 connections and the script prints req/s, p50
# and p99 for each, with devport/nginx and devport/caddy ratios from the
# same run. Then the same for a 1 MiB static file served by each proxy
# itself.
#
# Everything binds 127.0.0.1 only, every run is bounded (DURATION), and
# every process started here is stopped on exit.
#
# Environment: DURATION (default 8s per wrk run), CONNS (default "1 64"),
# WARMUP (default 2s), KEEP=1 keeps the work folder, ACCESS_LOG=1 turns on
# devport's access log (nginx's and Caddy's stay off), PPROF=127.0.0.1:6060
# serves net/http/pprof from devport's proxy while it runs.
set -euo pipefail

DURATION=${DURATION:-8s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-"1 64"}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

for bin in nginx caddy wrk openssl go; do
	command -v "$bin" >/dev/null || { echo "run.sh: $bin is missing; run: bash scripts/install-deps.sh bench" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/devport-bench.XXXXXX)
chmod 755 "$WORK" # nginx workers run as an unprivileged user when started as root
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	[ "${KEEP:-0}" = 1 ] && echo "work folder kept: $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
ORIGIN_PORT=$(freeport); NGINX_PORT=$(freeport); CADDY_PORT=$(freeport); DEVPORT_PORT=$(freeport); CADDY_ADMIN=$(freeport)

# Content: a 1 KiB body at the origin, a 1 MiB file for the static runs.
mkdir -p "$WORK/origin" "$WORK/static/static" "$WORK/logs"
head -c 1024 /dev/zero | tr '\0' 'a' >"$WORK/origin/index.html"
head -c 1048576 /dev/urandom >"$WORK/static/static/big.bin"
chmod -R a+rX "$WORK/origin" "$WORK/static"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj /CN=bench.test -addext "subjectAltName=DNS:bench.test,IP:127.0.0.1" \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

nginx_conf() { # $1 name, $2 body of the http block
	cat >"$WORK/$1.conf" <<EOF
worker_processes ${3:-auto};
pid $WORK/$1.pid;
error_log $WORK/logs/$1.error.log warn;
daemon off;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/$1-tmp;
    proxy_temp_path $WORK/$1-tmp;
    fastcgi_temp_path $WORK/$1-tmp;
    uwsgi_temp_path $WORK/$1-tmp;
    scgi_temp_path $WORK/$1-tmp;
    include /etc/nginx/mime.types;
    $2
}
EOF
}

nginx_conf origin "server { listen 127.0.0.1:$ORIGIN_PORT; root $WORK/origin; keepalive_requests 100000; }" 1
nginx_conf proxy "
    upstream origin { server 127.0.0.1:$ORIGIN_PORT; keepalive 64; }
    server {
        listen 127.0.0.1:$NGINX_PORT ssl http2;
        ssl_certificate $WORK/cert.pem; ssl_certificate_key $WORK/key.pem;
        keepalive_requests 100000;
        location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\";
                     proxy_set_header Host \$host; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
                     proxy_set_header X-Forwarded-Proto https; }
        location /static/ { root $WORK/static; expires 30d; }
    }"

cat >"$WORK/Caddyfile" <<EOF
{
	admin 127.0.0.1:$CADDY_ADMIN
	auto_https off
	storage file_system $WORK/caddy-data
}
https://127.0.0.1:$CADDY_PORT {
	bind 127.0.0.1
	tls $WORK/cert.pem $WORK/key.pem
	handle /static/* {
		root * $WORK/static
		header Cache-Control "public, max-age=2592000"
		file_server
	}
	handle {
		reverse_proxy 127.0.0.1:$ORIGIN_PORT
	}
}
EOF

echo "building bench/devport-proxy..."
(cd "$ROOT" && go build -o "$WORK/devport-proxy" ./bench/devport-proxy)

start() { # name, command...
	local name=$1; shift
	"$@" >"$WORK/logs/$name.out" 2>&1 &
	PIDS+=($!)
}
start origin nginx -c "$WORK/origin.conf" -p "$WORK"
start nginx nginx -c "$WORK/proxy.conf" -p "$WORK"
start caddy env HOME="$WORK" XDG_DATA_HOME="$WORK" XDG_CONFIG_HOME="$WORK" caddy run --config "$WORK/Caddyfile" --adapter caddyfile
start devport "$WORK/devport-proxy" -listen 127.0.0.1:$DEVPORT_PORT -origin 127.0.0.1:$ORIGIN_PORT \
	-static "$WORK/static/static" -cert "$WORK/cert.pem" -key "$WORK/key.pem" ${PPROF:+-pprof $PPROF} \
	${ACCESS_LOG:+-access-log "$WORK/access"}

wait_up() { # url
	for _ in $(seq 100); do
		curl -sfk -o /dev/null "$1" && return 0
		sleep 0.1
	done
	echo "run.sh: $1 did not come up; logs in $WORK/logs:" >&2
	tail -n 3 "$WORK"/logs/* >&2
	KEEP=1
	exit 1
}
wait_up "http://127.0.0.1:$ORIGIN_PORT/"
for port in $NGINX_PORT $CADDY_PORT $DEVPORT_PORT; do
	wait_up "https://127.0.0.1:$port/"
	wait_up "https://127.0.0.1:$port/static/big.bin"
done

# measure URL CONNS -> "rps p50 p99" (latencies in ms)
measure() {
	local url=$1 c=$2 out
	wrk -t1 -c"$c" -d"$WARMUP" "$url" >/dev/null 2>&1 || true
	out=$(wrk -t1 -c"$c" -d"$DURATION" --latency "$url")
	echo "$out" >>"$WORK/logs/wrk.txt"
	awk '
		function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
		/Requests\/sec/ { rps = $2 }
		/^ +50%/ { p50 = ms($2) }
		/^ +99%/ { p99 = ms($2) }
		END { printf "%.0f %.2f %.2f\n", rps, p50, p99 }' <<<"$out"
}

report() { # title, path
	local title=$1 path=$2
	printf '\n%s (HTTPS keep-alive, wrk -t1, %s per run)\n' "$title" "$DURATION"
	printf '%-6s | %-24s | %-24s | %-24s | %-9s %-9s\n' conns "nginx req/s p50 p99" "caddy req/s p50 p99" "devport req/s p50 p99" "dp/nginx" "dp/caddy"
	for c in $CONNS; do
		read -r n_rps n_50 n_99 < <(measure "https://127.0.0.1:$NGINX_PORT$path" "$c")
		read -r c_rps c_50 c_99 < <(measure "https://127.0.0.1:$CADDY_PORT$path" "$c")
		read -r d_rps d_50 d_99 < <(measure "https://127.0.0.1:$DEVPORT_PORT$path" "$c")
		printf '%-6s | %7s %7sms %6sms | %7s %7sms %6sms | %7s %7sms %6sms | %-9s %-9s\n' "$c" \
			"$n_rps" "$n_50" "$n_99" "$c_rps" "$c_50" "$c_99" "$d_rps" "$d_50" "$d_99" \
			"$(awk -v a="$d_rps" -v b="$n_rps" 'BEGIN { printf "%.2f", b ? a/b : 0 }')" \
			"$(awk -v a="$d_rps" -v b="$c_rps" 'BEGIN { printf "%.2f", b ? a/b : 0 }')"
	done
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "versions: $(nginx -v 2>&1 | cut -d/ -f2), caddy $(caddy version | cut -d' ' -f1), $(go version | cut -d' ' -f3)"
report "Proxied 1 KiB response" /
report "Static 1 MiB file" /static/big.bin
