#!/usr/bin/env bash
# `e2e/sandbox/sandbox up|status|exec|down` (issue 9), in private network and mount namespaces so
# that the machine's own network is never touched: up starts the three parts and a pod runs;
# exec runs a command inside the pod with its mounts, hostname and environment; down stops
# everything and leaves no bridge, namespace or process behind. Needs root.
set -euo pipefail
if [[ -z "${MYSQLOP_PRIVATE_NS:-}" ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "FAIL: needs root (network and mount namespaces)" >&2; exit 1; }
  # The images (from the Debian mirror, before the private network); `up` then finds them built.
  "$(dirname "$0")/../images/build" || { echo "FAIL: the sandbox's images could not be built" >&2; exit 1; }
  exec unshare --mount --net env MYSQLOP_PRIVATE_NS=1 bash "$0" "$@"
fi
mount -t tmpfs sandbox-cli-run /run
ip link set lo up
: "${BUILD:?the build tree}"
SANDBOX="$(cd "$(dirname "$0")/.." && pwd)/sandbox"
WORK=$(mktemp -d)
export SANDBOX_IMAGES=${SANDBOX_IMAGES:-/var/lib/mysqlop-sandbox/images}
export SANDBOX_DIR="$WORK/state" SANDBOX_CIDR=10.94.0.0/24 SANDBOX_BRIDGE=sbxs0 BUILD HOME="$WORK/home"
export KUBECTL=/usr/lib/google-cloud-sdk/bin/kubectl.1.33
trap '"$SANDBOX" down > /dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
FAILED=0; fail() { echo "FAIL: $*" >&2; FAILED=1; }
# The kubeconfig `up` prints: the user's copy of the API server's.
K() { KUBECONFIG="$SANDBOX_DIR/kubeconfig" "$KUBECTL" "$@"; }

OUT=$("$SANDBOX" up 2>&1) || { echo "$OUT" >&2; fail "sandbox up failed"; }
grep -q "export KUBECONFIG=$SANDBOX_DIR/kubeconfig" <<<"$OUT" || fail "up must say which kubeconfig to use: $OUT"
[[ "$("$SANDBOX" kubeconfig)" == "$SANDBOX_DIR/kubeconfig" ]] || fail "sandbox kubeconfig must print the path up printed"
grep -q 'already up' <<<"$("$SANDBOX" up 2>&1)" || fail "a second up must say the sandbox is already up"
ST=$("$SANDBOX" status)
for c in apiserver cert-manager kubelet; do grep -q "^$c: running" <<<"$ST" || fail "status: $c is not running: $ST"; done
K apply -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Secret
metadata: {name: greeting, namespace: default}
stringData: {text: hello}
---
apiVersion: v1
kind: Pod
metadata: {name: box, namespace: default}
spec:
  volumes: [{name: g, secret: {secretName: greeting}}]
  containers:
  - name: main
    image: python:3.11-slim
    env: [{name: WHO, value: sandbox}]
    volumeMounts: [{name: g, mountPath: /etc/greeting}]
    command: [/bin/sh, -c, "sleep 3600"]
YAML
K wait --for=condition=Ready pod/box --timeout=30s > /dev/null || fail "the pod did not become Ready"
GOT=$("$SANDBOX" exec box -- /bin/sh -c 'echo "$(cat /etc/greeting/text) $WHO $(hostname)"' 2>&1)
[[ "$GOT" == "hello sandbox box" ]] || fail "exec: $GOT"
"$SANDBOX" exec nosuchpod -- true > /dev/null 2>&1 && fail "exec into a missing pod must fail"
"$SANDBOX" down > /dev/null || fail "down failed"
ip link show sbxs0 > /dev/null 2>&1 && fail "the bridge survived down"
[[ -z "$(ip netns list)" ]] || fail "namespaces survived down: $(ip netns list)"
for c in apiserver cert-manager kubelet; do [[ -f "$SANDBOX_DIR/$c.pid" ]] && fail "$c still has a pid file"; done
pgrep -f "$SANDBOX_DIR" > /dev/null && fail "a process of the sandbox survived down"
# The next up is a new cluster (the API server keeps objects in memory): no volume of the last
# one may survive into it, or a new database would find an old datadir.
mkdir -p "$SANDBOX_DIR/node/claims/default/data-old-0" && echo stale > "$SANDBOX_DIR/node/claims/default/data-old-0/f"
OUT=$("$SANDBOX" up 2>&1) || { echo "$OUT" >&2; fail "a second sandbox up failed"; }
[[ -e "$SANDBOX_DIR/node/claims/default/data-old-0" ]] && fail "a volume of the last cluster survived into the new one"
K get secret greeting -n default > /dev/null 2>&1 && fail "the new cluster still has the last one's objects"
"$SANDBOX" down > /dev/null || fail "the second down failed"
[[ $FAILED -eq 0 ]] && echo PASS || exit 1
