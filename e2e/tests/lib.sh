# Shared by the end-to-end tests: a whole sandbox (node network, sandbox-apiserver on the node
# address, sandbox-kubelet running pods, sandbox-cert-manager) inside private network and mount
# namespaces, stopped by pid on exit. Root only.
#   source lib.sh BRIDGE CIDR     (re-executes the calling script in fresh namespaces first)
#   start_sandbox; install_operators; licence_file; oplog NAME; seed_ca NS; step WHAT
set -euo pipefail
E2E_BRIDGE=$1 E2E_CIDR=$2
if [[ -z "${MYSQLOP_PRIVATE_NS:-}" ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "FAIL: needs root (network and mount namespaces)" >&2; exit 1; }
  # The images the pods run, before the private network namespace (the build reaches the Debian
  # mirror): MySQL 9.7, the exporter, and the operators as scripts/images builds them (cached
  # by content: seconds when nothing changed).
  echo "[${SECONDS}s] images: e2e/sandbox/images/build" >&2
  tags=(); for t in ${E2E_IMAGE_TAGS:-}; do tags+=(--tag "$t"); done   # other names a test's charts use
  "$(dirname "${BASH_SOURCE[0]}")/../sandbox/images/build" --licence-ca "${LICENCE_CA_DIR:?}/ca.crt" "${tags[@]}" \
    || { echo "FAIL: the sandbox's images could not be built" >&2; exit 1; }
  exec unshare --mount --net env MYSQLOP_PRIVATE_NS=1 bash "$0"
fi
mount -t tmpfs e2e-run /run
ip link set lo up
source "$(dirname "${BASH_SOURCE[0]}")/../sandbox/apiserver/tests/lib.sh"
: "${KUBELET:?}" "${COMMUNITY:?}" "${ENTERPRISE:?}" "${CERT_MANAGER:?}" "${LICENSE:?}" "${LICENCE_CA_DIR:?}" "${HELM:?}"
K=/usr/lib/google-cloud-sdk/bin/kubectl.1.33
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
E2E_KUBELET_PID="" E2E_CM_PID=""
stop_sandbox() {
  local pid
  # cert-manager before the kubelet: the kubelet removes the bridge, and with it the node address
  # cert-manager reaches the API server on (its open connections would hold its exit for 30 s).
  for pid in "$E2E_CM_PID" "$E2E_KUBELET_PID"; do
    [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  cleanup
}
trap stop_sandbox EXIT

# start_sandbox: the node network, the apiserver on the node address, the kubelet running pods
# from the image store, cert-manager with its CRDs.
start_sandbox() {
  local node=${E2E_CIDR%.*}.1
  "$KUBELET" net up --bridge "$E2E_BRIDGE" --cidr "$E2E_CIDR" > /dev/null
  start_apiserver --bind "$node" --pod-logs-dir "$WORK/node"
  "$KUBELET" --kubeconfig "$KUBECONFIG" --run-pods --node-dir "$WORK/node" --bridge "$E2E_BRIDGE" --pod-cidr "$E2E_CIDR" \
    --image-store "${SANDBOX_IMAGES:-/var/lib/mysqlop-sandbox/images}" 2> "$WORK/kubelet.log" &
  E2E_KUBELET_PID=$!
  "$K" apply -f "$ROOT/e2e/sandbox/cert-manager/crds" > /dev/null
  "$K" create namespace cert-manager > /dev/null
  "$CERT_MANAGER" --kubeconfig "$KUBECONFIG" 2> "$WORK/cert-manager.log" &
  E2E_CM_PID=$!
}

# licence_file: a licence for this sandbox's cluster ID (kube-system's uid), printed as a path.
licence_file() {
  local cluster
  cluster=$("$K" get namespace kube-system -o jsonpath='{.metadata.uid}')
  "$LICENSE" issue --ca-cert "$LICENCE_CA_DIR/ca.crt" --ca-key "$LICENCE_CA_DIR/ca.key" --cluster-id "$cluster" \
    --licensee sandbox --days 30 > "$WORK/license.pem"
  echo "$WORK/license.pem"
}

# install_operators [HELM ARGS...]: both editions from the umbrella chart with helm, a licence for
# this sandbox and a 1 s health-check interval, in namespace mysqlop (and the values given); waits
# for both rollouts.
install_operators() {
  "$K" create namespace mysqlop > /dev/null
  expect 'STATUS: deployed' bash -c "'$HELM' install mysqlop '$ROOT/charts/mysqlop' -n mysqlop --set enterprise.enabled=true \
    --set-file global.license='$(licence_file)' --set mysqlop-community.healthCheckInterval=1 $* 2>&1"
  expect 'successfully rolled out' "$K" rollout status deployment/mysqlop-mysqlop-community -n mysqlop --timeout=60s
  expect 'successfully rolled out' "$K" rollout status deployment/mysqlop-mysqlop-enterprise -n mysqlop --timeout=60s
}

# oplog NAME: the log of an operator Deployment's pod (mysqlop-community, mysqlop-enterprise).
oplog() { "$K" logs -n mysqlop "deployment/mysqlop-$1" 2>&1; }

# no_403_in_operator_logs: both operators logged (kubectl logs works) and met no 403 with the
# charts' RBAC.
no_403_in_operator_logs() {
  local l out
  for l in mysqlop-community mysqlop-enterprise; do
    out=$(oplog "$l")
    grep -q '"starting workers"' <<<"$out" || fail "$l: kubectl logs shows no operator log: ${out: -300}"
    grep -qiE 'forbidden|"code":403' <<<"$out" && fail "$l met a 403 in its pod"
  done
  return 0
}

# show_logs_on_failure: the tails of the kubelet's and the operators' logs when a check failed.
show_logs_on_failure() {
  [[ $FAILED -ne 0 ]] || return 0
  echo "--- kubelet log (tail)" >&2; tail -20 "$WORK/kubelet.log" >&2
  local l
  for l in mysqlop-community mysqlop-enterprise; do echo "--- $l log (tail)" >&2; oplog "$l" | tail -8 >&2; done
}

# in_client CMD...: a command inside the `client` pod's `main` container in namespace demo (its
# mounts and network), as `sandbox exec` runs one; $PW, when set, is passed on.
in_client() {
  local uid
  uid=$("$K" get pod client -n demo -o jsonpath='{.metadata.uid}')
  nsenter -t "$(cat "$WORK/node/pods/$uid/main.pid")" -m -n -u -- env PW="${PW:-}" MYSQL_PWD="${PW:-}" "$@"
}

# step WHAT: progress on stderr, with the seconds since the test began (ctest keeps it in its log).
step() { echo "[${SECONDS}s] $*" >&2; }
