#!/usr/bin/env bash
# KubeDB's own CRDs (issue 33): the names are KubeDB's. A mysqls.kubedb.com that mysqlop did not
# install is never touched by the community operator's CRD upgrade (--crds-dir, the chart's
# ConfigMap), and the operator stays not ready saying why; once the CRD is mysqlop's, a replica
# brings it up to the chart's and is ready.
source "$(dirname "$0")/../../e2e/sandbox/apiserver/tests/lib.sh"
source "$(dirname "$0")/lib.sh"
HELM=${HELM:?path of helm}
start_apiserver

# The chart's CRDs' ConfigMap as the kubelet mounts it: a file per key.
"$HELM" template r "$CHART" --show-only templates/crds.yaml 2> /dev/null > "$WORK/cm.yaml"
"$K" create --dry-run=client -o json -f "$WORK/cm.yaml" > "$WORK/cm.json"
mkdir -p "$WORK/crds"
for key in $(jq -r '.data | keys[]' "$WORK/cm.json"); do jq -r --arg k "$key" '.data[$k]' "$WORK/cm.json" > "$WORK/crds/$key"; done

# KubeDB's CRDs: the same names, KubeDB's label, and (for this test) a schema without spec.tls.
"$K" apply -f "$CHART/crds" > /dev/null
"$K" label crd mysqls.kubedb.com app.kubernetes.io/name=kubedb --overwrite > /dev/null
"$K" annotate crd mysqls.kubedb.com mysqlop.io/chart-version- > /dev/null
"$K" patch crd mysqls.kubedb.com --type=json \
  -p '[{"op":"remove","path":"/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/tls"}]' > /dev/null
RV=$("$K" get crd mysqls.kubedb.com -o 'jsonpath={.metadata.resourceVersion}')

start_operator() {
  "$OPERATOR" --kubeconfig "$KUBECONFIG" --metrics-bind-address 0 --health-probe-bind-address 127.0.0.1:0 \
    --crds-dir "$WORK/crds" 2> "$WORK/operator.log" &
  OP_PID=$!
  for _ in $(seq 1 100); do grep -q '"serving health probes"' "$WORK/operator.log" && break; sleep 0.1; done
  HEALTH=$(sed -n 's/.*"serving health probes".*"address":"\([^"]*\)".*/\1/p' "$WORK/operator.log" | head -1)
}
start_operator
eventually '^not ready: crds$' curl -s "http://$HEALTH/readyz"
expect 'CRD mysqls.kubedb.com was not installed by mysqlop .its app.kubernetes.io/name label is ..kubedb..*must not run side by side' cat "$WORK/operator.log"
sleep 2
expect "^$RV\$" "$K" get crd mysqls.kubedb.com -o 'jsonpath={.metadata.resourceVersion}'
expect '^kubedb$' "$K" get crd mysqls.kubedb.com -o 'jsonpath={.metadata.labels.app\.kubernetes\.io/name}'
stop_operator

# mysqlop's own again (its label): brought up to the chart's schema, and ready.
"$K" label crd mysqls.kubedb.com app.kubernetes.io/name=mysqlop --overwrite > /dev/null
start_operator
eventually '^ok' curl -s "http://$HEALTH/readyz"
expect '^object$' "$K" get crd mysqls.kubedb.com -o 'jsonpath={.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.tls.type}'
stop_operator
finish
