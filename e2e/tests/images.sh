#!/usr/bin/env bash
# The release images, proven (issue 16): scripts/images builds both operator images from the
# Containerfile and packages the charts; then each image runs with the chart's arguments, its
# RBAC (the chart's ServiceAccount token, in-cluster configuration) and its securityContext
# (uid 65534, read-only root file system, every capability dropped, no new privileges) against
# a sandbox API server, and the two together carry a TLS MySQL through the flow: the enterprise
# operator has cert-manager issue the certificates (TLSCertificatesReady=True), the community
# operator makes the StatefulSet after them. Prints the image sizes. Needs root and podman;
# without podman (or an engine that cannot run a container) it says what is missing and exits 77
# (ctest: skipped).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -z "${MYSQLOP_PRIVATE_NS:-}" ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "FAIL: needs root (podman, network and mount namespaces)" >&2; exit 1; }
  command -v podman > /dev/null || { echo "SKIP: podman is not installed (scripts/setup installs podman, runc, mmdebstrap)" >&2; exit 77; }
  if ! out=$(podman info 2>&1); then
    echo "SKIP: podman cannot run here: $(tail -1 <<<"$out")" >&2
    exit 77
  fi
  # The build reaches the Debian mirror (base image, apt in the build): on this machine's network.
  : "${LICENCE_CA_DIR:?}"
  IMAGES_OUT=$(mktemp -d)
  trap 'rm -rf "$IMAGES_OUT"' EXIT
  echo "[${SECONDS}s] scripts/images: both images and the three chart packages" >&2
  "$ROOT/scripts/images" --licence-ca "$LICENCE_CA_DIR/ca.crt" --out "$IMAGES_OUT" > "$IMAGES_OUT/images.out" \
    || { echo "FAIL: scripts/images failed" >&2; exit 1; }
  echo "  built in ${SECONDS} s" >&2
  # The rest in private network and mount namespaces: the API server and the operators
  # (podman --network=host) share a loopback nobody else sees.
  MYSQLOP_PRIVATE_NS=1 IMAGES_OUT=$IMAGES_OUT unshare --mount --net bash "$0"
  exit $?
fi
mount -t tmpfs images-run /run
ip link set lo up
source "$(dirname "${BASH_SOURCE[0]}")/../sandbox/apiserver/tests/lib.sh"
: "${CERT_MANAGER:?}" "${LICENSE:?}" "${LICENCE_CA_DIR:?}" "${HELM:?}"
K=/usr/lib/google-cloud-sdk/bin/kubectl.1.33
CONTAINERS=() CM_PID=""
stop_all() {
  local c
  for c in "${CONTAINERS[@]}"; do podman rm -f -t 5 "$c" > /dev/null 2>&1 || true; done
  [[ -n "$CM_PID" ]] && kill -TERM "$CM_PID" 2>/dev/null && wait "$CM_PID" 2>/dev/null
  cleanup
}
trap stop_all EXIT

step() { echo "[${SECONDS}s] $*" >&2; }
ln -s "${IMAGES_OUT:?}" "$WORK/release"
cat "$WORK/release/images.out"
# Containers a run that was killed may have left behind.
for op in community-operator enterprise-operator; do podman rm -f "mysqlop-images-$op" > /dev/null 2>&1 || true; done
VERSION=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$ROOT/charts/mysqlop-community/Chart.yaml")
for f in mysqlop-community-operator-$VERSION.oci.tar mysqlop-enterprise-operator-$VERSION.oci.tar \
         mysqlop-community-$VERSION.tgz mysqlop-enterprise-$VERSION.tgz mysqlop-$VERSION.tgz; do
  [[ -s "$WORK/release/$f" ]] || fail "scripts/images made no $f"
done
for op in community-operator enterprise-operator; do
  img=docker.io/mysqlop/$op:$VERSION
  expect "^65534:65534\$" podman image inspect --format '{{.Config.User}}' "$img"
  expect "^\[/usr/local/bin/$op\]\$" podman image inspect --format '{{.Config.Entrypoint}}' "$img"
  expect "^$VERSION\$" podman image inspect --format '{{index .Labels "org.opencontainers.image.version"}}' "$img"
  expect "^$op $VERSION\$" podman run --rm --network=none "$img" --version
  # No shell at run time is needed, and the archive is a loadable OCI image of that name.
  expect "$img" podman load --quiet -i "$WORK/release/mysqlop-$op-$VERSION.oci.tar"
done

step "the packaged charts install on a sandbox API server (the operators' Deployments stay unscheduled: no kubelet)"
start_apiserver
"$K" apply -f "$ROOT/e2e/sandbox/cert-manager/crds" > /dev/null
"$K" create namespace cert-manager > /dev/null
"$CERT_MANAGER" --kubeconfig "$KUBECONFIG" 2> "$WORK/cert-manager.log" &
CM_PID=$!
CLUSTER=$("$K" get namespace kube-system -o jsonpath='{.metadata.uid}')
"$LICENSE" issue --ca-cert "$LICENCE_CA_DIR/ca.crt" --ca-key "$LICENCE_CA_DIR/ca.key" --cluster-id "$CLUSTER" \
  --licensee images-test --days 30 > "$WORK/license.pem"
# The community operator's ports and the enterprise operator's differ: both share this loopback.
expect 'STATUS: deployed' "$HELM" install mysqlop "$WORK/release/mysqlop-$VERSION.tgz" -n mysqlop --create-namespace \
  --set enterprise.enabled=true --set-file global.license="$WORK/license.pem" \
  --set mysqlop-enterprise.metrics.port=8090 --set mysqlop-enterprise.health.port=8091 --wait=false

# run_image OPERATOR DEPLOYMENT [-v …]: the image as the Deployment says — its args, its service
# account's token (TokenRequest, as the kubelet mounts it), its securityContext.
run_image() {
  local op=$1 deploy=$2; shift 2
  local sa dir args
  sa=$("$K" get deploy "$deploy" -n mysqlop -o jsonpath='{.spec.template.spec.serviceAccountName}')
  dir="$WORK/sa-$op"
  mkdir -p "$dir"
  "$K" create token "$sa" -n mysqlop --duration=1h > "$dir/token"
  cp "$WORK/data/pki/ca.crt" "$dir/ca.crt"
  echo -n mysqlop > "$dir/namespace"
  chmod 0755 "$dir" && chmod 0644 "$dir"/*
  mapfile -t args < <("$K" get deploy "$deploy" -n mysqlop -o json | jq -r '.spec.template.spec.containers[0].args[]')
  # The securityContext, as podman says it: the pod's user and group, the container's read-only
  # root, dropped capabilities and no privilege escalation (checked to be what the chart sets).
  local pod ctx
  pod=$("$K" get deploy "$deploy" -n mysqlop -o json | jq -c '.spec.template.spec.securityContext')
  ctx=$("$K" get deploy "$deploy" -n mysqlop -o json | jq -c '.spec.template.spec.containers[0].securityContext')
  [[ "$(jq -r '"\(.runAsNonRoot) \(.runAsUser):\(.runAsGroup)"' <<<"$pod")" == "true 65534:65534" ]] \
    || fail "the chart's pod securityContext is not what this test runs the images with: $pod"
  [[ "$(jq -r '"\(.readOnlyRootFilesystem) \(.capabilities.drop) \(.allowPrivilegeEscalation)"' <<<"$ctx")" == 'true ["ALL"] false' ]] \
    || fail "the chart's container securityContext is not what this test runs the images with: $ctx"
  podman run -d --name "mysqlop-images-$op" --network=host --user 65534:65534 --read-only --cap-drop=ALL \
    --security-opt=no-new-privileges \
    -e KUBERNETES_SERVICE_HOST=127.0.0.1 -e KUBERNETES_SERVICE_PORT="${URL##*:}" \
    -v "$dir:/var/run/secrets/kubernetes.io/serviceaccount:ro" "$@" \
    "docker.io/mysqlop/$op:$VERSION" "${args[@]}" > /dev/null
  CONTAINERS+=("mysqlop-images-$op")
}
step "both images run as the charts say, and carry a TLS MySQL through the flow"
# The CRDs' ConfigMap, as the kubelet mounts it (--crds-dir): a file per key.
mkdir -p "$WORK/crds-cm"
"$K" get configmap mysqlop-mysqlop-community-crds -n mysqlop -o json > "$WORK/crds-cm.json"
for key in $(jq -r '.data | keys[]' "$WORK/crds-cm.json"); do jq -r --arg k "$key" '.data[$k]' "$WORK/crds-cm.json" > "$WORK/crds-cm/$key"; done
chmod 0755 "$WORK/crds-cm" && chmod 0644 "$WORK"/crds-cm/*
run_image community-operator mysqlop-mysqlop-community -v "$WORK/crds-cm:/etc/mysqlop/crds:ro"
run_image enterprise-operator mysqlop-mysqlop-enterprise -v "$WORK/license.pem:/etc/mysqlop/license/license.pem:ro"
"$K" create namespace demo > /dev/null
seed_ca demo
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: my, namespace: demo}
spec:
  version: "8.4.3"
  storageType: Ephemeral
  requireSSL: true
  tls:
    issuerRef: {apiGroup: cert-manager.io, kind: Issuer, name: mysql-ca}
YAML
T1=$SECONDS
# The community operator makes the StatefulSet once the Secrets exist; the enterprise operator
# reports the certificates issued in its own time: wait for both.
for _ in $(seq 1 600); do "$K" get statefulset my -n demo > /dev/null 2>&1 && break; sleep 0.1; done
expect 'condition met' "$K" wait --for=condition=TLSCertificatesReady my/my -n demo --timeout=60s
expect '^my$' "$K" get statefulset my -n demo -o 'jsonpath={.metadata.name}'
expect 'require-secure-transport=ON' "$K" get statefulset my -n demo -o 'jsonpath={.spec.template.spec.containers[0].args}'
for c in my-server-cert my-client-cert my-metrics-exporter-cert; do
  expect 'issuer=CN ?= ?mysql-ca' bash -c "'$K' get secret $c -n demo -o 'jsonpath={.data.tls\\.crt}' | base64 -d | openssl x509 -noout -issuer"
done
echo "  TLS MySQL converged $((SECONDS - T1)) s after it was created"
for c in "${CONTAINERS[@]}"; do
  expect '^running$' podman inspect --format '{{.State.Status}}' "$c"
  # The process runs as nobody:nogroup (65534), on a root file system it cannot write.
  expect '^nobody +nogroup$' bash -c "podman top '$c' user group | tail -1"
  expect_fail 'Read-only file system' podman exec "$c" touch /probe
done
if [[ "${FAILED:-0}" != 0 ]]; then
  echo "--- the MySQL's conditions" >&2
  "$K" get my my -n demo -o 'jsonpath={range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}' >&2 || true
  for c in "${CONTAINERS[@]}"; do echo "--- $c (tail)" >&2; podman logs --tail 20 "$c" >&2 || true; done
  echo "--- cert-manager (tail)" >&2; tail -20 "$WORK/cert-manager.log" >&2
fi
grep -E '^docker.io/mysqlop/' "$WORK/release/images.out" | awk -F'\t' '{print "  image " $1 ": " $2}'
finish
