#!/bin/bash
# The entrypoint of the sandbox's mysql:<version> image (Oracle MySQL from Debian's packages),
# behaving as the official image's does for what mysqlop's StatefulSet uses:
#   - arguments that start with '-' are mysqld's (`docker-entrypoint.sh --ssl-ca=…` runs mysqld);
#     any other command runs as given;
#   - an empty data directory is initialised once (mysqld --initialize-insecure), a private
#     server on the socket only sets the root password from MYSQL_ROOT_PASSWORD (for the user
#     MYSQL_ROOT_USERNAME, default root — KubeDB's variable) at 'localhost' and at
#     MYSQL_ROOT_HOST (default '%'), then stops;
#   - then, still on that private server, the files of /docker-entrypoint-initdb.d run in name
#     order (spec.init.script): *.sh are run (sourced when not executable), *.sql and
#     *.sql.gz|bz2|xz|zst are fed to the mysql client as the root user; anything else is ignored,
#     saying so; a failing file fails the start (the data directory is then left half-made, as
#     the official image leaves it: delete the volume to start again);
#   - mysqld then runs in the foreground as user mysql with the container's arguments.
# The password reaches the server on the client's standard input, never in arguments.
set -euo pipefail
log() { printf '%s [Note] [Entrypoint]: %s\n' "$(date -u +%FT%T.%6NZ)" "$*" >&2; }
die() { printf '%s [ERROR] [Entrypoint]: %s\n' "$(date -u +%FT%T.%6NZ)" "$*" >&2; exit 1; }

# The files of /docker-entrypoint-initdb.d, in name order, against the private server.
run_init_files() {
  local user=$1 socket=$2 f
  sql() { MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql --no-defaults --socket="$socket" -u"$user" --comments; }
  shopt -s nullglob
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh)
        if [[ -x "$f" ]]; then log "$0: running $f"; "$f" || die "$f failed"
        else log "$0: sourcing $f"; . "$f"; fi ;;
      *.sql) log "$0: running $f"; sql < "$f" || die "$f failed" ;;
      *.sql.gz) log "$0: running $f"; gzip -dc "$f" | sql || die "$f failed" ;;
      *.sql.bz2) log "$0: running $f"; bzip2 -dc "$f" | sql || die "$f failed" ;;
      *.sql.xz) log "$0: running $f"; xz -dc "$f" | sql || die "$f failed" ;;
      *.sql.zst) log "$0: running $f"; zstd -dc "$f" | sql || die "$f failed" ;;
      *) log "$0: ignoring $f" ;;
    esac
  done
  shopt -u nullglob
}

if [[ "${1:-}" == -* ]]; then set -- mysqld "$@"; fi
[[ "${1:-}" == mysqld ]] || exec "$@"
shift

datadir=/var/lib/mysql
for a in "$@"; do [[ "$a" == --datadir=* ]] && datadir=${a#--datadir=}; done
user_args=()
[[ $(id -u) -eq 0 ]] && user_args=(--user=mysql)
mkdir -p /var/run/mysqld "$datadir"
if [[ $(id -u) -eq 0 ]]; then
  chown mysql:mysql /var/run/mysqld
  # A new volume is root's: the server's user takes it (as the official image does).
  [[ "$(stat -c %U "$datadir")" == mysql ]] || chown -R mysql:mysql "$datadir"
fi

if [[ ! -d "$datadir/mysql" ]]; then
  : "${MYSQL_ROOT_PASSWORD:?is not set: the database is uninitialized and a root password is required (MYSQL_ROOT_PASSWORD)}"
  log "Initializing database files in $datadir"
  find "$datadir" -mindepth 1 -maxdepth 1 -name 'lost+found' -exec rm -rf {} +
  mysqld "${user_args[@]}" "$@" --initialize-insecure --default-time-zone=SYSTEM
  log "Database files initialized"
  # The private server listens on the usual socket only, so init scripts' own `mysql` calls reach it.
  socket=/var/run/mysqld/mysqld.sock
  mysqld "${user_args[@]}" "$@" --skip-networking --mysqlx=OFF --default-time-zone=SYSTEM --socket="$socket" \
    --pid-file=/var/run/mysqld/init.pid &
  pid=$!
  for _ in $(seq 1 300); do
    mysqladmin --no-defaults --socket="$socket" -uroot ping > /dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || die "the temporary server exited during initialization"
    sleep 0.1
  done
  log "Temporary server started"
  user=${MYSQL_ROOT_USERNAME:-root} host=${MYSQL_ROOT_HOST:-%}
  q() { local s=${1//\\/\\\\}; printf '%s' "${s//\'/\\\'}"; }
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    if [[ "$user" == root ]]; then
      echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$(q "$MYSQL_ROOT_PASSWORD")';"
    else
      echo "CREATE USER '$(q "$user")'@'localhost' IDENTIFIED BY '$(q "$MYSQL_ROOT_PASSWORD")';"
      echo "GRANT ALL ON *.* TO '$(q "$user")'@'localhost' WITH GRANT OPTION;"
    fi
    if [[ "$host" != localhost ]]; then
      echo "CREATE USER '$(q "$user")'@'$(q "$host")' IDENTIFIED BY '$(q "$MYSQL_ROOT_PASSWORD")';"
      echo "GRANT ALL ON *.* TO '$(q "$user")'@'$(q "$host")' WITH GRANT OPTION;"
    fi
  } | mysql --no-defaults --socket="$socket" -uroot
  run_init_files "$user" "$socket"
  echo "SHUTDOWN;" | MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql --no-defaults --socket="$socket" -u"$user"
  wait "$pid" || die "the temporary server did not stop cleanly"
  log "MySQL init process done. Ready for start up."
fi
exec mysqld "${user_args[@]}" "$@"
