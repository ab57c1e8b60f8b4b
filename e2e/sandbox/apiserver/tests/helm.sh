#!/usr/bin/env bash
# helm install / upgrade / list / status / uninstall of a chart with a CRD in crds/, a
# ServiceAccount, RBAC, a Deployment and a Secret, against a private sandbox-apiserver.
#   APISERVER=... KUBECTL=kubectl.1.33 helm.sh HELM
source "$(dirname "$0")/lib.sh"
HELM=$1
K=${KUBECTL:-/usr/lib/google-cloud-sdk/bin/kubectl.1.33}
CHART="$(cd "$(dirname "$0")" && pwd)/testchart"
start_apiserver
expect 'namespace/apps created' "$K" create namespace apps

expect 'STATUS: deployed' "$HELM" install rel "$CHART" -n apps
expect 'condition met' "$K" wait --for=condition=Established crd/gadgets.example.com --timeout=20s
expect '^hello$' bash -c "\"$K\" get secret rel-secret -n apps -o 'jsonpath={.data.message}' | base64 -d"
expect '^rel-app ' "$K" get deployment -n apps
expect '^rel-gadget ' "$K" get gadgets -n apps
expect '^rel-sa ' "$K" get serviceaccount -n apps
expect 'rel-rb' "$K" get rolebinding -n apps

expect 'has been upgraded' "$HELM" upgrade rel "$CHART" -n apps --set message=bye --set replicas=2
expect '^bye$' bash -c "\"$K\" get secret rel-secret -n apps -o 'jsonpath={.data.message}' | base64 -d"
expect '^2 bye$' "$K" get deployment rel-app -n apps -o 'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].env[0].value}'
expect '^2$' "$K" get deployment rel-app -n apps -o 'jsonpath={.metadata.generation}'
expect 'rel[[:space:]]+apps[[:space:]]+2[[:space:]].*deployed' "$HELM" list -n apps
expect 'REVISION: 2' "$HELM" status rel -n apps

expect 'release "rel" uninstalled' "$HELM" uninstall rel -n apps
expect_fail 'not found' "$K" get secret rel-secret -n apps
expect_fail 'not found' "$K" get deployment rel-app -n apps
expect '^$' bash -c "\"$K\" get secrets -n apps -o name | grep helm.sh/release || true"
# helm keeps CRDs from crds/ on uninstall, as upstream does.
expect 'gadgets.example.com' "$K" get crd gadgets.example.com
stop_apiserver
finish
