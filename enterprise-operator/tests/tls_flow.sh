#!/usr/bin/env bash
# The whole TLS flow of docs/design.md §1 on the sandbox (issue 7): sandbox-apiserver, sandbox-cert-manager
# and both operators, driven with kubectl, openssl and the license tool. Licence gate (none,
# invalid, then valid without a restart), the seed flow checked field by field, user overrides,
# a missing issuer, a ClusterIssuer, deletion policies, and zero writes once converged.
source "$(dirname "$0")/../../e2e/sandbox/apiserver/tests/lib.sh"
: "${CERT_MANAGER:?}" "${COMMUNITY:?}" "${ENTERPRISE:?}" "${LICENSE:?}" "${LICENCE_CA_DIR:?}"
K=/usr/lib/google-cloud-sdk/bin/kubectl.1.33
PK='PRIVATE'' KEY'   # split, so that no file in the repository looks like it holds a key
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done; PIDS=(); }
trap 'stop_all; cleanup' EXIT

start_apiserver
operator_api demo
CLUSTER=$("$K" get namespace kube-system -o jsonpath='{.metadata.uid}')
"$CERT_MANAGER" --kubeconfig "$KUBECONFIG" 2> "$WORK/cert-manager.log" & PIDS+=($!)
"$COMMUNITY" --kubeconfig "$KUBECONFIG" --metrics-bind-address 0 --health-probe-bind-address 0 \
  --health-check-interval 1 2> "$WORK/community.log" & PIDS+=($!)

cond() { "$K" get my "$2" -n demo -o "jsonpath={.status.conditions[?(@.type==\"$1\")].$3}" 2>&1; }
field() { "$K" get "$@" 2>&1; }

# --- the user's side: an openssl CA, a Secret, an Issuer, a MySQL --------------------------------
make_ca /CN=mysql-ca
"$K" create secret tls mysql-ca -n demo --cert "$WORK/ca.crt" --key "$WORK/ca.key" > /dev/null
printf 'apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: {name: mysql-ca, namespace: demo}\nspec: {ca: {secretName: mysql-ca}}\n' \
  | "$K" apply -f - > /dev/null
expect 'condition met' "$K" wait --for=condition=Ready issuer/mysql-ca -n demo --timeout=20s
cat > "$WORK/my.yaml" <<'YAML'
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: my, namespace: demo}
spec:
  version: "8.4.3"
  storageType: Ephemeral
  requireSSL: true
  deletionPolicy: WipeOut
  tls:
    issuerRef: {apiGroup: cert-manager.io, kind: Issuer, name: mysql-ca}
YAML
"$K" apply -f "$WORK/my.yaml" > /dev/null

# Without the enterprise operator the MySQL waits at the gate and says why.
eventually 'wait for all necessary secrets for db demo/my: Secrets my-server-cert, my-client-cert, my-metrics-exporter-cert, my-metrics-exporter-config [(]made by' cond Ready my message
expect_fail 'NotFound' "$K" get sts my -n demo

# --- the enterprise operator without a licence, then with a bad one, then a good one ----------
LIC="$WORK/license.pem"
"$ENTERPRISE" --kubeconfig "$KUBECONFIG" --license-file "$LIC" --metrics-bind-address 127.0.0.1:0 --metrics-secure=false \
  --health-probe-bind-address 127.0.0.1:0 2> "$WORK/enterprise.log" & PIDS+=($!); ENTERPRISE_PID=$!
for _ in $(seq 1 100); do grep -q '"serving metrics"' "$WORK/enterprise.log" && grep -q '"serving health probes"' "$WORK/enterprise.log" && break; sleep 0.1; done
METRICS=$(sed -n 's/.*"serving metrics".*"address":"\([^"]*\)".*/\1/p' "$WORK/enterprise.log" | head -1)
HEALTH=$(sed -n 's/.*"serving health probes".*"address":"\([^"]*\)".*/\1/p' "$WORK/enterprise.log" | head -1)
eventually '^LicenseInvalid$' cond TLSCertificatesReady my reason
expect "licence invalid for cluster $CLUSTER: cannot read the licence file $LIC" cond TLSCertificatesReady my message
# /readyz is not authenticated: it names the failing check, never the cluster's ID or the reason
# (those are in the log, the condition and the metrics).
expect '^not ready: licence$' curl -s "http://$HEALTH/readyz"
curl -s "http://$HEALTH/readyz" | grep -qF "$CLUSTER" && fail "/readyz shows the cluster ID"
expect "\"not ready\".*licence invalid for cluster $CLUSTER" cat "$WORK/enterprise.log"
expect '^mysqlop_license_valid 0' curl -s "http://$METRICS/metrics"
# A development build says what it trusts: its own generated licence CA.
expect 'mysqlop_build_info\{.*licence_ca="development".*\} 1' curl -s "http://$METRICS/metrics"
expect '"level":"warn".*development build' cat "$WORK/enterprise.log"
expect 'LicenseInvalid' "$K" get events -n demo --field-selector involvedObject.name=my,type=Warning
expect '^$' field certificates -n demo -o 'jsonpath={.items[*].metadata.name}'
"$LICENSE" issue --ca-cert "$LICENCE_CA_DIR/ca.crt" --ca-key "$LICENCE_CA_DIR/ca.key" --cluster-id "$CLUSTER" \
  --licensee "Acme" --not-before 2020-01-01T00:00:00Z --days 30 > "$LIC"
eventually "licence invalid for cluster $CLUSTER: expired on 2020-01-31T00:00:00Z" cond TLSCertificatesReady my message
# The rest of the matrix, through the running operator (the file is re-read when it changes).
issue_lic() { "$LICENSE" issue --ca-cert "$LICENCE_CA_DIR/ca.crt" --ca-key "$LICENCE_CA_DIR/ca.key" --licensee Acme "$@"; }
issue_lic --cluster-id 00000000-aaaa-bbbb-cccc-000000000000 --days 30 > "$LIC"
eventually "licence invalid for cluster $CLUSTER: issued for cluster 00000000-aaaa-bbbb-cccc-000000000000 but this is cluster $CLUSTER" \
  cond TLSCertificatesReady my message
issue_lic --cluster-id "$CLUSTER" --days 30 --features backup > "$LIC"
eventually 'feature "mysqlop-enterprise" missing \(the licence grants: "backup"\)' cond TLSCertificatesReady my message
issue_lic --cluster-id "$CLUSTER" --not-before 2099-01-01T00:00:00Z --days 30 > "$LIC"
eventually "not yet valid: valid from 2099-01-01T00:00:00Z" cond TLSCertificatesReady my message
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/rogue.key" -out "$WORK/rogue.crt" \
  -subj "/CN=rogue CA" -days 10 2> /dev/null
"$LICENSE" issue --ca-cert "$WORK/rogue.crt" --ca-key "$WORK/rogue.key" --cluster-id "$CLUSTER" --licensee Acme --days 30 > "$LIC"
eventually 'not signed by the licence CA \(issuer "CN=rogue CA"\)' cond TLSCertificatesReady my message
echo "garbage" > "$LIC"
eventually "licence invalid for cluster $CLUSTER: not a PEM certificate" cond TLSCertificatesReady my message
expect '^mysqlop_license_valid 0' curl -s "http://$METRICS/metrics"
expect '^$' field certificates -n demo -o 'jsonpath={.items[*].metadata.name}'
"$LICENSE" issue --ca-cert "$LICENCE_CA_DIR/ca.crt" --ca-key "$LICENCE_CA_DIR/ca.key" --cluster-id "$CLUSTER" \
  --licensee "Acme" --days 30 > "$LIC.new" && mv "$LIC.new" "$LIC"   # a Secret update swaps the file likewise

# --- the seed flow completes without restarting anything ------------------------------------
eventually '^True$' cond TLSCertificatesReady my status
expect '^CertificatesIssued$' cond TLSCertificatesReady my reason
expect 'All TLS certificates are issued: server until 20.*client until 20.*metrics-exporter until 20' cond TLSCertificatesReady my message
expect '^ok' curl -s "http://$HEALTH/readyz"
expect '^mysqlop_license_valid 1' curl -s "http://$METRICS/metrics"
expect '^mysqlop_license_expiry_timestamp_seconds [1-9]' curl -s "http://$METRICS/metrics"
expect '^my-client-cert my-metrics-exporter-cert my-server-cert$' field certificates -n demo -o 'jsonpath={.items[*].metadata.name}'
# Field by field.
CERT='{.spec.secretName}|{.spec.issuerRef.name}|{.spec.issuerRef.kind}|{.spec.issuerRef.group}|{.spec.commonName}|{.spec.dnsNames}|{.spec.ipAddresses}|{.spec.usages}|{.spec.secretTemplate.labels.app\.kubernetes\.io/instance}|{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}'
expect '^my-server-cert\|mysql-ca\|Issuer\|cert-manager.io\|my.demo.svc\|\["my","my.demo.svc","my.demo.svc.cluster.local","\*.my-pods.demo.svc","\*.my-pods.demo.svc.cluster.local","localhost"\]\|\["127.0.0.1"\]\|\["digital signature","key encipherment","server auth","client auth"\]\|my\|MySQL/my/true$' \
  field certificate my-server-cert -n demo -o "jsonpath=$CERT"
expect '^my-client-cert\|mysql-ca\|Issuer\|cert-manager.io\|root\|\|\|\["digital signature","key encipherment","client auth"\]\|my\|MySQL/my/true$' \
  field certificate my-client-cert -n demo -o "jsonpath=$CERT"
expect '^my-metrics-exporter-cert\|mysql-ca\|Issuer\|cert-manager.io\|my-metrics-exporter\|\|\|\["digital signature","key encipherment","client auth"\]\|my\|MySQL/my/true$' \
  field certificate my-metrics-exporter-cert -n demo -o "jsonpath=$CERT"
# The issued Secrets, through openssl.
crt() { "$K" get secret "$1" -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d > "$WORK/$1.crt"; }
crt my-server-cert; crt my-client-cert; crt my-metrics-exporter-cert
for s in my-server-cert my-client-cert my-metrics-exporter-cert; do
  expect 'OK$' openssl verify -CAfile "$WORK/ca.crt" "$WORK/$s.crt"
done
expect 'subject=CN ?= ?my.demo.svc' openssl x509 -in "$WORK/my-server-cert.crt" -noout -subject
expect 'DNS:my, DNS:my.demo.svc, DNS:my.demo.svc.cluster.local, DNS:\*.my-pods.demo.svc, DNS:\*.my-pods.demo.svc.cluster.local, DNS:localhost, IP Address:127.0.0.1' \
  openssl x509 -in "$WORK/my-server-cert.crt" -noout -ext subjectAltName
expect 'TLS Web Server Authentication, TLS Web Client Authentication' openssl x509 -in "$WORK/my-server-cert.crt" -noout -ext extendedKeyUsage
expect 'subject=CN ?= ?root' openssl x509 -in "$WORK/my-client-cert.crt" -noout -subject
expect 'TLS Web Client Authentication$' openssl x509 -in "$WORK/my-client-cert.crt" -noout -ext extendedKeyUsage
expect 'subject=CN ?= ?my-metrics-exporter' openssl x509 -in "$WORK/my-metrics-exporter-cert.crt" -noout -subject
expect '^MySQL/my$' field secret my-server-cert -n demo -o 'jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}'
expect '^my$' field secret my-server-cert -n demo -o 'jsonpath={.metadata.labels.app\.kubernetes\.io/instance}'
PW=$("$K" get secret my-auth -n demo -o 'jsonpath={.data.password}' | base64 -d)
expect "^\[client\] user=root password=$PW host=127.0.0.1 port=3306 ssl-ca=/etc/mysql/certs/ca.crt ssl-cert=/etc/mysql/certs/exporter.crt ssl-key=/etc/mysql/certs/exporter.key \$" \
  bash -c "'$K' get secret my-metrics-exporter-config -n demo -o 'jsonpath={.data.exporter\.cnf}' | base64 -d | tr '\n' ' '"
# ... and the community operator's StatefulSet follows.
eventually '^my$' field sts my -n demo -o 'jsonpath={.metadata.name}'
expect '--require-secure-transport=ON' field sts my -n demo -o 'jsonpath={.spec.template.spec.containers[0].args}'

# --- a converged MySQL costs the enterprise operator no write --------------------------------
reconciles() { curl -s "http://$METRICS/metrics" | awk '/^controller_runtime_reconcile_total\{controller="mysql-tls",result="success"\}/ {print $2}'; }
sleep 1.5
api DELETE /__sandbox/counters > /dev/null
BEFORE=$(reconciles)
"$K" label my my -n demo touched=yes > /dev/null
for _ in $(seq 1 50); do [[ "$(reconciles)" -gt "$BEFORE" ]] && break; sleep 0.1; done
sleep 1
[[ "$(reconciles)" -gt "$BEFORE" ]] || fail "no reconcile followed the label change"
WRITES=$(writes_by enterprise-operator)
[[ "$WRITES" == 0 ]] || { fail "a converged MySQL cost the enterprise operator $WRITES writes"; api GET /__sandbox/counters >&2; }

# --- a missing issuer; a ClusterIssuer with user overrides ----------------------------------
cat > "$WORK/corp.yaml" <<'YAML'
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: corp, namespace: demo}
spec:
  version: "8.4.3"
  storageType: Ephemeral
  deletionPolicy: Delete
  tls:
    issuerRef: {apiGroup: cert-manager.io, kind: ClusterIssuer, name: corp-ca}
    certificates:
    - alias: server
      secretName: corp-server-tls
      dnsNames: [db.example.com]
      ipAddresses: [10.0.0.5]
      subject: {organizations: [Acme], countries: [DE]}
      privateKey: {encoding: PKCS8}
    - alias: client
      secretName: corp-client-tls
      subject: {organizations: [Acme DBA]}
YAML
"$K" apply -f "$WORK/corp.yaml" > /dev/null
eventually '^IssuerNotFound$' cond TLSCertificatesReady corp reason
expect 'ClusterIssuer corp-ca \(spec.tls.issuerRef\) does not exist' cond TLSCertificatesReady corp message
"$K" create secret tls mysql-ca -n cert-manager --cert "$WORK/ca.crt" --key "$WORK/ca.key" > /dev/null
printf 'apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: corp-ca}\nspec: {ca: {secretName: mysql-ca}}\n' | "$K" apply -f - > /dev/null
eventually '^True$' cond TLSCertificatesReady corp status
"$K" get secret corp-server-tls -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d > "$WORK/corp-server.crt"
expect 'DNS:db.example.com' openssl x509 -in "$WORK/corp-server.crt" -noout -ext subjectAltName
expect 'IP Address:10.0.0.5' openssl x509 -in "$WORK/corp-server.crt" -noout -ext subjectAltName
expect 'subject=C ?= ?DE, O ?= ?Acme, CN ?= ?corp.demo.svc' openssl x509 -in "$WORK/corp-server.crt" -noout -subject
expect "^-----BEGIN $PK-----" bash -c "'$K' get secret corp-server-tls -n demo -o 'jsonpath={.data.tls\.key}' | base64 -d | head -1"
expect "^-----BEGIN RSA $PK-----" bash -c "'$K' get secret corp-client-tls -n demo -o 'jsonpath={.data.tls\.key}' | base64 -d | head -1"
expect 'O ?= ?Acme DBA, CN ?= ?root' bash -c "'$K' get secret corp-client-tls -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d | openssl x509 -noout -subject"
eventually '^corp$' field sts corp -n demo -o 'jsonpath={.metadata.name}'
expect '^corp-ca-bundle corp-server-tls corp-client-tls$' field sts corp -n demo -o 'jsonpath={.spec.template.spec.volumes[?(@.name=="tls-volume")].projected.sources[*].secret.name}'

# --- an application's Secret (no label of ours: not in the operators' caches) in a Certificate's way ---
"$K" create secret generic app-keys -n demo --from-literal=api-key=s3cr3t > /dev/null
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: clash, namespace: demo}
spec:
  version: "8.4.3"
  storageType: Ephemeral
  deletionPolicy: WipeOut
  tls:
    issuerRef: {apiGroup: cert-manager.io, kind: Issuer, name: mysql-ca}
    certificates:
    - {alias: server, secretName: app-keys}
YAML
eventually '^SecretNameConflict$' cond TLSCertificatesReady clash reason
expect 'Secret demo/app-keys exists and was not issued for Certificate clash-server-cert' cond TLSCertificatesReady clash message
expect_fail 'NotFound' "$K" get certificate clash-server-cert -n demo
expect '^s3cr3t$' bash -c "'$K' get secret app-keys -n demo -o 'jsonpath={.data.api-key}' | base64 -d"
"$K" delete my clash -n demo --wait=false > /dev/null
eventually 'NotFound' "$K" get my clash -n demo
expect '^s3cr3t$' bash -c "'$K' get secret app-keys -n demo -o 'jsonpath={.data.api-key}' | base64 -d"
# ... and an existing Certificate retargeted at it by an edit of the MySQL (issue 33): refused the
# same way; the Certificate keeps its Secret, app-keys is untouched.
retarget() {
  "$K" get my corp -n demo -o json | jq --arg s "$1" '(.spec.tls.certificates[] | select(.alias == "server") | .secretName) = $s' \
    | "$K" replace -f - > /dev/null
}
retarget app-keys
eventually '^SecretNameConflict$' cond TLSCertificatesReady corp reason
expect 'Secret demo/app-keys exists and was not issued for Certificate corp-server-cert' cond TLSCertificatesReady corp message
sleep 2   # what cert-manager would have done by now, had the Certificate moved
expect '^corp-server-tls$' field certificate corp-server-cert -n demo -o 'jsonpath={.spec.secretName}'
expect '^s3cr3t$' bash -c "'$K' get secret app-keys -n demo -o 'jsonpath={.data.api-key}' | base64 -d"
[[ "$("$K" get secret app-keys -n demo -o 'jsonpath={.metadata.annotations}')" != *certificate-name* ]] \
  || fail "cert-manager issued into app-keys"
retarget corp-server-tls
eventually '^CertificatesIssued$' cond TLSCertificatesReady corp reason

# --- deletion: WipeOut takes the TLS Secrets, Delete keeps them; Certificates go with the MySQL ---
# The enterprise operator's finalizer holds a WipeOut until it removed its Certificates: with the
# operator paused nothing is deleted (a Secret deleted while its Certificate exists would be issued
# again by cert-manager, and left behind).
expect '^kubedb.com mysqlop.io/tls-certificates$' field my my -n demo -o 'jsonpath={.metadata.finalizers[*]}'
kill -STOP "$ENTERPRISE_PID"
"$K" delete my my corp -n demo --wait=false > /dev/null
sleep 2
expect '^my-server-cert$' field secret my-server-cert -n demo -o 'jsonpath={.metadata.name}'
expect '^my-server-cert$' field certificate my-server-cert -n demo -o 'jsonpath={.metadata.name}'
kill -CONT "$ENTERPRISE_PID"
eventually 'NotFound' "$K" get my my -n demo
eventually 'NotFound' "$K" get my corp -n demo
sleep 2   # cert-manager would have issued a deleted Secret again by now
eventually '^$' field certificates -n demo -o 'jsonpath={.items[*].metadata.name}'
for s in my-server-cert my-client-cert my-metrics-exporter-cert my-metrics-exporter-config my-auth; do
  expect_fail 'NotFound' "$K" get secret "$s" -n demo
done
for s in corp-server-tls corp-client-tls corp-metrics-exporter-cert corp-auth; do
  expect "^$s\$" field secret "$s" -n demo -o 'jsonpath={.metadata.name}'
done
expect '^$' field secret corp-server-tls -n demo -o 'jsonpath={.metadata.ownerReferences}'

grep -q "$PK" "$WORK"/*.log && fail "a private key reached a log"
grep -qF "$PW" "$WORK"/*.log && fail "the root password reached a log"
if [[ $FAILED -ne 0 ]]; then
  for l in enterprise community cert-manager; do echo "--- $l log (tail)" >&2; tail -15 "$WORK/$l.log" >&2; done
fi
finish
