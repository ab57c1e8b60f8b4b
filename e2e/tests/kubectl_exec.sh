#!/usr/bin/env bash
# kubectl exec and kubectl cp on the sandbox (issue 16), with the real kubectl 1.33 (WebSocket,
# v5.channel.k8s.io) and 1.27 (SPDY/3.1, v4.channel.k8s.io) against a running pod: stdout and stderr apart, the exit code of a failing
# command, stdin to its end, an interactive TTY under `script` (the terminal's size reaches the
# command), the container's environment, user and directory, files copied out and in with kubectl
# cp, kubectl port-forward to a server on the pod's loopback, and errors for what cannot be run.
# Needs root.
source "$(dirname "$0")/lib.sh" sbxk0 10.91.0.0/24
start_sandbox
"$K" create namespace demo > /dev/null
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Secret
metadata: {name: greeting, namespace: demo}
stringData: {text: hello from a secret}
---
apiVersion: v1
kind: Pod
metadata: {name: box, namespace: demo}
spec:
  volumes: [{name: g, secret: {secretName: greeting}}, {name: work, emptyDir: {}}]
  containers:
  - name: main
    image: python:3.11-slim
    env: [{name: GREETING, value: hi}]
    workingDir: /work
    volumeMounts: [{name: g, mountPath: /etc/greeting}, {name: work, mountPath: /work}]
    command: [/bin/sh, -c, 'echo made-in-pod > /work/made.txt; sleep 3600']
  - name: side
    image: python:3.11-slim
    securityContext: {runAsUser: 65534, runAsGroup: 65534}
    # A server only the pod's own loopback reaches: what port-forward connects to.
    command: [/bin/sh, -c, 'cd /tmp && echo served-from-pod > f.txt && exec python3 -m http.server 9090 --bind 127.0.0.1']
YAML
expect 'condition met' "$K" wait --for=condition=Ready pod/box -n demo --timeout=30s
# Every check with each kubectl: 1.33 speaks WebSocket (v5.channel.k8s.io), 1.27 SPDY/3.1 (v4).
for KV in 1.33 1.27; do
KB=/usr/lib/google-cloud-sdk/bin/kubectl.$KV
X() { "$KB" exec -n demo box -c main "$@"; }

step "kubectl $KV: output, errors and exit codes"
OUT=$(X -- sh -c 'echo to-stdout; echo to-stderr >&2' 2> "$WORK/err")
[[ "$OUT" == to-stdout ]] || fail "stdout: $OUT"
grep -qx to-stderr "$WORK/err" || fail "stderr: $(cat "$WORK/err")"
set +e
X -- sh -c 'exit 7' 2> "$WORK/err"
RC=$?
set -e
[[ $RC == 7 ]] || fail "kubectl exec should exit 7 as the command did, exited $RC: $(cat "$WORK/err")"
grep -q 'command terminated with exit code 7' "$WORK/err" || fail "kubectl should say the exit code: $(cat "$WORK/err")"
expect '^hello from a secret$' X -- cat /etc/greeting/text
expect '^hi /work$' X -- sh -c 'echo $GREETING $(pwd)'
expect '^65534 65534$' "$KB" exec -n demo box -c side -- sh -c 'echo $(id -u) $(id -g)'

step "kubectl $KV: stdin to its end"
expect '^3$' bash -c "printf 'a\nb\nc\n' | '$KB' exec -i -n demo box -c main -- wc -l"
head -c 300000 /dev/urandom > "$WORK/blob"
SUM=$(sha256sum < "$WORK/blob" | cut -d' ' -f1)
expect "^$SUM" bash -c "'$KB' exec -i -n demo box -c main -- sha256sum < '$WORK/blob'"

step "kubectl $KV: an interactive TTY (under script), its size from the client's terminal"
# script gives kubectl a terminal and types what it reads into it.
set +e
OUT=$(printf 'tty; stty size; exit 4\n' | script -qec "stty cols 123 rows 45; '$KB' exec -it -n demo box -c main -- sh" /dev/null)
RC=$?
set -e
[[ $RC == 4 ]] || fail "kubectl exec -it should exit 4 as the shell did, exited $RC: $OUT"
grep -q '/dev/pts/' <<<"$OUT" || fail "no terminal in the container: $OUT"
grep -q '45 123' <<<"$OUT" || fail "the terminal size did not reach the container: $OUT"
set +e
script -qec "'$KB' exec -it -n demo box -c main -- sh -c 'exit 5'" /dev/null > /dev/null
RC=$?
set -e
[[ $RC == 5 ]] || fail "kubectl exec -it should exit 5, exited $RC"

step "kubectl $KV: kubectl cp copies a file out of the pod"
expect '' "$KB" cp demo/box:/work/made.txt "$WORK/made.txt" -c main
[[ "$(cat "$WORK/made.txt" 2>/dev/null)" == made-in-pod ]] || fail "kubectl cp: $(cat "$WORK/made.txt" 2>&1)"
echo into-the-pod > "$WORK/in.txt"
expect '' "$KB" cp "$WORK/in.txt" demo/box:/work/in.txt -c main
expect '^into-the-pod$' X -- cat /work/in.txt

done

step "kubectl port-forward: WebSocket-tunnelled SPDY (1.33) and SPDY (1.27) to a port on the pod's loopback"
for KV in 1.33 1.27; do
  KB=/usr/lib/google-cloud-sdk/bin/kubectl.$KV
  "$KB" port-forward -v=6 -n demo pod/box 19090:9090 > "$WORK/pf.out" 2>&1 &
  PF=$!
  eventually 'Forwarding from 127.0.0.1:19090' cat "$WORK/pf.out"
  eventually '^served-from-pod$' curl -s http://127.0.0.1:19090/f.txt
  # Connections one after another and side by side share the session.
  for _ in 1 2 3; do curl -s -o "$WORK/pf1" http://127.0.0.1:19090/f.txt & curl -s -o "$WORK/pf2" http://127.0.0.1:19090/f.txt; wait $!; done
  [[ "$(cat "$WORK/pf1") $(cat "$WORK/pf2")" == "served-from-pod served-from-pod" ]] || fail "kubectl $KV port-forward: $(cat "$WORK/pf1" "$WORK/pf2")"
  kill "$PF"; wait "$PF" 2>/dev/null || true
  # How it got there: 1.33 over WebSocket (GET) without falling back, 1.27 over SPDY (POST).
  WANT=GET; [[ $KV == 1.27 ]] && WANT=POST
  # (1.27 logs "POST https://…/portforward 101 …", 1.33 verb="GET" url="…/portforward" status="101 …".)
  grep -qE "($WANT https://[^ ]*/pods/box/portforward 101|verb=\"$WANT\" url=\"[^\"]*/pods/box/portforward\" status=\"101)" "$WORK/pf.out" \
    || fail "kubectl $KV port-forward did not upgrade with $WANT: $(grep portforward "$WORK/pf.out")"
  [[ $KV == 1.27 ]] || ! grep -q 'verb="POST"' "$WORK/pf.out" || fail "kubectl 1.33 fell back to SPDY: $(grep portforward "$WORK/pf.out")"
done
# A port nothing listens on: kubectl says what the pod answered (and, from 1.31 on, gives up).
/usr/lib/google-cloud-sdk/bin/kubectl.1.33 port-forward -n demo pod/box 19091:9999 > "$WORK/pf.out" 2>&1 &
PF=$!
eventually 'Forwarding from 127.0.0.1:19091' cat "$WORK/pf.out"
curl -s -m 5 http://127.0.0.1:19091/ > /dev/null || true
eventually 'error forwarding port 9999 to pod: dial tcp4 127.0.0.1:9999: connect: connection refused' cat "$WORK/pf.out"
kill "$PF" 2>/dev/null || true; wait "$PF" 2>/dev/null || true

step "a client that leaves mid-stream ends the command, and the server serves on"
"$K" exec -n demo box -c main -- sh -c 'yes streaming' > /dev/null 2>&1 &
EX=$!
sleep 1
kill -9 "$EX"; wait "$EX" 2>/dev/null || true
expect '^box$' "$K" get pod box -n demo -o 'jsonpath={.metadata.name}'
# The command went with its client (the container keeps running).
eventually '^$' bash -c "ps -eo args | grep -x 'yes streaming' || true"

step "what cannot run says why"
expect_fail 'NotFound|not found' "$K" exec -n demo nosuchpod -- true
expect_fail 'container nope is not valid' "$K" exec -n demo box -c nope -- true
set +e
OUT=$(X -- /no/such/program 2>&1)
RC=$?
set -e
[[ $RC != 0 ]] || fail "a missing program should fail: $OUT"
grep -q 'No such file' <<<"$OUT" || fail "a missing program should say so: $OUT"
finish
