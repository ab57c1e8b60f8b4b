#!/usr/bin/env bash
# The README's demo, twice in a row (issue 16): `scripts/demo`, `sandbox down`, `scripts/demo`
# again — each run must end in its verified TLS connection (the second one must not find the
# first one's database volume with another root password), and `down` must leave nothing behind.
# In private network and mount namespaces with the sandbox in a temporary directory, so the
# machine's own network and /var/lib are never touched. Needs root.
set -euo pipefail
if [[ -z "${MYSQLOP_PRIVATE_NS:-}" ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "FAIL: needs root (network and mount namespaces)" >&2; exit 1; }
  # The images (the Debian mirror, the operators' build) before the private network: the demo's
  # own image step then finds them built. The machine's image store is shared, as a node's is.
  ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
  "$ROOT/e2e/sandbox/images/build" --licence-ca "$ROOT/build/dev/licence-ca/ca.crt" \
    || { echo "FAIL: the sandbox's images could not be built" >&2; exit 1; }
  exec unshare --mount --net env MYSQLOP_PRIVATE_NS=1 bash "$0" "$@"
fi
mount -t tmpfs demo-twice-run /run
ip link set lo up
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK=$(mktemp -d)
export SANDBOX_IMAGES=${SANDBOX_IMAGES:-/var/lib/mysqlop-sandbox/images}
export SANDBOX_DIR="$WORK/state" SANDBOX_CIDR=10.92.0.0/24 SANDBOX_BRIDGE=sbxd0 HOME="$WORK/home"
# As `sudo scripts/demo` from an unprivileged user (nobody here): sudo says who in SUDO_UID/GID.
export SUDO_UID=65534 SUDO_GID=65534
chmod 0755 "$WORK"
mkdir -p "$WORK/user-home" && chown 65534:65534 "$WORK/user-home"
trap '"$ROOT/e2e/sandbox/sandbox" down > /dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
FAILED=0; fail() { echo "FAIL: $*" >&2; FAILED=1; }

for run in 1 2; do
  echo "[${SECONDS}s] scripts/demo, run $run" >&2
  if ! "$ROOT/scripts/demo" > "$WORK/demo-$run.out" 2>&1; then
    fail "run $run of scripts/demo failed; its output ends:"$'\n'"$(tail -30 "$WORK/demo-$run.out")"
    break
  fi
  OUT=$(cat "$WORK/demo-$run.out")
  grep -qE 'Server version\s+9\.7\.4' <<<"$OUT" || fail "run $run: the demo's server is not MySQL 9.7.4"
  grep -qE 'Ssl_version\s+TLSv1\.3' <<<"$OUT" || fail "run $run: no TLS 1.3 session in the demo's output"
  grep -q 'Verification: OK' <<<"$OUT" || fail "run $run: the server certificate was not verified"
  grep -q 'plain connection refused: ERROR 3159' <<<"$OUT" || fail "run $run: a plain connection was not refused"
  grep -q 'serves TLS only' <<<"$OUT" || fail "run $run: the demo did not finish"
  # What the demo tells its user to do works for that user — the one who ran sudo, not root.
  KC=$(sed -n 's/^ *export KUBECONFIG=//p' <<<"$OUT")
  [[ -n $KC ]] || fail "run $run: the demo printed no KUBECONFIG to use"
  if [[ -n $KC ]] && ! setpriv --reuid "$SUDO_UID" --regid "$SUDO_GID" --clear-groups env KUBECONFIG="$KC" HOME="$WORK/user-home" \
      kubectl get my -A > "$WORK/as-user.out" 2>&1; then
    fail "run $run: 'kubectl get my -A' with the printed KUBECONFIG fails for the user who ran sudo: $(cat "$WORK/as-user.out")"
  fi
  echo "[${SECONDS}s] sandbox down" >&2
  "$ROOT/e2e/sandbox/sandbox" down > /dev/null || fail "run $run: sandbox down failed"
  ip link show "$SANDBOX_BRIDGE" > /dev/null 2>&1 && fail "run $run: the bridge $SANDBOX_BRIDGE is still there after down"
  [[ -z "$(ip netns list)" ]] || fail "run $run: network namespaces left after down: $(ip netns list)"
done
[[ $FAILED -eq 0 ]] && echo PASS
exit $FAILED
