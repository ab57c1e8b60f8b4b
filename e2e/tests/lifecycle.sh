#!/usr/bin/env bash
# A user's life with the operators on the sandbox (issue 9), everything in pods: the community
# edition alone (umbrella chart defaults) serves a plain MySQL and holds a TLS one at the gate with
# KubeDB's message; `helm upgrade` adds the enterprise edition and the TLS one goes through; both
# operators' pods are deleted while a MySQL is being provisioned and it still converges with no
# object made twice; then each deletion policy on a running database: WipeOut (a MySQL made again
# under the same name starts from an empty volume with a new password), Delete (TLS Secrets and
# the auth Secret stay, owner references gone, volume gone), DoNotTerminate (blocked, still
# serving) turned into Halt (volume and Secret stay; the MySQL made again finds its data).
# Needs root.
source "$(dirname "$0")/lib.sh" sbxl0 10.96.0.0/24
start_sandbox
"$K" create namespace mysqlop > /dev/null
jp() { "$K" get "$@" 2>&1; }
cond() { jp my "$2" -n demo -o "jsonpath={.status.conditions[?(@.type==\"$1\")].$3}"; }
names() { jp "$1" -n demo -o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}' | { grep -E "^$2" || true; } | sort | tr '\n' ' ' | sed 's/ $//'; }
password() { jp secret "$1-auth" -n demo -o 'jsonpath={.data.password}' | base64 -d; }
podip() { jp pod "$1-0" -n demo -o 'jsonpath={.status.podIP}'; }
# sql DB QUERY: a plain connection from the node to the database's pod, as root.
sql() { mariadb --no-defaults -h "$(podip "$1")" -uroot -p"$(password "$1")" --skip-ssl -N -e "$2"; }
mysql_yaml() {  # NAME POLICY TLS(yes|no)
  cat <<YAML
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: $1, namespace: demo}
spec:
  version: "9.7.4"
  storageType: Durable
  storage: {resources: {requests: {storage: 1Gi}}}
  deletionPolicy: $2
YAML
  [[ $3 == yes ]] && cat <<YAML
  requireSSL: true
  tls:
    issuerRef: {apiGroup: cert-manager.io, kind: Issuer, name: mysql-ca}
YAML
  return 0
}

step "1. The community edition alone."
expect 'STATUS: deployed' "$HELM" install mysqlop "$ROOT/charts/mysqlop" -n mysqlop --set mysqlop-community.healthCheckInterval=1
expect 'successfully rolled out' "$K" rollout status deployment/mysqlop-mysqlop-community -n mysqlop --timeout=60s
expect_fail 'NotFound' "$K" get deployment mysqlop-mysqlop-enterprise -n mysqlop
"$K" create namespace demo > /dev/null
seed_ca demo
{ mysql_yaml gated WipeOut yes; echo ---; mysql_yaml kept DoNotTerminate no; } | "$K" apply -f - > /dev/null
step "waiting for kept to be Ready"
expect 'condition met' "$K" wait --for=condition=Ready my/kept -n demo --timeout=120s
eventually '^wait for all necessary secrets for db demo/gated: Secrets gated-server-cert, gated-client-cert, gated-metrics-exporter-cert, gated-metrics-exporter-config [(]made by cert-manager and the enterprise operator; see condition TLSCertificatesReady[)]$' \
  cond Ready gated message
expect '^WaitingForTLSSecrets$' cond Ready gated reason
expect_fail 'NotFound' "$K" get statefulset gated -n demo
expect '^$' names certificates gated
sql kept "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, item TEXT); INSERT INTO shop.orders VALUES (7, 'kept through Halt')" \
  || fail "cannot write to kept"

step "2. The enterprise edition added by an upgrade"
expect 'STATUS: deployed' "$HELM" upgrade mysqlop "$ROOT/charts/mysqlop" -n mysqlop --reuse-values \
  --set enterprise.enabled=true --set-file global.license="$(licence_file)"
expect 'successfully rolled out' "$K" rollout status deployment/mysqlop-mysqlop-enterprise -n mysqlop --timeout=60s
step "waiting for gated to be Ready"
expect 'condition met' "$K" wait --for=condition=Ready my/gated -n demo --timeout=120s
expect '^gated-client-cert gated-metrics-exporter-cert gated-server-cert$' names certificates gated

step "3. Both operators' pods deleted while a MySQL is being provisioned."
OLD_PODS=$(jp pods -n mysqlop -o 'jsonpath={.items[*].metadata.name}')
mysql_yaml late Delete yes | "$K" apply -f - > /dev/null
eventually 'late-' names certificates late
[[ $(cond Ready late status) != True ]] || fail "late is Ready already: the operators must restart while it is provisioned"
"$K" delete pods -n mysqlop --all --wait=false > /dev/null
expect 'successfully rolled out' "$K" rollout status deployment/mysqlop-mysqlop-community -n mysqlop --timeout=60s
expect 'successfully rolled out' "$K" rollout status deployment/mysqlop-mysqlop-enterprise -n mysqlop --timeout=60s
for p in $OLD_PODS; do eventually 'NotFound' jp pod "$p" -n mysqlop; done
step "waiting for late to be Ready"
expect 'condition met' "$K" wait --for=condition=Ready my/late -n demo --timeout=120s
expect '^late-client-cert late-metrics-exporter-cert late-server-cert$' names certificates late
expect '^late-auth late-ca-bundle late-client-cert late-issuer-ca late-metrics-exporter-cert late-metrics-exporter-config late-server-cert$' names secrets late
expect '^late$' names statefulsets late
expect '^late-0$' names pods late
expect '^data-late-0$' names pvc data-late
expect '^late late-pods$' names services late
expect '^late$' names serviceaccounts late
for kind in certificates secrets; do
  for n in $(names "$kind" late-); do
    [[ $n == late-auth ]] && continue
    expect '^1$' bash -c "'$K' get $kind $n -n demo -o json | jq '.metadata.ownerReferences | length'"
  done
done
expect 'over TLSv1\.[23]' cond Ready late message

step "4. Deletion by policy."
# WipeOut: everything of the database goes; made again, it starts from an empty volume.
step "WipeOut"
GATED_PW=$(password gated)
GATED_IP=$(podip gated)
expect 'deleted' "$K" delete my gated -n demo --timeout=60s
expect_fail 'NotFound' "$K" get statefulset gated -n demo
expect '^$' names pvc data-gated
expect '^$' names secrets gated
expect '^$' names certificates gated
eventually "Can't connect" mariadb --no-defaults -h "$GATED_IP" --connect-timeout=2 -uroot -p"$GATED_PW" -e 'SELECT 1'
mysql_yaml gated WipeOut yes | "$K" apply -f - > /dev/null
step "waiting for gated to be Ready"
expect 'condition met' "$K" wait --for=condition=Ready my/gated -n demo --timeout=120s
[[ $(password gated) != "$GATED_PW" ]] || fail "a wiped database made again must get a new password"
# Delete: the workload and the volume go; the Secrets stay, no longer owned; Certificates go.
step "Delete"
expect 'deleted' "$K" delete my late -n demo --timeout=60s
expect_fail 'NotFound' "$K" get statefulset late -n demo
expect '^$' names pvc data-late
expect '^$' names certificates late
expect '^late-auth late-ca-bundle late-client-cert late-issuer-ca late-metrics-exporter-cert late-metrics-exporter-config late-server-cert$' names secrets late
expect '^$' bash -c "'$K' get secrets -n demo -o json | jq -r '.items[] | select(.metadata.name | startswith(\"late-\")) | select(.metadata.ownerReferences) | .metadata.name'"
# DoNotTerminate: the deletion is refused and the database keeps serving; Halt then lets it go,
# keeping the volume and the Secret, and the MySQL made again finds its data.
step "DoNotTerminate"
"$K" delete my kept -n demo --wait=false > /dev/null
eventually 'kubectl patch mysql kept' cond DeletionBlocked kept message
expect '^7	kept through Halt$' sql kept 'SELECT * FROM shop.orders'
expect 'patched' "$K" patch mysql kept -n demo --type=merge -p '{"spec":{"deletionPolicy":"Halt"}}'
eventually 'NotFound' jp my kept -n demo
eventually 'NotFound' jp statefulset kept -n demo
expect '^data-kept-0$' names pvc data-kept
expect '^kept-auth$' names secrets kept
mysql_yaml kept Delete no | "$K" apply -f - > /dev/null
step "waiting for kept to be Ready"
expect 'condition met' "$K" wait --for=condition=Ready my/kept -n demo --timeout=120s
expect '^7	kept through Halt$' sql kept 'SELECT * FROM shop.orders'

no_403_in_operator_logs
show_logs_on_failure
step "done"
finish
