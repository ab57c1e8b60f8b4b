#!/usr/bin/env bash
# Issue 17's chaos soak, in a CI-friendly size. Two replicas of each operator (leader election,
# short leases) and the sandbox cert-manager run as processes against sandbox-apiserver. First a
# fault-free run: MYSQLS (50) TLS MySQLs in namespace `calm`, timed. Then the same in namespace
# `chaos` while the sandbox answers a share of the operators' requests with 500 or 429, ends
# every watch every few seconds, compacts its history (watches resume into 410 Gone and relist),
# and the operators' leaders are killed with SIGKILL and started again, so that leadership moves.
# Afterwards every MySQL of both namespaces has converged (StatefulSet made after the TLS gate,
# TLSCertificatesReady=True); every object exists exactly once, with exactly the owner it
# should have (one controller reference to its MySQL's current uid); nothing is orphaned; every
# Warning Event is explained by an injected fault; a converged cluster costs no write. The
# figures (time against the fault-free run, requests) are printed; docs/reliability.md has them.
source "$(dirname "$0")/../sandbox/apiserver/tests/lib.sh"
: "${CERT_MANAGER:?}" "${COMMUNITY:?}" "${ENTERPRISE:?}" "${LICENSE:?}" "${LICENCE_CA_DIR:?}"
K=/usr/lib/google-cloud-sdk/bin/kubectl.1.33
N=${MYSQLS:-50}
CHAOS=${CHAOS_SECONDS:-45}
declare -A PID=()
OTHER_PIDS=()
stop_all() {
  for p in "${PID[@]}" "${OTHER_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  PID=(); OTHER_PIDS=()
}
trap 'stop_all; cleanup' EXIT

start_apiserver
operator_api calm chaos
for ns in calm chaos; do seed_ca "$ns"; done
CLUSTER=$("$K" get namespace kube-system -o jsonpath='{.metadata.uid}')
"$LICENSE" issue --ca-cert "$LICENCE_CA_DIR/ca.crt" --ca-key "$LICENCE_CA_DIR/ca.key" --cluster-id "$CLUSTER" \
  --licensee chaos --days 30 > "$WORK/license.pem"
"$CERT_MANAGER" --kubeconfig "$KUBECONFIG" 2> "$WORK/cert-manager.log" & OTHER_PIDS+=($!)
# A user makes the MySQLs once the Issuer is Ready (before, IssuerNotReady is a fair Warning).
for ns in calm chaos; do "$K" wait --for=condition=Ready issuer/mysql-ca -n "$ns" --timeout=30s > /dev/null; done

LEASE=(--leader-elect --leader-elect-lease-duration 4s --leader-elect-renew-deadline 3s --leader-elect-retry-period 1s)
start() {  # start SLOT: community-a|b, enterprise-a|b (as a Deployment would, again after a kill)
  local bin=$COMMUNITY extra=(--health-check-interval 5)
  [[ $1 == enterprise-* ]] && { bin=$ENTERPRISE; extra=(--license-file "$WORK/license.pem"); }
  "$bin" --kubeconfig "$KUBECONFIG" "${LEASE[@]}" "${extra[@]}" --metrics-bind-address 0 --health-probe-bind-address 0 \
    2>> "$WORK/$1.log" &
  PID[$1]=$!
}
for s in community-a community-b enterprise-a enterprise-b; do start "$s"; done

mysqls() {  # mysqls NS FROM TO
  for i in $(seq "$2" "$3"); do
    printf 'apiVersion: kubedb.com/v1\nkind: MySQL\nmetadata: {name: db%s, namespace: %s}\nspec:\n  version: "8.4.3"\n  storageType: Ephemeral\n  requireSSL: true\n  deletionPolicy: WipeOut\n  tls: {issuerRef: {kind: Issuer, name: mysql-ca}}\n---\n' "$i" "$1"
  done
}
converged() {  # converged NS: how many MySQLs have their StatefulSet and TLSCertificatesReady=True
  "$K" get my,sts -n "$1" -o json | jq '[.items[] | select(.kind == "MySQL")] as $my
    | ([.items[] | select(.kind == "StatefulSet") | .metadata.name]) as $sts
    | [$my[] | select(.metadata.name as $n | $sts | index($n))
             | select(any(.status.conditions[]?; .type == "TLSCertificatesReady" and .status == "True"))] | length'
}
requests() {  # requests AGENT [writes]: what the server counted from that agent since the last reset
  api GET /__sandbox/counters | jq --arg ua "$1" --arg w "${2:-}" '[.counters[] | select(.userAgent == $ua)
    | select($w == "" or (.verb | IN("create", "update", "patch", "delete", "deletecollection"))) | .count] | add // 0'
}
holder() { "$K" get lease "$1-operator-leader" -n default -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true; }
create_in_batches() {  # NS: N MySQLs, ten every two seconds
  for from in $(seq 1 10 "$N"); do
    mysqls "$1" "$from" $((from + 9 > N ? N : from + 9)) | "$K" apply -f - > /dev/null
    sleep 2
  done
}

# --- the fault-free run ------------------------------------------------------------------------
for _ in $(seq 1 100); do [[ -n "$(holder community)" && -n "$(holder enterprise)" ]] && break; sleep 0.1; done
api DELETE /__sandbox/counters > /dev/null
T0=$(date +%s.%N)
create_in_batches calm
for _ in $(seq 1 3000); do [[ "$(converged calm)" == "$N" ]] && break; sleep 0.1; done
CALM_SECONDS=$(echo "$(date +%s.%N) - $T0" | bc)
expect "^$N\$" converged calm
CALM_C=$(requests community-operator); CALM_E=$(requests enterprise-operator)
CALM_CW=$(requests community-operator writes); CALM_EW=$(requests enterprise-operator writes)

# --- the same under chaos ----------------------------------------------------------------------
api DELETE /__sandbox/counters > /dev/null
for agent in community-operator enterprise-operator; do
  api POST /__sandbox/faults "{\"userAgent\": \"$agent\", \"code\": 500, \"percent\": 5, \"count\": 1000000}" > /dev/null
  api POST /__sandbox/faults "{\"userAgent\": \"$agent\", \"code\": 429, \"retryAfter\": 1, \"percent\": 5, \"count\": 1000000}" > /dev/null
done
T0=$(date +%s.%N)
create_in_batches chaos &
CREATOR=$!
KILLS=0 DROPS=0 COMPACTS=0
declare -A HOLDERS=([community]="$(holder community)" [enterprise]="$(holder enterprise)")
for tick in $(seq 1 "$CHAOS"); do
  sleep 1
  if (( tick % 3 == 0 )); then api POST /__sandbox/drop-watches > /dev/null; DROPS=$((DROPS + 1)); fi
  if (( tick % 7 == 0 )); then api POST /__sandbox/compact > /dev/null; COMPACTS=$((COMPACTS + 1)); fi
  if (( tick % 8 == 0 )); then
    # Kill the leader of one operator (alternately), -9, and start it again a second later.
    op=$([[ $(( (tick / 8) % 2 )) == 1 ]] && echo community || echo enterprise)
    h=$(holder "$op"); leader_pid=$(cut -d_ -f2 <<<"$h")
    for s in "$op-a" "$op-b"; do
      if [[ "${PID[$s]}" == "$leader_pid" ]]; then
        # A leader may have ended on its own a moment ago (a lease lost to the faults: it exits,
        # as it should); say how it ended, and start it again all the same.
        if ! kill -KILL "$leader_pid" 2>/dev/null; then
          echo "  $s (pid $leader_pid) had already exited: $(grep -v '"level":"debug"' "$WORK/$s.log" | tail -2)" >&2
        fi
        wait "$leader_pid" 2>/dev/null || true
        KILLS=$((KILLS + 1))
        sleep 1
        start "$s"
      fi
    done
  fi
  for op in community enterprise; do
    h=$(holder "$op"); [[ -n "$h" && " ${HOLDERS[$op]} " != *" $h "* ]] && HOLDERS[$op]="${HOLDERS[$op]} $h"
  done
done
wait "$CREATOR"
api DELETE /__sandbox/faults > /dev/null
for _ in $(seq 1 3000); do [[ "$(converged chaos)" == "$N" ]] && break; sleep 0.1; done
CHAOS_TOTAL=$(echo "$(date +%s.%N) - $T0" | bc)
expect "^$N\$" converged chaos
expect "^$N\$" converged calm
CH_C=$(requests community-operator); CH_E=$(requests enterprise-operator)
CH_CW=$(requests community-operator writes); CH_EW=$(requests enterprise-operator writes)

# --- what is left: every object once, with its one owner; no orphan; explained Warnings --------
for op in community enterprise; do
  MOVES=$(wc -w <<<"${HOLDERS[$op]}")
  [[ "$MOVES" -ge 2 ]] || fail "the $op operator's leadership never moved (holders: ${HOLDERS[$op]})"
done
[[ "$KILLS" -ge 4 ]] || fail "only $KILLS leaders were killed"
for ns in calm chaos; do
  "$K" get my,sts,svc,sa,role,rolebinding,certificate,secret -n "$ns" -o json > "$WORK/$ns.json"
  # Per MySQL: the StatefulSet, two Services, ServiceAccount, Role, RoleBinding, three Certificates,
  # the auth Secret, three TLS Secrets, the exporter configuration, the trust bundle and the issuer
  # CA — and nothing else (the last two with their one controller owner, the MySQL).
  SUMMARY=$(jq -r '
    ([.items[] | select(.kind == "MySQL") | {(.metadata.name): .metadata.uid}] | add) as $uid
    | [.items[] | select(.kind != "MySQL" and .kind != "Issuer")
       | select(.metadata.name != "default" and .metadata.name != "mysql-ca" and .metadata.name != "kube-root-ca.crt")
       | (.metadata.labels["app.kubernetes.io/instance"] // "?") as $db
       | ([.metadata.ownerReferences[]? | select(.controller == true)]) as $ctl
       | ([.metadata.ownerReferences[]?]) as $all
       | {kind, name: .metadata.name, db: $db,
          ok: (if .kind == "Secret" and (.metadata.name | endswith("-auth")) then ($all | length) == 0
               elif .kind == "Secret" and (.metadata.name | test("-(server|client|metrics-exporter)-cert$")) then
                 ($all | length) == 1 and $all[0].uid == $uid[$db] and ($all[0].controller | not)
               else ($ctl | length) == 1 and ($all | length) == 1 and $ctl[0].uid == $uid[$db] and $ctl[0].kind == "MySQL" end)}]
    | {count: (group_by(.kind) | map({(.[0].kind): length}) | add),
       wrong: [.[] | select(.ok | not) | "\(.kind)/\(.name)"]}' "$WORK/$ns.json")
  WANT=$(jq -nc --argjson n "$N" '{Certificate: (3 * $n), Role: $n, RoleBinding: $n, Secret: (7 * $n), Service: (2 * $n),
                                   ServiceAccount: $n, StatefulSet: $n}')
  expect "^$WANT\$" jq -c '.count' <<<"$SUMMARY"
  expect '^\[\]$' jq -c '.wrong' <<<"$SUMMARY"
done
# Warning Events: each must be explained by an injected fault (no pod is ever ready here — no
# kubelet — and a database whose pods are not ready is pending, not a Warning).
"$K" get events -A --field-selector type=Warning -o json \
  | jq -r '.items[] | "\(.involvedObject.namespace)/\(.involvedObject.name) \(.reason): \(.message)"' > "$WORK/warnings"
WARNINGS=$(wc -l < "$WORK/warnings")
FAULTS=$(grep -c 'injected fault' "$WORK/warnings" || true)
UNEXPLAINED=$(grep -vc 'injected fault' "$WORK/warnings" || true)
[[ "$UNEXPLAINED" == 0 ]] || fail "$UNEXPLAINED Warning Events unexplained: $(grep -v 'injected fault' "$WORK/warnings" | sort | uniq -c | sort -rn | head -5)"
# Converged: once the health checker has looked at every database, a quiet cluster costs no write
# (the Leases' renewals aside: that is leader election, every retry period).
writes_now() {
  api GET /__sandbox/counters | jq '[.counters[] | select(.userAgent | test("-operator$"))
    | select(.resource != "leases.coordination.k8s.io") | select(.verb | IN("create", "update", "patch", "delete")) | .count] | add // 0'
}
IDLE_W=-1
for _ in $(seq 1 12); do
  api DELETE /__sandbox/counters > /dev/null
  sleep 5
  IDLE_W=$(writes_now)
  [[ "$IDLE_W" == 0 ]] && break
done
[[ "$IDLE_W" == 0 ]] || { fail "a converged cluster still cost $IDLE_W writes in 5 s after a minute"; api GET /__sandbox/counters | jq -c '.counters[] | select(.verb != "get" and .verb != "list" and .verb != "watch")' >&2; }

printf 'chaos soak, %s TLS MySQLs per run:\n' "$N"
printf '  fault-free: converged in %.1f s; requests community %s (writes %s), enterprise %s (writes %s)\n' \
  "$CALM_SECONDS" "$CALM_C" "$CALM_CW" "$CALM_E" "$CALM_EW"
printf '  chaos (%s s: 5%% 500s + 5%% 429s, %s watch drops, %s compactions, %s leaders killed -9): converged in %.1f s (%.1fx); requests community %s (writes %s), enterprise %s (writes %s)\n' \
  "$CHAOS" "$DROPS" "$COMPACTS" "$KILLS" "$CHAOS_TOTAL" "$(echo "$CHAOS_TOTAL / $CALM_SECONDS" | bc -l)" "$CH_C" "$CH_CW" "$CH_E" "$CH_EW"
printf '  leaders seen: community %s, enterprise %s; Warning Events %s: %s from injected faults\n' \
  "$(wc -w <<<"${HOLDERS[community]}")" "$(wc -w <<<"${HOLDERS[enterprise]}")" "$WARNINGS" "$FAULTS"

if [[ $FAILED -ne 0 ]]; then
  for l in community-a community-b enterprise-a enterprise-b cert-manager; do
    echo "--- $l log (errors, tail)" >&2; grep -v '"level":"info"' "$WORK/$l.log" | tail -8 >&2
  done
fi
finish
