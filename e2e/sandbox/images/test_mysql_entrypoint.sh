#!/usr/bin/env bash
# mysql-entrypoint on its own (no pod): it initialises once, sets the root password from the
# environment, passes the operator's TLS flags to the server, and keeps the data on restart.
# Runs in a private network namespace (port 3306 on its own loopback). Needs root.
set -euo pipefail
if [[ -z "${MYSQLOP_PRIVATE_NS:-}" ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "FAIL: needs root (a private network namespace)" >&2; exit 1; }
  exec unshare --net env MYSQLOP_PRIVATE_NS=1 bash "$0" "$@"
fi
ip link set lo up
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK=$(mktemp -d); PID=""
trap '[[ -n "$PID" ]] && kill -TERM "$PID" 2>/dev/null && wait "$PID"; rm -rf "$WORK"' EXIT
FAILED=0; fail() { echo "FAIL: $*" >&2; FAILED=1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/ca.key" -out "$WORK/ca.crt" -subj /CN=ca \
  -days 2 -addext basicConstraints=critical,CA:TRUE 2> /dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/server.key" -out "$WORK/s.csr" -subj /CN=db 2> /dev/null
openssl x509 -req -in "$WORK/s.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial -days 1 -out "$WORK/server.crt" \
  -extfile <(printf 'subjectAltName=DNS:db,IP:127.0.0.1\n') 2> /dev/null
start() {
  DATADIR="$WORK/data" RUNDIR="$WORK/run" MYSQL_ROOT_PASSWORD="p'w\\x" "$HERE/mysql-entrypoint" \
    --ssl-capath="$WORK" --ssl-ca="$WORK/ca.crt" --ssl-cert="$WORK/server.crt" --ssl-key="$WORK/server.key" \
    --require-secure-transport=ON >> "$WORK/out.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 300); do
    mariadb-admin --no-defaults -h127.0.0.1 -uroot -p"p'w\\x" --ssl --ssl-ca="$WORK/ca.crt" ping > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$WORK/out.log" >&2; fail "the server did not come up"
}
q() { mariadb --no-defaults -h127.0.0.1 -uroot -p"p'w\\x" --ssl-ca="$WORK/ca.crt" --ssl-verify-server-cert -N -e "$1" 2>&1; }
start
[[ "$(q "SHOW STATUS LIKE 'Ssl_version'")" =~ TLSv1\.[23] ]] || fail "TLS not in use: $(q "SHOW STATUS LIKE 'Ssl_version'")"
[[ "$(q "SHOW VARIABLES LIKE 'require_secure_transport'")" == *ON* ]] || fail "require_secure_transport is not ON"
mariadb --no-defaults -h127.0.0.1 -uroot -p"p'w\\x" --skip-ssl -e 'SELECT 1' > /dev/null 2>&1 && fail "a plain connection was accepted"
q "CREATE DATABASE kept" > /dev/null
kill -TERM "$PID"; wait "$PID" || true; PID=""
start   # a restart keeps the data and does not initialise again
[[ "$(q "SHOW DATABASES LIKE 'kept'")" == "kept" ]] || fail "the data did not survive a restart"
[[ $(grep -c 'initialising' "$WORK/out.log") -eq 1 ]] || fail "initialised more than once"
[[ $FAILED -eq 0 ]] && echo PASS || exit 1
