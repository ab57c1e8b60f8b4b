# Shared by the community operator's script tests (sourced after the sandbox API server's lib.sh):
# real kubectl, the community chart, and the operator process they start (OP_PID), stopped by
# SIGTERM on exit.
OPERATOR=${OPERATOR:?path of the community-operator binary}
K=/usr/lib/google-cloud-sdk/bin/kubectl.1.33
CHART="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../charts/mysqlop-community" && pwd)"
OP_PID=""
stop_operator() {
  if [[ -n "$OP_PID" ]] && kill -0 "$OP_PID" 2>/dev/null; then kill -TERM "$OP_PID"; wait "$OP_PID" || true; fi
  OP_PID=""
}
trap 'stop_operator; cleanup' EXIT
