# Shared by the sandbox-apiserver shell tests: start a private server (port 0, own data dir and
# HOME so kubectl's discovery cache is never shared), run checks, stop it by pid on exit.
#   source lib.sh; start_apiserver [extra flags]; check "what" cmd...; expect "pattern" cmd...
set -euo pipefail

APISERVER=${APISERVER:?path of the sandbox-apiserver binary}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sandbox-test.XXXXXX")
export HOME="$WORK/home"
mkdir -p "$HOME"
SERVER_PID=""
FAILED=0

cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

start_apiserver() {
  "$APISERVER" --data-dir "$WORK/data" "$@" > "$WORK/server.out" 2> "$WORK/server.err" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    [[ -s "$WORK/server.out" ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.err" >&2; echo "sandbox-apiserver exited" >&2; exit 1; }
    sleep 0.05
  done
  export KUBECONFIG="$WORK/data/kubeconfig"
  URL=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$WORK/server.out")
  TOKEN=$(cat "$WORK/data/admin.token")
  [[ -n "$URL" ]] || { echo "no URL from sandbox-apiserver" >&2; exit 1; }
}

# api METHOD PATH [BODY [CONTENT-TYPE]]: a raw request as the admin (a client other than kubectl).
# A POST, PUT or PATCH always carries a body (empty: Content-Length 0), which cpp-httplib needs to
# know the request has ended.
api() {
  local method=$1 path=$2 body=${3:-} ct=${4:-application/json}
  local send=()
  [[ -n "$body" || "$method" =~ ^(POST|PUT|PATCH)$ ]] && send=(-H "Content-Type: $ct" --data-binary "$body")
  curl -sS --cacert "$WORK/data/pki/ca.crt" -H "Authorization: Bearer $TOKEN" -X "$method" "${send[@]}" "$URL$path"
}

fail() { echo "FAIL: $*" >&2; FAILED=1; }

# writes_by AGENT: the writes (create, update, patch, delete, deletecollection) the server counted
# from clients whose User-Agent is AGENT (the server's /__sandbox/counters).
writes_by() {
  api GET /__sandbox/counters | jq --arg ua "$1" \
    '[.counters[] | select(.userAgent == $ua and (.verb | IN("create", "update", "patch", "delete", "deletecollection"))) | .count] | add // 0'
}

# make_ca SUBJECT [STEM]: a CA made with openssl, as a user would, in $WORK/STEM.key and
# $WORK/STEM.crt (STEM: ca).
make_ca() {
  local stem=${2:-ca}
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/$stem.key" -out "$WORK/$stem.crt" -days 30 -subj "$1" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2> /dev/null
}

# operator_api NS... (needs $K): what the operators need of the API — the MySQL, ops request and cert-manager
# CRDs (established), the MySQLVersion catalog, namespace cert-manager — and the namespaces named.
operator_api() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)"
  "$K" apply -f "$root/charts/mysqlop-community/crds" -f "$root/e2e/sandbox/cert-manager/crds" > /dev/null
  "$K" wait --for=condition=Established crd --all --timeout=20s > /dev/null
  "$K" apply -f "$root/charts/mysqlop-community/templates/mysqlversions.yaml" > /dev/null
  local ns
  for ns in cert-manager "$@"; do "$K" create namespace "$ns" > /dev/null; done
}

# seed_ca NS (needs $K, a kubectl): a CA made with openssl, its Secret and an Issuer mysql-ca in NS.
seed_ca() {
  make_ca /CN=mysql-ca
  "$K" create secret tls mysql-ca -n "$1" --cert "$WORK/ca.crt" --key "$WORK/ca.key" > /dev/null
  "$K" apply -f - > /dev/null <<YAML
apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: mysql-ca, namespace: $1}
spec: {ca: {secretName: mysql-ca}}
YAML
}

# expect PATTERN CMD...: runs CMD, requires success and PATTERN (grep -E) in its output.
expect() {
  local pattern=$1; shift
  local out
  if ! out=$("$@" 2>&1); then
    fail "'$*' failed: $out"
    return 0
  fi
  if ! grep -qE -- "$pattern" <<<"$out"; then
    fail "'$*' printed no match for /$pattern/:"$'\n'"$out"
  fi
}

# expect_fail PATTERN CMD...: runs CMD, requires failure and PATTERN in its output.
expect_fail() {
  local pattern=$1; shift
  local out
  if out=$("$@" 2>&1); then
    fail "'$*' succeeded but should have failed: $out"
    return 0
  fi
  grep -qE -- "$pattern" <<<"$out" || fail "'$*' failed without /$pattern/:"$'\n'"$out"
}

# eventually PATTERN CMD...: retries CMD for up to 10 s until PATTERN appears.
eventually() {
  local pattern=$1; shift
  local out=""
  for _ in $(seq 1 100); do
    out=$("$@" 2>&1 || true)
    grep -qE -- "$pattern" <<<"$out" && return 0
    sleep 0.1
  done
  fail "'$*' never printed /$pattern/; last output:"$'\n'"$out"
}

# stop_apiserver: SIGTERM must end the server cleanly (exit 0) within 10 s.
stop_apiserver() {
  kill -TERM "$SERVER_PID"
  for _ in $(seq 1 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    fail "sandbox-apiserver still running 10 s after SIGTERM"
    return 0
  fi
  local rc=0
  wait "$SERVER_PID" || rc=$?
  SERVER_PID=""
  [[ $rc -eq 0 ]] || fail "sandbox-apiserver exited with $rc after SIGTERM"
}

finish() {
  if [[ $FAILED -ne 0 ]]; then
    echo "--- server stderr (tail)" >&2
    tail -20 "$WORK/server.err" >&2 || true
    exit 1
  fi
  echo "PASS"
}
