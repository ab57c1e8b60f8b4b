#!/usr/bin/env bash
# Leader election across processes: two leader_helper processes, exactly one reconciles;
# kill -9 of the leader → the other leads within lease duration + one retry period;
# SIGTERM of a leader → a standby leads within a few seconds. Both processes log it.
#   APISERVER=... HELPER=... leader_election.sh
source "$(dirname "$0")/../../../e2e/sandbox/apiserver/tests/lib.sh"
HELPER=${HELPER:?path of leader_helper}
K=/usr/lib/google-cloud-sdk/bin/kubectl.1.33
start_apiserver
declare -A PIDS

launch() {  # launch ID [ARGS...]
  local id=$1; shift
  "$HELPER" --kubeconfig "$KUBECONFIG" --id "$id" "$@" > "$WORK/$id.log" 2>&1 &
  PIDS[$id]=$!
}
led() { grep -q '"message":"became leader"' "$WORK/$1.log"; }
stamp() { "$K" get configmap "$1" -o 'jsonpath={.metadata.annotations.reconciled-by}' 2>/dev/null || true; }
stop_all() {
  for id in "${!PIDS[@]}"; do kill -TERM "${PIDS[$id]}" 2>/dev/null || true; done
  for id in "${!PIDS[@]}"; do wait "${PIDS[$id]}" 2>/dev/null || true; done
  PIDS=()
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
trap 'stop_all; cleanup' EXIT

launch a
launch b
eventually 'became leader' cat "$WORK/a.log" "$WORK/b.log"
if led a; then LEADER=a; OTHER=b; else LEADER=b; OTHER=a; fi
echo "leader: $LEADER"
"$K" create configmap one --from-literal=x=1 > /dev/null
"$K" label configmap one leader-test=yes > /dev/null
eventually "^$LEADER\$" stamp one
sleep 2
if grep -q '"message":"reconciling"' "$WORK/$OTHER.log"; then fail "the standby $OTHER reconciled"; fi
if led "$OTHER"; then fail "both processes became leader"; fi

# kill -9: no release, so the standby waits out the lease (15 s) plus a retry period (2 s).
start=$(now_ms)
kill -KILL "${PIDS[$LEADER]}"
wait "${PIDS[$LEADER]}" 2>/dev/null || true
unset "PIDS[$LEADER]"
for _ in $(seq 1 250); do led "$OTHER" && break; sleep 0.1; done
took=$(( $(now_ms) - start ))
echo "handover after kill -9: ${took} ms"
led "$OTHER" || fail "$OTHER never became leader after the leader was killed"
(( took <= 19000 )) || fail "handover after kill -9 took ${took} ms (limit 15 s + 2 s retry + slack)"
"$K" create configmap two --from-literal=x=2 > /dev/null
"$K" label configmap two leader-test=yes > /dev/null
eventually "^$OTHER\$" stamp two

# SIGTERM releases the lease: a fresh standby takes over within a few seconds.
launch c
sleep 3
led c && fail "c led while $OTHER held the lease"
start=$(now_ms)
kill -TERM "${PIDS[$OTHER]}"
rc=0; wait "${PIDS[$OTHER]}" || rc=$?
unset "PIDS[$OTHER]"
[[ $rc -eq 0 ]] || fail "$OTHER exited with $rc after SIGTERM"
grep -q '"message":"released the lease"' "$WORK/$OTHER.log" || fail "$OTHER did not log the release"
for _ in $(seq 1 100); do led c && break; sleep 0.1; done
took=$(( $(now_ms) - start ))
echo "handover after SIGTERM: ${took} ms"
led c || fail "c never became leader after SIGTERM of $OTHER"
(( took <= 5000 )) || fail "handover after SIGTERM took ${took} ms"
"$K" create configmap three --from-literal=x=3 > /dev/null
"$K" label configmap three leader-test=yes > /dev/null
eventually '^c$' stamp three

# A release with a Lease of its own (the charts name it after the release) does not lead while a
# pod of an older version still holds the former, fixed name: an upgrade's old and new pods never
# lead at once. Once that pod lets go, it leads; a second release beside it leads too (each under
# its own name: two releases in one namespace no longer share one Lease).
launch d --lease release-one
sleep 4
led d && fail "d led under its own Lease while c still held the former one"
grep -q '"message":"waiting: the former Lease is held' "$WORK/d.log" || fail "d did not say what it waits for"
kill -TERM "${PIDS[c]}"; wait "${PIDS[c]}" 2>/dev/null || true; unset "PIDS[c]"
for _ in $(seq 1 100); do led d && break; sleep 0.1; done
led d || fail "d never led after c let go of the former Lease"
launch e --lease release-two
for _ in $(seq 1 100); do led e && break; sleep 0.1; done
led e || fail "a second release (its own Lease) never led beside the first"
expect '^release-one$' "$K" get lease -n default release-one -o 'jsonpath={.metadata.name}'
stop_all
finish
