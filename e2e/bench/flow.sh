#!/usr/bin/env bash
# The whole TLS flow, measured (issue 18). Both operators and the sandbox cert-manager run as
# processes against sandbox-apiserver (no kubelet: "converged" = the StatefulSet made after the
# TLS gate and TLSCertificatesReady=True).
#
#   e2e/bench/flow.sh [--n N] [--noise SECRETS] [--idle SECONDS] [--json FILE]
#       --n        TLS MySQLs (default 100; issue 18's full run is 1000)
#       --noise    unrelated Secrets of ~50 KB elsewhere in the cluster, made first (default 0)
#       --idle     seconds of quiet measured after convergence (default 60)
#       --json     append the figures as one JSON line (for docs/performance.md's plot)
#
# Two runs on fresh servers: the floor (the sandbox cert-manager alone issuing the same 3N
# Certificates) and the flow. Printed: time to converge and its ratio to the floor; writes per
# MySQL by operator, verb and resource; Events and status updates per MySQL; peak RSS and CPU
# seconds of every process; writes and CPU while idle; writes after both operators restart on
# the converged cluster; time from SIGTERM to exit of each operator. Figures, not assertions.
# Binaries from BUILD (default build/dev) unless APISERVER, CERT_MANAGER, COMMUNITY, ENTERPRISE say
# otherwise; the licence tool and its CA (LICENSE, LICENCE_CA_DIR) from build/dev. What ships is a
# Release build: BUILD=build/release, configured with build/dev's licence CA
# (docs/performance.md, "How it is measured"). PROFILE=DIR records each process of the flow with `perf record`
# (99 Hz, DWARF call graphs) until convergence: DIR/<process>.perf.data, for `perf report -i`.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
B="${BUILD:-$ROOT/build/dev}"
export APISERVER=${APISERVER:-$B/e2e/sandbox/apiserver/sandbox-apiserver}
CERT_MANAGER=${CERT_MANAGER:-$B/e2e/sandbox/cert-manager/sandbox-cert-manager}
COMMUNITY=${COMMUNITY:-$B/community-operator/community-operator}
ENTERPRISE=${ENTERPRISE:-$B/enterprise-operator/enterprise-operator}
LICENSE=${LICENSE:-$ROOT/build/dev/common/licence/license}
LICENCE_CA_DIR=${LICENCE_CA_DIR:-$ROOT/build/dev/licence-ca}
N=100 NOISE=0 IDLE=60 JSON="" PROFILE=${PROFILE:-}
while [[ $# -gt 0 ]]; do
  case $1 in
    --n) N=$2; shift 2 ;;
    --noise) NOISE=$2; shift 2 ;;
    --idle) IDLE=$2; shift 2 ;;
    --json) JSON=$2; shift 2 ;;
    *) echo "usage: $0 [--n N] [--noise SECRETS] [--idle SECONDS] [--json FILE]" >&2; exit 2 ;;
  esac
done
source "$ROOT/e2e/sandbox/apiserver/tests/lib.sh"
K=/usr/lib/google-cloud-sdk/bin/kubectl.1.33
declare -A PID=()
stop_all() { for p in "${PID[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done; PID=(); }
trap 'stop_all; cleanup' EXIT

now() { date +%s.%N; }
ticks=$(getconf CLK_TCK)
cpu() { awk -v t="$ticks" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }   # user + system seconds
peak_rss() { awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }       # MiB
counters() { api GET /__sandbox/counters; }
# Writes are counted without the Lease: the operators elect a leader as the charts run them, and
# the leader renews its Lease every 2 s whatever else happens.
LEASE=leases.coordination.k8s.io
writes_of() {  # AGENT: writes since the last reset (its Lease aside)
  counters | jq --arg ua "$1" --arg lease "$LEASE" '[.counters[] | select(.userAgent == $ua)
    | select(.verb | IN("create", "update", "patch", "delete", "deletecollection")) | select(.resource != $lease) | .count] | add // 0'
}

fresh_server() {
  stop_all   # the API server of a previous run too
  rm -rf "$WORK/data"
  start_apiserver
  PID[apiserver]=$SERVER_PID
  operator_api demo
  seed_ca demo
  if [[ "$NOISE" -gt 0 ]]; then   # Helm-release-sized Secrets the operators have no business with
    "$K" create namespace noise > /dev/null
    head -c 37000 /dev/urandom | base64 -w0 > "$WORK/blob"
    for i in $(seq 1 "$NOISE"); do
      printf '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"sh.helm.release.v1.app%s.v1","namespace":"noise","labels":{"owner":"helm"}},"type":"helm.sh/release.v1","data":{"release":"%s"}}\n' "$i" "$(cat "$WORK/blob")"
    done | "$K" apply -f - > /dev/null
  fi
  "$CERT_MANAGER" --kubeconfig "$KUBECONFIG" 2> "$WORK/cert-manager.log" & PID[cert-manager]=$!
}
issuer_ready() { [[ "$("$K" get issuer mysql-ca -n demo -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]; }
start_operators() {
  "$COMMUNITY" --kubeconfig "$KUBECONFIG" --leader-elect --metrics-bind-address 0 --health-probe-bind-address 0 2>> "$WORK/community.log" &
  PID[community]=$!
  "$ENTERPRISE" --kubeconfig "$KUBECONFIG" --leader-elect --license-file "$WORK/license.pem" --metrics-bind-address 0 \
    --health-probe-bind-address 0 2>> "$WORK/enterprise.log" &
  PID[enterprise]=$!
}
# Polling lists every Certificate or MySQL: at 1,000 each poll is 2,000-3,000 objects serialized by
# the API server, so polls come every N/200 seconds (at least 1) — in both runs alike.
POLL=$(( N / 200 > 1 ? N / 200 : 1 ))
wait_until() {  # wait_until SECONDS CMD...: until CMD succeeds (polled every $POLL seconds)
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@"; do [[ $(date +%s) -lt $deadline ]] || return 1; sleep "$POLL"; done
}
ready_certificates() {
  "$K" get certificates -n demo -o json | jq '[.items[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length'
}
converged() {
  "$K" get my,sts -n demo -o json | jq '([.items[] | select(.kind == "StatefulSet") | .metadata.name]) as $sts
    | [.items[] | select(.kind == "MySQL") | select(.metadata.name as $n | $sts | index($n))
       | select(any(.status.conditions[]?; .type == "TLSCertificatesReady" and .status == "True"))] | length'
}
apply_in_chunks() { split -l 2000 - "$WORK/chunk."; for f in "$WORK"/chunk.*; do "$K" apply -f "$f" > /dev/null; rm "$f"; done; }

# --- the floor: cert-manager alone, the same 3N Certificates -----------------------------------
fresh_server
for i in $(seq 1 "$N"); do
  for alias in server client metrics-exporter; do
    printf '{"apiVersion":"cert-manager.io/v1","kind":"Certificate","metadata":{"name":"db%s-%s-cert","namespace":"demo"},"spec":{"secretName":"db%s-%s-cert","issuerRef":{"name":"mysql-ca","kind":"Issuer","group":"cert-manager.io"},"commonName":"db%s.demo.svc","dnsNames":["db%s.demo.svc","*.db%s-pods.demo.svc"],"usages":["digital signature","key encipherment","server auth","client auth"]}}\n' \
      "$i" "$alias" "$i" "$alias" "$i" "$i" "$i"
  done
done > "$WORK/certs.jsonl"
wait_until 300 issuer_ready
T0=$(now)
apply_in_chunks < "$WORK/certs.jsonl"
certs_issued() { [[ "$(ready_certificates)" -eq $((3 * N)) ]]; }
wait_until 3600 certs_issued
FLOOR=$(echo "$(now) - $T0" | bc)
FLOOR_CM_CPU=$(cpu "${PID[cert-manager]}")

# --- the flow ------------------------------------------------------------------------------
fresh_server
CLUSTER=$("$K" get namespace kube-system -o jsonpath='{.metadata.uid}')
"$LICENSE" issue --ca-cert "$LICENCE_CA_DIR/ca.crt" --ca-key "$LICENCE_CA_DIR/ca.key" --cluster-id "$CLUSTER" \
  --licensee bench --days 30 > "$WORK/license.pem"
start_operators
wait_until 60 grep -q '"starting workers"' "$WORK/enterprise.log"
api DELETE /__sandbox/counters > /dev/null
for i in $(seq 1 "$N"); do
  printf '{"apiVersion":"kubedb.com/v1","kind":"MySQL","metadata":{"name":"db%s","namespace":"demo"},"spec":{"version":"8.4.3","storageType":"Ephemeral","requireSSL":true,"deletionPolicy":"WipeOut","tls":{"issuerRef":{"kind":"Issuer","name":"mysql-ca"}}}}\n' "$i"
done > "$WORK/mysqls.jsonl"
wait_until 300 issuer_ready
declare -A PERF=()
if [[ -n "$PROFILE" ]]; then
  mkdir -p "$PROFILE"
  for p in community enterprise cert-manager apiserver; do
    perf record -F 99 --call-graph dwarf,16384 -o "$PROFILE/$p.perf.data" -p "${PID[$p]}" 2> "$PROFILE/$p.perf.log" &
    PERF[$p]=$!
  done
fi
T0=$(now)
apply_in_chunks < "$WORK/mysqls.jsonl"
all_converged() { [[ "$(converged)" -eq "$N" ]]; }
wait_until 7200 all_converged
FLOW=$(echo "$(now) - $T0" | bc)
for p in "${PERF[@]}"; do kill -INT "$p"; wait "$p" || true; done
sleep 5   # what follows convergence (the last status writes) belongs to the run
counters > "$WORK/run-counters.json"
"$K" get events -n demo -o json > "$WORK/run-events.json"
declare -A RSS CPU
for p in community enterprise cert-manager apiserver; do RSS[$p]=$(peak_rss "${PID[$p]}"); CPU[$p]=$(cpu "${PID[$p]}"); done

# --- idle, restart, shutdown -----------------------------------------------------------------
api DELETE /__sandbox/counters > /dev/null
declare -A CPU0
for p in community enterprise apiserver; do CPU0[$p]=$(cpu "${PID[$p]}"); done
sleep "$IDLE"
IDLE_CW=$(writes_of community-operator); IDLE_EW=$(writes_of enterprise-operator)
counters > "$WORK/idle-counters.json"
declare -A IDLE_CPU
for p in community enterprise apiserver; do IDLE_CPU[$p]=$(echo "$(cpu "${PID[$p]}") - ${CPU0[$p]}" | bc); done
declare -A STOP
for p in community enterprise; do
  T0=$(now); kill -TERM "${PID[$p]}"; wait "${PID[$p]}" 2>/dev/null || true
  STOP[$p]=$(echo "$(now) - $T0" | bc); unset "PID[$p]"
done
api DELETE /__sandbox/counters > /dev/null
start_operators
wait_until 120 grep -q '"starting workers"' "$WORK/enterprise.log"
sleep 15
RESTART_CW=$(writes_of community-operator); RESTART_EW=$(writes_of enterprise-operator)
declare -A RESTART_RSS   # a restart lists everything at once: its peak is the other one that counts
for p in community enterprise; do RESTART_RSS[$p]=$(peak_rss "${PID[$p]}"); done

# --- report ----------------------------------------------------------------------------------
per() { echo "scale=2; $1 / $N" | bc; }
by_kind() {  # AGENT: "verb resource: per-MySQL" lines of the run
  jq -r --arg ua "$1" --arg lease "$LEASE" --argjson n "$N" '[.counters[] | select(.userAgent == $ua)
    | select(.verb | IN("create", "update", "patch", "delete")) | select(.resource != $lease)] | sort_by(-.count)[]
    | "    \(.verb) \(.resource): \(.count) (\((.count / $n * 100 | round) / 100) per MySQL)"' "$WORK/run-counters.json"
}
total() { jq --arg ua "$1" --arg lease "$LEASE" '[.counters[] | select(.userAgent == $ua) | select(.verb | IN("create", "update", "patch", "delete")) | select(.resource != $lease) | .count] | add // 0' "$WORK/run-counters.json"; }
count_of() { jq --arg ua "$1" --arg r "$2" --arg v "$3" '[.counters[] | select(.userAgent == $ua and .resource == $r and .verb == $v) | .count] | add // 0' "$WORK/run-counters.json"; }
events_by_reason() {  # every Event of the run, by source, type and reason (count = occurrences)
  jq -r --argjson n "$N" '[.items[] | {k: "\(.source.component // .reportingController) \(.type) \(.reason)", c: (.count // 1)}]
    | group_by(.k)[] | {k: .[0].k, c: (map(.c) | add)} | "    \(.k): \(.c) (\((.c / $n * 100 | round) / 100) per MySQL)"' "$WORK/run-events.json"
}
idle_by_kind() {
  jq -r --arg lease "$LEASE" '[.counters[] | select(.verb | IN("create", "update", "patch", "delete")) | select(.resource != $lease) | select(.userAgent | endswith("-operator"))][]
    | "    \(.userAgent) \(.verb) \(.resource): \(.count)"' "$WORK/idle-counters.json"
}
CW=$(total community-operator); EW=$(total enterprise-operator)
EVENTS=$(( $(count_of community-operator events create) + $(count_of community-operator events patch) + $(count_of enterprise-operator events create) + $(count_of enterprise-operator events patch) ))
STATUS=$(( $(count_of community-operator mysqls.kubedb.com/status update) + $(count_of enterprise-operator mysqls.kubedb.com/status update) ))
RATIO=$(echo "scale=2; $FLOW / $FLOOR" | bc)
cat <<EOF
flow benchmark: $N TLS MySQLs$( [[ $NOISE -gt 0 ]] && echo ", $NOISE unrelated 50 KB Secrets" )
  time to converge     $(printf '%.1f' "$FLOW") s; floor (cert-manager alone, $((3 * N)) Certificates) $(printf '%.1f' "$FLOOR") s; ratio $RATIO
  writes per MySQL     community $(per "$CW"), enterprise $(per "$EW"); Events $(per "$EVENTS"), status updates $(per "$STATUS")
  community-operator:
$(by_kind community-operator)
  enterprise-operator:
$(by_kind enterprise-operator)
  Events by source, type and reason:
$(events_by_reason)
  peak RSS (MiB)       community ${RSS[community]}, enterprise ${RSS[enterprise]}, cert-manager ${RSS[cert-manager]}, apiserver ${RSS[apiserver]}; after a restart: community ${RESTART_RSS[community]}, enterprise ${RESTART_RSS[enterprise]}
  CPU (s)              community ${CPU[community]}, enterprise ${CPU[enterprise]}, cert-manager ${CPU[cert-manager]} (floor run ${FLOOR_CM_CPU}), apiserver ${CPU[apiserver]}
  idle ${IDLE} s            writes community $IDLE_CW, enterprise $IDLE_EW; CPU community ${IDLE_CPU[community]} s, enterprise ${IDLE_CPU[enterprise]} s, apiserver ${IDLE_CPU[apiserver]} s
$(idle_by_kind)
  after a restart      writes community $RESTART_CW, enterprise $RESTART_EW (15 s after the caches synced)
  SIGTERM to exit      community $(printf '%.2f' "${STOP[community]}") s, enterprise $(printf '%.2f' "${STOP[enterprise]}") s
EOF
if [[ -n "$JSON" ]]; then
  jq -nc --argjson n "$N" --argjson noise "$NOISE" --argjson flow "$FLOW" --argjson floor "$FLOOR" \
    --argjson cw "$CW" --argjson ew "$EW" --argjson events "$EVENTS" --argjson status "$STATUS" \
    --argjson crss "${RSS[community]}" --argjson erss "${RSS[enterprise]}" --argjson arss "${RSS[apiserver]}" \
    --argjson cmrss "${RSS[cert-manager]}" --argjson crrss "${RESTART_RSS[community]}" --argjson errss "${RESTART_RSS[enterprise]}" --argjson ccpu "${CPU[community]}" --argjson ecpu "${CPU[enterprise]}" \
    --argjson acpu "${CPU[apiserver]}" --argjson idlew $((IDLE_CW + IDLE_EW)) --argjson restartw $((RESTART_CW + RESTART_EW)) \
    --argjson cstop "${STOP[community]}" --argjson estop "${STOP[enterprise]}" \
    '{n: $n, noise: $noise, seconds: $flow, floorSeconds: $floor, communityWrites: $cw, enterpriseWrites: $ew,
      events: $events, statusUpdates: $status, rssMiB: {community: $crss, enterprise: $erss, certManager: $cmrss, apiserver: $arss,
      communityAfterRestart: $crrss, enterpriseAfterRestart: $errss},
      cpuSeconds: {community: $ccpu, enterprise: $ecpu, apiserver: $acpu}, idleWrites: $idlew, restartWrites: $restartw,
      stopSeconds: {community: $cstop, enterprise: $estop}}' >> "$JSON"
fi
# Not figures but invariants (the smoke test fails on them): a quiet cluster and a restart cost nothing.
if (( IDLE_CW + IDLE_EW != 0 || RESTART_CW + RESTART_EW != 0 )); then
  echo "FAIL: writes while idle ($((IDLE_CW + IDLE_EW))) or after a restart ($((RESTART_CW + RESTART_EW))) should be 0" >&2
  exit 1
fi
