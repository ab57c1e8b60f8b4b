#!/usr/bin/env bash
# The community chart's CRDs on a sandbox-apiserver through real kubectl: they establish, both
# MySQL versions are served from one store, `kubectl get my` shows Version/Status/Age (and
# `kubectl get myops` Type/Status/Age), explain reads the schema, and the schema refuses what it
# should.
source "$(dirname "$0")/../../e2e/sandbox/apiserver/tests/lib.sh"
K=/usr/lib/google-cloud-sdk/bin/kubectl.1.33
CRDS="$(cd "$(dirname "$0")/../../charts/mysqlop-community/crds" && pwd)"
start_apiserver
expect 'mysqls.kubedb.com created' "$K" apply -f "$CRDS"
expect 'condition met' "$K" wait --for=condition=Established crd/mysqls.kubedb.com crd/mysqlversions.catalog.kubedb.com --timeout=20s
cat > "$WORK/my.yaml" <<'YAML'
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: my, namespace: default}
spec:
  version: "8.0.35"
  storageType: Ephemeral
  requireSSL: true
  tls:
    issuerRef: {apiGroup: cert-manager.io, kind: Issuer, name: mysql-ca}
YAML
expect 'mysql.kubedb.com/my created' "$K" apply -f "$WORK/my.yaml"
expect '^NAME +VERSION +STATUS +AGE' "$K" get my
expect '^my +8.0.35 ' "$K" get mysqls.v1alpha2.kubedb.com
expect 'cert-manager Issuer' "$K" explain mysql.spec.tls.issuerRef
printf 'apiVersion: kubedb.com/v1\nkind: MySQL\nmetadata: {name: bad}\nspec: {version: "8", storageType: Tape}\n' > "$WORK/bad.yaml"
expect_fail 'spec.storageType: Unsupported value: "Tape"' "$K" apply -f "$WORK/bad.yaml"
printf 'apiVersion: kubedb.com/v1\nkind: MySQL\nmetadata: {name: bad}\nspec: {storageType: Ephemeral}\n' > "$WORK/bad.yaml"
expect_fail 'spec.version: Required value' "$K" apply -f "$WORK/bad.yaml"
printf 'apiVersion: catalog.kubedb.com/v1alpha1\nkind: MySQLVersion\nmetadata: {name: "8.0.35"}\nspec: {version: "8.0.35", db: {image: "mysql:8.0.35"}}\n' > "$WORK/v.yaml"
expect 'created' "$K" apply -f "$WORK/v.yaml"
expect '^8.0.35 +8.0.35 +mysql:8.0.35' "$K" get myversion
# The ops requests' CRD comes with them (the enterprise operator runs the requests).
printf 'apiVersion: ops.kubedb.com/v1alpha1\nkind: MySQLOpsRequest\nmetadata: {name: rotate}\nspec: {type: ReconfigureTLS, databaseRef: {name: my}, tls: {rotateCertificates: true}}\n' > "$WORK/op.yaml"
expect 'mysqlopsrequest.ops.kubedb.com/rotate created' "$K" apply -f "$WORK/op.yaml"
expect '^NAME +TYPE +STATUS +AGE' "$K" get myops
expect '^rotate +ReconfigureTLS ' "$K" get myops
printf 'apiVersion: ops.kubedb.com/v1alpha1\nkind: MySQLOpsRequest\nmetadata: {name: bad}\nspec: {type: Upgrade, databaseRef: {name: my}}\n' > "$WORK/op.yaml"
expect_fail 'spec.type: Unsupported value: "Upgrade"' "$K" apply -f "$WORK/op.yaml"
finish
