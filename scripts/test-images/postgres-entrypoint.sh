#!/bin/bash
# STAND-IN for the entrypoint of the official postgres image (Docker Hub
# "postgres"), for the devport-test/postgres:bookworm test image that
# scripts/build-test-images.sh builds from Debian's postgresql: no registry
# can be reached on the test machines. It is not the official script. It
# does what devport relies on, with the same environment and the same data
# path:
#
#   - the cluster lives in $PGDATA (/var/lib/postgresql/data); an empty
#     folder is initialised with initdb on the first start, one with
#     PG_VERSION is used as it is;
#   - POSTGRES_USER (default postgres) is the superuser, with
#     POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust);
#     POSTGRES_DB (default: the user's name) is created;
#   - socket and loopback connections are trusted (initdb's default), TCP
#     ones from anywhere else need the password (scram-sha-256), and the
#     server listens on every address;
#   - *.sql and *.sh in /docker-entrypoint-initdb.d run once;
#   - the initialisation runs on a server without TCP, so a client that
#     connects over TCP sees the server only once it is complete;
#   - started as root, it runs postgres as the postgres user (gosu).
set -Eeo pipefail
shopt -s nullglob

: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
export PGDATA

if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
	exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chmod 00700 "$PGDATA"
	chmod 03775 /var/run/postgresql
	chown -R postgres:postgres "$PGDATA" /var/run/postgresql
	exec gosu postgres "$BASH_SOURCE" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		echo "Error: Database is uninitialized and superuser password is not specified: set POSTGRES_PASSWORD" >&2
		exit 1
	fi
	# initdb's own defaults, as in the official image: trust on the socket
	# and on the container's loopback, the password from anywhere else.
	initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") ${POSTGRES_INITDB_ARGS:-}
	printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
	printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

	export PGPASSWORD="${POSTGRES_PASSWORD:-}"
	pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
	psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
	exists=$("${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<<"SELECT 1 FROM pg_database WHERE datname = :'db';")
	if [ -z "$exists" ]; then
		"${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
	fi
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
		*.sql) echo "$0: running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
		*.sh) echo "$0: running $f"; . "$f" ;;
		*) echo "$0: ignoring $f" ;;
		esac
	done
	pg_ctl -D "$PGDATA" -m fast -w stop
	unset PGPASSWORD
	echo
	echo 'PostgreSQL init process complete; ready for start up.'
	echo
else
	echo
	echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
	echo
fi

exec "$@"
