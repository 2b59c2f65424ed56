#!/bin/bash
# STAND-IN for the entrypoint of the official mariadb image (Docker Hub
# "mariadb"), for the devport-test/mariadb:bookworm test image that
# scripts/build-test-images.sh builds from Debian's mariadb-server: no
# registry can be reached on the test machines. It is not the official
# script. It does what devport relies on, with the same environment and the
# same data path:
#
#   - the data lives in /var/lib/mysql; an empty folder is initialised on
#     the first start, an initialised one is used as it is;
#   - MARIADB_ROOT_PASSWORD (or MARIADB_ALLOW_EMPTY_ROOT_PASSWORD) is
#     required for a new database; root@localhost and root@'%' get it;
#   - MARIADB_DATABASE is created, MARIADB_USER@'%' with MARIADB_PASSWORD
#     gets ALL on it; MYSQL_* are accepted for the MARIADB_* names;
#   - the time zone tables are loaded unless MARIADB_INITDB_SKIP_TZINFO;
#   - *.sql and *.sh in /docker-entrypoint-initdb.d run once, after that;
#   - the initialisation runs on a server without networking, so a client
#     that connects over TCP sees the server only once it is complete;
#   - started as root, it hands the data folder to mysql and runs the
#     server as mysql (the official image uses gosu too).
set -eo pipefail
shopt -s nullglob

note() { printf '%s [Note] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$*"; }
fail() { printf '%s [ERROR] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$*" >&2; exit 1; }

# The official image accepts the MySQL names of every variable.
for v in DATABASE USER PASSWORD ROOT_PASSWORD ROOT_HOST; do
	m="MARIADB_$v" y="MYSQL_$v"
	if [ -z "${!m:-}" ] && [ -n "${!y:-}" ]; then
		export "$m=${!y}"
	fi
done
: "${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:=${MYSQL_ALLOW_EMPTY_PASSWORD:-}}"
: "${MARIADB_ROOT_HOST:=%}"

DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock

if [ "${1:0:1}" = '-' ]; then
	set -- mariadbd "$@"
fi
if [ "$1" != mariadbd ] && [ "$1" != mysqld ]; then
	exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
	mkdir -p "$DATADIR" "${SOCKET%/*}"
	chown -R mysql:mysql "$DATADIR" "${SOCKET%/*}"
	note "Switching to dedicated user 'mysql'"
	exec gosu mysql "$BASH_SOURCE" "$@"
fi

# sql_string escapes $1 for a '...' literal: \ and '.
sql_string() {
	local s=${1//\\/\\\\}
	printf '%s' "${s//\'/\\\'}"
}

if [ ! -d "$DATADIR/mysql" ]; then
	if [ -z "${MARIADB_ROOT_PASSWORD:-}" ] && [ -z "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ]; then
		fail "Database is uninitialized and password option is not specified: set MARIADB_ROOT_PASSWORD or MARIADB_ALLOW_EMPTY_ROOT_PASSWORD"
	fi
	if [ "${MARIADB_USER:-}" = root ]; then
		fail "MARIADB_USER=root: root is created by MARIADB_ROOT_PASSWORD"
	fi
	note "Initializing database files"
	mariadb-install-db --datadir="$DATADIR" --auth-root-authentication-method=normal \
		--skip-test-db --skip-name-resolve >/dev/null
	note "Starting temporary server"
	"$@" --skip-networking --socket="$SOCKET" &
	pid=$!
	client=(mariadb --protocol=socket -uroot -hlocalhost --socket="$SOCKET")
	for _ in $(seq 1 60); do
		if MYSQL_PWD='' "${client[@]}" -e 'SELECT 1' >/dev/null 2>&1; then
			break
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			fail "Unable to start the temporary server."
		fi
		sleep 0.5
	done
	if [ -z "${MARIADB_INITDB_SKIP_TZINFO:-}" ]; then
		mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null | MYSQL_PWD='' "${client[@]}" mysql
	fi
	root=$(sql_string "${MARIADB_ROOT_PASSWORD:-}")
	{
		echo "DROP USER IF EXISTS root@'127.0.0.1', root@'::1', ''@'localhost', ''@'$(hostname)';"
		echo "EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\'', @@hostname, '\'');"
		echo "SET PASSWORD FOR 'root'@'localhost' = PASSWORD('$root');"
		if [ "$MARIADB_ROOT_HOST" != localhost ]; then
			echo "CREATE USER 'root'@'$MARIADB_ROOT_HOST' IDENTIFIED BY '$root';"
			echo "GRANT ALL ON *.* TO 'root'@'$MARIADB_ROOT_HOST' WITH GRANT OPTION;"
		fi
		if [ -n "${MARIADB_DATABASE:-}" ]; then
			note "Creating database $MARIADB_DATABASE" >&2
			echo "CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;"
		fi
		if [ -n "${MARIADB_USER:-}" ] && [ -n "${MARIADB_PASSWORD:-}" ]; then
			note "Creating user $MARIADB_USER" >&2
			echo "CREATE USER '$MARIADB_USER'@'%' IDENTIFIED BY '$(sql_string "$MARIADB_PASSWORD")';"
			if [ -n "${MARIADB_DATABASE:-}" ]; then
				echo "GRANT ALL ON \`${MARIADB_DATABASE//_/\\_}\`.* TO '$MARIADB_USER'@'%';"
			fi
		fi
	} | MYSQL_PWD='' "${client[@]}" --binary-mode mysql
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
		*.sql) note "running $f"; MYSQL_PWD=${MARIADB_ROOT_PASSWORD:-} "${client[@]}" ${MARIADB_DATABASE:+"$MARIADB_DATABASE"} <"$f" ;;
		*.sh) note "running $f"; . "$f" ;;
		*) note "ignoring $f" ;;
		esac
	done
	note "Stopping temporary server"
	kill "$pid"
	wait "$pid"
	note "MariaDB init process done. Ready for start up."
fi

exec "$@"
