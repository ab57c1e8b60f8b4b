#!/usr/bin/env bash
# Issue 17: the operators stay polite when the API server pushes back. Both operators (their
# default --kube-api-qps 50 / --kube-api-burst 100) and the sandbox cert-manager run as processes
# against sandbox-apiserver while TLS MySQLs are created; the sandbox then answers every request
# of the operators with 429 and `Retry-After: 0` for a while, and afterwards ends every watch they
# open the moment it is opened. The sandbox's request counters show each operator's rate staying
# bounded in both storms; once they pass, every MySQL converges (StatefulSet made after the TLS
# gate, TLSCertificatesReady=True) with nothing restarted.
# MYSQLS (6) and STORM_SECONDS (10) size it; OPERATOR_FLAGS adds flags to both operators (say
# --kube-api-qps=0, to see what the work queue's backoff alone does).
source "$(dirname "$0")/../sandbox/apiserver/tests/lib.sh"
: "${CERT_MANAGER:?}" "${COMMUNITY:?}" "${ENTERPRISE:?}" "${LICENSE:?}" "${LICENCE_CA_DIR:?}"
K=/usr/lib/google-cloud-sdk/bin/kubectl.1.33
N=${MYSQLS:-6}
STORM=${STORM_SECONDS:-10}
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done; PIDS=(); }
trap 'stop_all; cleanup' EXIT

start_apiserver
operator_api demo
seed_ca demo
CLUSTER=$("$K" get namespace kube-system -o jsonpath='{.metadata.uid}')
"$LICENSE" issue --ca-cert "$LICENCE_CA_DIR/ca.crt" --ca-key "$LICENCE_CA_DIR/ca.key" --cluster-id "$CLUSTER" \
  --licensee storm --days 30 > "$WORK/license.pem"
"$CERT_MANAGER" --kubeconfig "$KUBECONFIG" 2> "$WORK/cert-manager.log" & PIDS+=($!)
"$COMMUNITY" --kubeconfig "$KUBECONFIG" --metrics-bind-address 0 --health-probe-bind-address 0 ${OPERATOR_FLAGS:-} \
  2> "$WORK/community.log" & COMMUNITY_PID=$!; PIDS+=($COMMUNITY_PID)
"$ENTERPRISE" --kubeconfig "$KUBECONFIG" --license-file "$WORK/license.pem" --metrics-bind-address 0 \
  --health-probe-bind-address 0 ${OPERATOR_FLAGS:-} 2> "$WORK/enterprise.log" & ENTERPRISE_PID=$!; PIDS+=($ENTERPRISE_PID)
for _ in $(seq 1 100); do grep -q '"starting workers"' "$WORK/enterprise.log" && break; sleep 0.1; done

mysqls() {  # the TLS MySQLs $1..$2
  for i in $(seq "$1" "$2"); do
    printf 'apiVersion: kubedb.com/v1\nkind: MySQL\nmetadata: {name: db%s, namespace: demo}\nspec:\n  version: "8.4.3"\n  storageType: Ephemeral\n  requireSSL: true\n  deletionPolicy: WipeOut\n  tls: {issuerRef: {kind: Issuer, name: mysql-ca}}\n---\n' "$i"
  done
}
# requests AGENT [VERB]: what the server counted from that operator (all verbs, or one).
requests() {
  api GET /__sandbox/counters | jq --arg ua "$1" --arg verb "${2:-}" \
    '[.counters[] | select(.userAgent == $ua and ($verb == "" or .verb == $verb)) | .count] | add // 0'
}
converged() {  # how many MySQLs have their StatefulSet and TLSCertificatesReady=True
  local sts ready
  sts=$("$K" get sts -n demo -o name | wc -l)
  ready=$("$K" get my -n demo -o json | jq '[.items[] | select(any(.status.conditions[]?; .type == "TLSCertificatesReady" and .status == "True"))] | length')
  echo "$sts $ready"
}
fault() { api POST /__sandbox/faults "$1" > /dev/null; }
converge() {  # waits (up to 3 min: the backoffs of a long storm) until $1 MySQLs have converged
  for _ in $(seq 1 1800); do [[ "$(converged)" == "$1 $1" ]] && break; sleep 0.1; done
  expect "^$1 $1\$" converged
}

# --- a 429 storm with Retry-After: 0, while MySQLs are being provisioned ------------------------
mysqls 1 "$N" | "$K" apply -f - > /dev/null
sleep 1
api DELETE /__sandbox/counters > /dev/null
for agent in community-operator enterprise-operator; do
  fault "{\"userAgent\": \"$agent\", \"code\": 429, \"retryAfter\": 0, \"count\": 1000000}"
done
sleep "$STORM"
C429=$(requests community-operator); E429=$(requests enterprise-operator)
api DELETE /__sandbox/faults > /dev/null
# The client's token bucket allows burst + qps × seconds; the work queue's backoff keeps it far
# lower still. Without either an operator retried as fast as the server answered (thousands).
LIMIT=$((100 + 50 * STORM + 20))
echo "429 storm (${STORM}s, Retry-After: 0): community-operator $C429 requests, enterprise-operator $E429 (bound $LIMIT each)"
[[ "$C429" -le "$LIMIT" ]] || fail "the community operator sent $C429 requests into a ${STORM}s 429 storm (bound $LIMIT)"
[[ "$E429" -le "$LIMIT" ]] || fail "the enterprise operator sent $E429 requests into a ${STORM}s 429 storm (bound $LIMIT)"
[[ "$C429" -gt 0 && "$E429" -gt 0 ]] || fail "the operators should have kept trying during the storm ($C429, $E429)"

T0=$(date +%s)
converge "$N"
echo "after the 429 storm: $N MySQLs converged within $(( $(date +%s) - T0 )) s"

# --- watches that end the moment they open ---------------------------------------------------
api DELETE /__sandbox/counters > /dev/null
for agent in community-operator enterprise-operator; do
  fault "{\"userAgent\": \"$agent\", \"closeWatch\": true, \"count\": 1000000}"
done
api POST /__sandbox/drop-watches > /dev/null   # every informer re-opens its watch into the fault
sleep "$STORM"
for agent in community-operator enterprise-operator; do
  W=$(requests "$agent" watch)
  INFORMERS=$(api GET /__sandbox/counters | jq --arg ua "$agent" '[.counters[] | select(.userAgent == $ua and .verb == "watch") | .resource] | unique | length')
  # Backoff from 0.8 s doubling (with jitter): a handful of attempts per informer in the window;
  # a reflector that re-opened at once would be limited only by the token bucket (≈ 50/s).
  WLIMIT=$((INFORMERS * 8))
  echo "instant watch drops (${STORM}s): $agent opened $W watches over $INFORMERS informers (bound $WLIMIT)"
  [[ "$INFORMERS" -gt 0 ]] || fail "$agent opened no watch during the drops"
  [[ "$W" -le "$WLIMIT" ]] || fail "$agent re-opened $W watches in ${STORM}s over $INFORMERS informers (bound $WLIMIT)"
done
api DELETE /__sandbox/faults > /dev/null

# --- afterwards: everything converges, nothing was restarted ---------------------------------
T0=$(date +%s)
mysqls $((N + 1)) $((N + 2)) | "$K" apply -f - > /dev/null   # made after the watch drops
converge $((N + 2))
echo "after the watch drops: 2 new MySQLs converged within $(( $(date +%s) - T0 )) s"
kill -0 "$COMMUNITY_PID" && kill -0 "$ENTERPRISE_PID" || fail "an operator exited during the storms"
expect '^0$' bash -c "'$K' get certificates -n demo -o json | jq '[.items[] | select((.metadata.ownerReferences // []) | length != 1)] | length'"

if [[ $FAILED -ne 0 ]]; then
  for l in community enterprise cert-manager; do echo "--- $l log (tail)" >&2; tail -15 "$WORK/$l.log" >&2; done
fi
finish
