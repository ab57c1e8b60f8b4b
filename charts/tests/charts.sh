#!/usr/bin/env bash
# The Helm charts with the real helm 3 and helm 4 (issue 8): lint, render with defaults and with
# every option, the values schema, install / upgrade / uninstall on the sandbox, the umbrella's
# enterprise toggle, and the charts' RBAC: the operators run with their ServiceAccounts' tokens
# through the TLS flow with no 403, and a missing rule shows up as a clear 403.
source "$(dirname "$0")/../../e2e/sandbox/apiserver/tests/lib.sh"
: "${HELM3:?}" "${HELM4:?}" "${CERT_MANAGER:?}" "${COMMUNITY:?}" "${ENTERPRISE:?}" "${LICENSE:?}" "${LICENCE_CA_DIR:?}"
K=/usr/lib/google-cloud-sdk/bin/kubectl.1.33
CHARTS="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="$(cd "$CHARTS/.." && pwd)"
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done; PIDS=(); }
trap 'stop_all; cleanup' EXIT
# helm prints a notice for the symbolic links to the local charts; keep it out of the checks.
h() { "$HELM" "$@" 2> >(grep -v -e 'symbolic link' -e '^walk.go' >&2); }
echo "dummy licence" > "$WORK/dummy.pem"

# --- the CRDs a fresh install brings carry their chart's version ------------------------------
# (the community operator keeps a CRD from a newer chart; without the annotation an older chart's
# operator would take the CRDs of a fresh install for older and overwrite them)
VERSION=$(sed -n 's/^version: *//p' "$CHARTS/mysqlop-community/Chart.yaml")
for f in "$CHARTS"/mysqlop-community/crds/*.yaml; do
  got=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["metadata"].get("annotations", {}).get("mysqlop.io/chart-version", ""))' "$f")
  [[ "$got" == "$VERSION" ]] || fail "$(basename "$f"): mysqlop.io/chart-version is '$got', the chart's version is $VERSION"
done

# --- lint, render, schema — both helms -------------------------------------------------------
for HELM in "$HELM3" "$HELM4"; do
  for c in mysqlop-community mysqlop-enterprise mysqlop; do
    expect '1 chart\(s\) linted, 0 chart\(s\) failed' h lint "$CHARTS/$c"
    expect_fail 'replicaCount' h template r "$CHARTS/$c" --set replicaCount=two --set-file license="$WORK/dummy.pem" \
      --set "mysqlop-community.replicaCount=two"
  done
  expect_fail 'enterprise' h template r "$CHARTS/mysqlop" --set enterprise.enabled=maybe
  expect '^kind: Deployment' h template r "$CHARTS/mysqlop-community"
  OUT=$(h template r "$CHARTS/mysqlop-community" -f "$CHARTS/tests/all-options.yaml" 2>&1)
  for want in 'replicas: 2' '- --leader-elect' 'image: "registry.example.com/team/op:9.9.9"' 'imagePullPolicy: Always' \
              'name: regcred' '- --log-level=debug' '- --watch-namespace=apps' '- --workers=4' '- --kube-api-qps=50' '- --kube-api-burst=80' 'name: op-sa' \
              'iam.example.com/role: op' 'memory: 99Mi' 'team: db' 'tier: control' 'disk: ssd' 'key: dedicated' \
              'key: zone' 'priorityClassName: system-cluster-critical' 'runAsUser: 1234' 'readOnlyRootFilesystem: true' \
              '- ALL' 'type: RuntimeDefault' '- --health-probe-bind-address=:9091' '- --metrics-bind-address=:9090' \
              'containerPort: 9090' 'type: NodePort' 'prometheus.io/scrape: "true"' 'kind: ServiceMonitor' 'interval: 15s' \
              'scrapeTimeout: 5s' 'release: prom' 'cost-center: "42"' 'path: /healthz' 'path: /readyz' \
              '- --health-check-interval=3' '- --certificate-expiry-warning=72' 'kind: PrometheusRule' 'rules: tls' \
              'alert: MySQLServedCertificateExpiringSoon' 'time() < 259200' 'for: 5m' 'alert: MySQLTLSReloadFailing' \
              '- --metrics-secure=true' '- --metrics-cert-dir=/tmp/k8s-metrics-server/serving-certs' 'secretName: op-metrics-tls' \
              'scheme: https' 'serverName: op.example.com' 'name: r-mysqlop-community-metrics-reader' 'resources: [tokenreviews]' \
              'kind: NetworkPolicy' '- {port: metrics, protocol: TCP}' 'kubernetes.io/metadata.name: monitoring'; do
    grep -qF -- "$want" <<<"$OUT" || fail "$(basename "$HELM") template with every option lacks '$want'"
  done
  # The tag defaults to the chart's appVersion; one replica elects a leader too (issue 20: the old
  # and new pods of a rollout overlap), and a rollout starts the new pod before stopping the old.
  DEF=$(h template r "$CHARTS/mysqlop-community" 2>&1)
  grep -qF 'image: "mysqlop/community-operator:0.1.0"' <<<"$DEF" || fail "the image tag must default to appVersion"
  grep -qF -- '- --leader-elect' <<<"$DEF" || fail "one replica must elect a leader too"
  grep -qF -- '- --leader-election-id=r-mysqlop-community' <<<"$DEF" || fail "the Lease must be named after the release"
  grep -qF -- '- --leader-election-id=other-mysqlop-community' <<<"$(h template other "$CHARTS/mysqlop-community" 2>&1)" \
    || fail "a second release must get a Lease of its own"
  grep -qF 'rollingUpdate: {maxSurge: 1, maxUnavailable: 0}' <<<"$DEF" || fail "a rollout must surge, never go without a pod"
  # A NetworkPolicy by default: the health and metrics ports only, metrics from anywhere unless
  # metricsFrom says whom; networkPolicy.enabled=false drops it.
  NP=$(awk '/^kind: NetworkPolicy/,/^---/' <<<"$DEF")
  grep -qF -- '- {port: health, protocol: TCP}' <<<"$NP" && grep -qF -- '- {port: metrics, protocol: TCP}' <<<"$NP" \
    && grep -qF 'policyTypes: [Ingress]' <<<"$NP" || fail "the default NetworkPolicy must admit the health and metrics ports only: $NP"
  grep -q 'from:' <<<"$NP" && fail "without metricsFrom the metrics port is open to any scraper (it authenticates)"
  h template r "$CHARTS/mysqlop-community" --set networkPolicy.enabled=false 2>&1 | grep -q 'kind: NetworkPolicy' \
    && fail "networkPolicy.enabled=false must drop the NetworkPolicy"
  # The CRDs ride along in a ConfigMap the operator reads (--crds-dir), with the RBAC to update
  # exactly those three; crds.upgrade=false drops all of it.
  for want in 'name: r-mysqlop-community-crds' 'chartVersion: "0.1.0"' 'mysqls.kubedb.com.json: "{' \
              'mysqlversions.catalog.kubedb.com.json: "{' 'mysqlopsrequests.ops.kubedb.com.json: "{' '- --crds-dir=/etc/mysqlop/crds' \
              'resourceNames: [mysqls.kubedb.com, mysqlversions.catalog.kubedb.com, mysqlopsrequests.ops.kubedb.com]'; do
    grep -qF -- "$want" <<<"$DEF" || fail "the community chart lacks '$want'"
  done
  grep -qE 'customresourcedefinitions|crds' <<<"$(h template r "$CHARTS/mysqlop-community" --set crds.upgrade=false 2>&1)" \
    && fail "crds.upgrade=false must leave the CRDs, their ConfigMap and their RBAC out"
  grep -qF 'kind: ServiceMonitor' <<<"$DEF" && fail "the ServiceMonitor is off by default"
  grep -qF 'kind: PrometheusRule' <<<"$DEF" && fail "the PrometheusRule is off by default"
  grep -qF -- '- --certificate-expiry-warning=168' <<<"$DEF" || fail "the expiry warning defaults to 168 hours"
  grep -qF -- '- --metrics-secure=true' <<<"$DEF" || fail "metrics are secure by default"
  grep -qF -- '--metrics-cert-dir' <<<"$DEF" && fail "without metrics.certSecret the certificate is self-signed"
  PLAIN=$(h template r "$CHARTS/mysqlop-community" --set metrics.secure=false 2>&1)
  grep -qF -- '- --metrics-secure=false' <<<"$PLAIN" || fail "metrics.secure=false must serve plain HTTP"
  grep -qE 'tokenreviews|metrics-reader' <<<"$PLAIN" && fail "plain metrics need no review rights and no reader role"
  grep -qE '(\*|"\*")' <(h template r "$CHARTS/mysqlop-community" -s templates/clusterrole.yaml) && fail "a wildcard in the ClusterRole"
  expect_fail 'needs a licence, and none was given' h template r "$CHARTS/mysqlop-enterprise"
  expect_fail "kubectl get namespace kube-system -o jsonpath='\{.metadata.uid\}'" h template r "$CHARTS/mysqlop-enterprise"
  # The umbrella names its own values (global.license, mysqlop-enterprise.*), not the subchart's.
  expect_fail 'set-file global.license=./license.pem' h template r "$CHARTS/mysqlop" --set enterprise.enabled=true
  expect_fail 'mysqlop-enterprise.licenseSecretName' h template r "$CHARTS/mysqlop" --set enterprise.enabled=true
done
HELM=$HELM3

# --- install, upgrade, uninstall on the sandbox ------------------------------------------------
start_apiserver
CLUSTER=$("$K" get namespace kube-system -o jsonpath='{.metadata.uid}')
"$LICENSE" issue --ca-cert "$LICENCE_CA_DIR/ca.crt" --ca-key "$LICENCE_CA_DIR/ca.key" --cluster-id "$CLUSTER" \
  --licensee chart-test --days 30 > "$WORK/license.pem"
"$K" create namespace mysqlop > /dev/null
expect 'STATUS: deployed' h install community "$CHARTS/mysqlop-community" -n mysqlop
expect 'condition met' "$K" wait --for=condition=Established crd/mysqls.kubedb.com --timeout=20s
expect '^community-mysqlop-community$' "$K" get deployment -n mysqlop -o 'jsonpath={.items[*].metadata.name}'
expect '^1 --metrics-bind-address=:8443 --metrics-secure=true --health-probe-bind-address=:8081 --log-level=info' "$K" get deployment community-mysqlop-community -n mysqlop \
  -o 'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].args[*]}'
expect 'community-mysqlop-community' "$K" get clusterrole,clusterrolebinding,sa -A -l app.kubernetes.io/instance=community -o name
expect 'community-mysqlop-community-leader-election' "$K" get role,rolebinding -n mysqlop -o name
expect '^community-mysqlop-community-metrics$' "$K" get svc -n mysqlop -o 'jsonpath={.items[*].metadata.name}'
expect '8.4.3' "$K" get mysqlversions
expect 'kubectl apply -f -' h status community -n mysqlop   # NOTES
expect_fail 'needs a licence' h install enterprise "$CHARTS/mysqlop-enterprise" -n mysqlop
expect 'STATUS: deployed' h install enterprise "$CHARTS/mysqlop-enterprise" -n mysqlop --set-file license="$WORK/license.pem"
expect '^--license-file=/etc/mysqlop/license/license.pem$' bash -c \
  "'$K' get deployment enterprise-mysqlop-enterprise -n mysqlop -o jsonpath='{.spec.template.spec.containers[0].args}' | tr ',' '\n' | tr -d '[]\"' | grep license-file"
cmp -s <("$K" get secret enterprise-mysqlop-enterprise-license -n mysqlop -o 'jsonpath={.data.license\.pem}' | base64 -d) "$WORK/license.pem" \
  || fail "the licence Secret must hold the licence file"
# upgrade: the Deployment follows.
expect 'has been upgraded' h upgrade community "$CHARTS/mysqlop-community" -n mysqlop --set replicaCount=2 --set logLevel=debug
expect '^2 .*--log-level=debug --workers=2 --leader-elect' "$K" get deployment community-mysqlop-community -n mysqlop \
  -o 'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].args[*]}'
# uninstall: what the chart made goes; the CRDs stay, as Helm does.
expect 'uninstalled' h uninstall enterprise -n mysqlop
expect 'uninstalled' h uninstall community -n mysqlop
expect '^$' "$K" get deployment,sa,svc,role,rolebinding,secret -n mysqlop -l app.kubernetes.io/part-of=mysqlop -o name
expect '^$' "$K" get clusterrole,clusterrolebinding -l app.kubernetes.io/part-of=mysqlop -o name
expect 'mysqls.kubedb.com' "$K" get crd mysqls.kubedb.com
# The umbrella: community only by default; both with enterprise.enabled and global.license.
HELM=$HELM4
expect 'STATUS: deployed' h install mysqlop "$CHARTS/mysqlop" -n mysqlop
expect '^mysqlop-mysqlop-community$' "$K" get deployment -n mysqlop -o 'jsonpath={.items[*].metadata.name}'
expect 'has been upgraded' h upgrade mysqlop "$CHARTS/mysqlop" -n mysqlop --set enterprise.enabled=true --set-file global.license="$WORK/license.pem"
expect '^mysqlop-mysqlop-community mysqlop-mysqlop-enterprise$' "$K" get deployment -n mysqlop -o 'jsonpath={.items[*].metadata.name}'
expect 'uninstalled' h uninstall mysqlop -n mysqlop

# --- the charts' RBAC is enough, and needed -------------------------------------------------
HELM=$HELM3
h install community "$CHARTS/mysqlop-community" -n mysqlop > /dev/null
h install enterprise "$CHARTS/mysqlop-enterprise" -n mysqlop --set-file license="$WORK/license.pem" > /dev/null
"$K" apply -f "$ROOT/e2e/sandbox/cert-manager/crds" > /dev/null
"$K" wait --for=condition=Established crd/certificates.cert-manager.io --timeout=20s > /dev/null
kubeconfig_for() {  # a kubeconfig with a token of the chart's ServiceAccount
  local token; token=$("$K" create token "$1" -n mysqlop --duration=1h)
  "$K" config view --raw --minify > "$WORK/$1.kubeconfig"
  KUBECONFIG="$WORK/$1.kubeconfig" "$K" config set-credentials sa --token="$token" > /dev/null
  KUBECONFIG="$WORK/$1.kubeconfig" "$K" config set-context --current --user=sa --namespace=mysqlop > /dev/null
}
kubeconfig_for community-mysqlop-community
kubeconfig_for enterprise-mysqlop-enterprise
expect_fail '^no' env KUBECONFIG="$WORK/community-mysqlop-community.kubeconfig" "$K" auth can-i create deployments -n mysqlop
expect '^yes' env KUBECONFIG="$WORK/community-mysqlop-community.kubeconfig" "$K" auth can-i create statefulsets.apps -n demo
# Its own three CRDs, by name, brought in after `helm upgrade` (crds.upgrade); no other CRD.
expect '^yes' env KUBECONFIG="$WORK/community-mysqlop-community.kubeconfig" "$K" auth can-i update customresourcedefinitions.apiextensions.k8s.io/mysqlversions.catalog.kubedb.com
expect_fail '^no' env KUBECONFIG="$WORK/community-mysqlop-community.kubeconfig" "$K" auth can-i update customresourcedefinitions.apiextensions.k8s.io/certificates.cert-manager.io
expect_fail '^no' env KUBECONFIG="$WORK/community-mysqlop-community.kubeconfig" "$K" auth can-i create customresourcedefinitions.apiextensions.k8s.io
# The last-resort restart of a pod whose server cannot reload TLS; nothing more on pods.
expect '^yes' env KUBECONFIG="$WORK/community-mysqlop-community.kubeconfig" "$K" auth can-i delete pods -n demo
expect_fail '^no' env KUBECONFIG="$WORK/community-mysqlop-community.kubeconfig" "$K" auth can-i create pods -n demo
# A group member's role label (kubedb.com/role).
expect '^yes' env KUBECONFIG="$WORK/community-mysqlop-community.kubeconfig" "$K" auth can-i patch pods -n demo
# The community edition needs nothing of cert-manager's; the enterprise operator removes its Certificates.
for verb in list delete; do
  expect_fail '^no' env KUBECONFIG="$WORK/community-mysqlop-community.kubeconfig" "$K" auth can-i "$verb" certificates.cert-manager.io -n demo
  expect '^yes' env KUBECONFIG="$WORK/enterprise-mysqlop-enterprise.kubeconfig" "$K" auth can-i "$verb" certificates.cert-manager.io -n demo
done
"$K" create namespace cert-manager > /dev/null
"$CERT_MANAGER" --kubeconfig "$KUBECONFIG" 2> "$WORK/cert-manager.log" & PIDS+=($!)
# Secure metrics, as the charts run them: the community operator with a certificate directory
# (a mounted Secret), the enterprise operator with its self-signed certificate.
metrics_pair() {  # CN: a self-signed serving pair written into $WORK/metrics-certs, as the kubelet swaps files
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/m.key" -out "$WORK/m.crt" \
    -days 1 -subj "/CN=$1" -addext "subjectAltName=DNS:$1" 2> /dev/null
  mkdir -p "$WORK/metrics-certs"
  mv "$WORK/m.key" "$WORK/metrics-certs/tls.key" && mv "$WORK/m.crt" "$WORK/metrics-certs/tls.crt"
}
metrics_pair metrics-one
"$COMMUNITY" --kubeconfig "$WORK/community-mysqlop-community.kubeconfig" --leader-elect --metrics-bind-address 127.0.0.1:0 \
  --metrics-cert-dir "$WORK/metrics-certs" --health-probe-bind-address 0 --health-check-interval 1 2> "$WORK/community.log" & PIDS+=($!)
"$ENTERPRISE" --kubeconfig "$WORK/enterprise-mysqlop-enterprise.kubeconfig" --leader-elect --license-file "$WORK/license.pem" \
  --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 0 2> "$WORK/enterprise.log" & PIDS+=($!)
metrics_address() {
  for _ in $(seq 1 100); do grep -q '"serving metrics"' "$WORK/$1.log" && break; sleep 0.1; done
  sed -n 's/.*"serving metrics".*"address":"\([^"]*\)".*/\1/p' "$WORK/$1.log" | head -1
}
CM=$(metrics_address community)
EM=$(metrics_address enterprise)
grep -q '"serving metrics".*"secure":true' "$WORK/community.log" || fail "the community operator must say its metrics are secure"
served_cn() { openssl s_client -connect "$1" < /dev/null 2> /dev/null | openssl x509 -noout -subject 2>&1; }
expect 'CN ?= ?metrics-one' served_cn "$CM"
expect 'CN ?= ?enterprise-operator' served_cn "$EM"
expect_fail 'Empty reply|reset|SSL|HTTP/0.9' curl -sS --max-time 5 "http://$CM/metrics"
# No token: 401. A token of a ServiceAccount RBAC does not let read /metrics: 403. Bound to the
# chart's metrics-reader ClusterRole: the metrics.
code() { curl -sk -o "$WORK/body" -w '%{http_code}' "${@:2}" "https://$1/metrics"; }
expect '^401$' code "$CM"
expect '^401$' code "$CM" -H "Authorization: Bearer not-a-token"
"$K" create namespace monitoring > /dev/null
"$K" create serviceaccount prometheus -n monitoring > /dev/null
"$K" create serviceaccount app -n monitoring > /dev/null
APP_TOKEN=$("$K" create token app -n monitoring)
PROM_TOKEN=$("$K" create token prometheus -n monitoring)
expect '^403$' code "$CM" -H "Authorization: Bearer $APP_TOKEN"
expect '^Forbidden: user "system:serviceaccount:monitoring:app" may not get /metrics' cat "$WORK/body"
"$K" create clusterrolebinding prometheus-community --clusterrole=community-mysqlop-community-metrics-reader \
  --serviceaccount=monitoring:prometheus > /dev/null
"$K" create clusterrolebinding prometheus-enterprise --clusterrole=enterprise-mysqlop-enterprise-metrics-reader \
  --serviceaccount=monitoring:prometheus > /dev/null
expect '^200$' code "$CM" -H "Authorization: Bearer $PROM_TOKEN"
expect '^# (HELP|TYPE)' cat "$WORK/body"
expect '^200$' code "$EM" -H "Authorization: Bearer $PROM_TOKEN"
expect 'mysqlop_license_valid' cat "$WORK/body"
expect '^403$' code "$EM" -H "Authorization: Bearer $APP_TOKEN"
# A renewed certificate in the directory is served without a restart.
metrics_pair metrics-two
eventually 'CN ?= ?metrics-two' served_cn "$CM"
"$K" create namespace demo > /dev/null
make_ca /CN=ca
"$K" create secret tls ca -n demo --cert "$WORK/ca.crt" --key "$WORK/ca.key" > /dev/null
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: ca, namespace: demo}
spec: {ca: {secretName: ca}}
---
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: my, namespace: demo}
spec:
  version: "8.4.3"
  storageType: Ephemeral
  requireSSL: true
  deletionPolicy: WipeOut
  tls: {issuerRef: {kind: Issuer, name: ca}}
YAML
for _ in $(seq 1 100); do "$K" get sts my -n demo > /dev/null 2>&1 && break; sleep 0.2; done
expect '^my$' "$K" get sts my -n demo -o 'jsonpath={.metadata.name}'
expect '^True$' "$K" get my my -n demo -o 'jsonpath={.status.conditions[?(@.type=="TLSCertificatesReady")].status}'
expect '^kubedb.com mysqlop.io/tls-certificates$' "$K" get my my -n demo -o 'jsonpath={.metadata.finalizers[*]}'
"$K" delete my my -n demo --wait=false > /dev/null
eventually 'NotFound' "$K" get my my -n demo
expect '^$' "$K" get certificates,secrets -n demo -l app.kubernetes.io/instance=my -o name
for l in community enterprise; do
  grep -qiE '"code":403|forbidden' "$WORK/$l.log" && fail "$l operator met a 403 with the chart's RBAC: $(grep -iE 'forbidden' "$WORK/$l.log" | head -2)"
done
# One rule fewer (creating StatefulSets): the operator says so, in the API server's words.
"$K" get clusterrole community-mysqlop-community -o json | python3 -c '
import json,sys
r=json.load(sys.stdin)
for rule in r["rules"]:
    if rule.get("resources")==["statefulsets"]: rule["verbs"]=[v for v in rule["verbs"] if v!="create"]
json.dump(r,sys.stdout)' | "$K" replace -f - > /dev/null
printf 'apiVersion: kubedb.com/v1\nkind: MySQL\nmetadata: {name: plain, namespace: demo}\nspec: {version: "8.4.3", storageType: Ephemeral}\n' \
  | "$K" apply -f - > /dev/null
eventually 'statefulsets.apps is forbidden: User "system:serviceaccount:mysqlop:community-mysqlop-community" cannot create resource "statefulsets"' \
  "$K" get events -n demo --field-selector involvedObject.name=plain,reason=ReconcileFailed -o 'jsonpath={.items[*].message}'
grep -q 'cannot create resource \\"statefulsets\\"' "$WORK/community.log" || fail "the 403 must be in the operator's log"
stop_all
finish
