#!/usr/bin/env bash
# The community operator's health checker end to end (issue 5): a real MariaDB with TLS from an
# openssl CA listens on 127.0.0.1:3306 inside a private network namespace, whose /etc/hosts (a
# private mount namespace) maps <db>.<ns>.svc there, as cluster DNS would. The operator dials
# the real name with the real protocol: `kubectl wait --for=condition=Ready` returns once it
# succeeds; a certificate for another host, a wrong CA, a plain connection under
# require_secure_transport and a stopped server each turn Ready False with the reason.
set -euo pipefail
if [[ -z "${MYSQLOP_PRIVATE_NS:-}" ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "FAIL: this test needs root (network and mount namespaces)" >&2; exit 1; }
  exec unshare --mount --net env MYSQLOP_PRIVATE_NS=1 bash "$0" "$@"
fi
source "$(dirname "$0")/../../e2e/sandbox/apiserver/tests/lib.sh"
OPERATOR=${OPERATOR:?path of the community-operator binary}
K=/usr/lib/google-cloud-sdk/bin/kubectl.1.33
CHART="$(cd "$(dirname "$0")/../../charts/mysqlop-community" && pwd)"
OP_PID="" DB_PID=""
stop_pid() { if [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; then kill -TERM "$1"; wait "$1" || true; fi; }
trap 'stop_pid "$OP_PID"; stop_pid "$DB_PID"; cleanup' EXIT

ip link set lo up
printf '127.0.0.1 localhost\n127.0.0.1 db.demo.svc plain.demo.svc\n' > "$WORK/hosts"
mount --bind "$WORK/hosts" /etc/hosts

# --- PKI: a CA, the server's certificate, one for another host, and an unrelated CA ----------
P="$WORK/pki"; mkdir -p "$P"
ossl() { openssl "$@" 2> /dev/null; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -subj /CN=mysql-ca -days 2
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/other-ca.key" -out "$P/other-ca.crt" -subj /CN=other-ca -days 2
leaf() {  # leaf NAME CN SAN
  ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/$1.key" -out "$P/$1.csr" -subj "/CN=$2"
  ossl x509 -req -in "$P/$1.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 1 -out "$P/$1.crt" \
    -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$3")
}
leaf server db.demo.svc 'DNS:db.demo.svc,DNS:db,IP:127.0.0.1'
leaf wrong elsewhere.demo.svc 'DNS:elsewhere.demo.svc'
leaf client root 'DNS:root'

# --- MariaDB on 127.0.0.1:3306 with TLS, requiring it ----------------------------------------
D="$WORK/db"; mkdir -p "$D"
cp "$P/ca.crt" "$D/ca.crt"; cp "$P/server.crt" "$D/server.crt"; cp "$P/server.key" "$D/server.key"
mariadb-install-db --no-defaults --datadir="$D/data" --user=root --auth-root-authentication-method=socket \
  --skip-test-db --innodb-log-file-size=8M > "$D/install.log" 2>&1
mariadbd --no-defaults --datadir="$D/data" --socket="$D/sock" --port=3306 --bind-address=127.0.0.1 --user=root \
  --pid-file="$D/pid" --log-error="$D/error.log" --ssl-ca="$D/ca.crt" --ssl-cert="$D/server.crt" \
  --ssl-key="$D/server.key" --require-secure-transport=ON --innodb-buffer-pool-size=16M --skip-name-resolve \
  > "$D/out.log" 2>&1 &
DB_PID=$!
sql() { mariadb --no-defaults --socket="$D/sock" -uroot -e "$1"; }
for _ in $(seq 1 200); do mariadb-admin --no-defaults --socket="$D/sock" -uroot ping > /dev/null 2>&1 && break; sleep 0.05; done

# --- the cluster side --------------------------------------------------------------------
start_apiserver
"$K" apply -f "$CHART/crds" > /dev/null
"$K" wait --for=condition=Established crd/mysqls.kubedb.com crd/mysqlversions.catalog.kubedb.com --timeout=20s > /dev/null
"$K" apply -f "$CHART/templates/mysqlversions.yaml" > /dev/null
"$K" create namespace demo > /dev/null
"$OPERATOR" --kubeconfig "$KUBECONFIG" --metrics-bind-address 0 --health-probe-bind-address 0 \
  --health-check-interval 1 2> "$WORK/operator.log" &
OP_PID=$!
cond() { "$K" get my "$2" -n demo -o "jsonpath={.status.conditions[?(@.type==\"$1\")].$3}" 2>&1; }

cat > "$WORK/db.yaml" <<'YAML'
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: db, namespace: demo}
spec:
  version: "8.4.3"
  storageType: Ephemeral
  requireSSL: true
  tls:
    issuerRef: {apiGroup: cert-manager.io, kind: Issuer, name: mysql-ca}
YAML
"$K" apply -f "$WORK/db.yaml" > /dev/null
# The root account gets the password the operator generated, as the image's entrypoint would.
eventually '^[A-Za-z0-9]{16}$' bash -c "'$K' get secret db-auth -n demo -o jsonpath='{.data.password}' | base64 -d"
PW=$("$K" get secret db-auth -n demo -o jsonpath='{.data.password}' | base64 -d)
sql "CREATE USER 'root'@'127.0.0.1' IDENTIFIED BY '$PW'; GRANT ALL ON *.* TO 'root'@'127.0.0.1';"
# What cert-manager (and the enterprise operator) write carries the database's labels (secretTemplate).
labelled() {
  "$K" label --local -f - -o yaml app.kubernetes.io/managed-by=kubedb.com app.kubernetes.io/name=mysqls.kubedb.com \
    "app.kubernetes.io/instance=$1" | "$K" create -f - > /dev/null
}
tls_secret() {  # what cert-manager writes: ca.crt, tls.crt, tls.key
  "$K" create secret generic "$1" -n demo --type=kubernetes.io/tls --from-file=ca.crt="$P/ca.crt" \
    --from-file=tls.crt="$P/$2.crt" --from-file=tls.key="$P/$2.key" --dry-run=client -o yaml | labelled db
}
tls_secret db-server-cert server
tls_secret db-client-cert client
tls_secret db-metrics-exporter-cert client
"$K" create secret generic db-metrics-exporter-config -n demo --from-literal=exporter.cnf='[client]' --dry-run=client -o yaml \
  | labelled db
# The checker dials once a pod is ready (a kubelet would say so in the StatefulSet's status).
pod_ready() {
  eventually "^$1\$" "$K" get sts "$1" -n demo -o 'jsonpath={.metadata.name}'
  "$K" patch sts "$1" -n demo --subresource=status --type=merge \
    -p "{\"status\":{\"replicas\":1,\"readyReplicas\":1,\"observedGeneration\":$("$K" get sts "$1" -n demo -o jsonpath='{.metadata.generation}')}}" > /dev/null
}
pod_ready db

# Ready once the checker connects over TLS, verifying the CA and the host name db.demo.svc.
expect 'condition met' "$K" wait --for=condition=Ready my/db -n demo --timeout=30s
expect '^ReadinessCheckSucceeded$' cond Ready db reason
expect 'db.demo.svc:3306 answered a query over TLSv1\.[23]' cond Ready db message
expect '^True$' cond AcceptingConnection db status
GEN=$("$K" get sts db -n demo -o jsonpath='{.metadata.generation}')
"$K" patch sts db -n demo --subresource=status --type=merge \
  -p "{\"status\":{\"replicas\":1,\"readyReplicas\":1,\"observedGeneration\":$GEN}}" > /dev/null
eventually '^db +8.4.3 +Ready ' "$K" get my db -n demo
expect '^True$' cond Provisioned db status

# A server certificate for another host: the host-name check fails.
cp "$P/wrong.crt" "$D/server.crt"; cp "$P/wrong.key" "$D/server.key"; sql "FLUSH SSL"
eventually '^False$' cond Ready db status
expect '^ReadinessCheckFailed$' cond Ready db reason
expect 'db.demo.svc.*(certificate|host|name|match)' cond Ready db message
expect '^db +8.4.3 +NotReady ' "$K" get my db -n demo
expect 'ReadinessCheckFailed' "$K" get events -n demo --field-selector involvedObject.name=db,type=Warning
cp "$P/server.crt" "$D/server.crt"; cp "$P/server.key" "$D/server.key"; sql "FLUSH SSL"
eventually '^True$' cond Ready db status
eventually '^db +8.4.3 +Ready ' "$K" get my db -n demo

# A new CA in the Secret while the server still serves the old one's certificate (a CA rotation,
# issue 32): the trust bundle db-ca-bundle holds both, and the check still verifies.
"$K" patch secret db-server-cert -n demo --type=merge \
  -p "{\"data\":{\"ca.crt\":\"$(base64 -w0 < "$P/other-ca.crt")\"}}" > /dev/null
eventually '^2$' bash -c "'$K' get secret db-ca-bundle -n demo -o 'jsonpath={.data.ca\\.crt}' | base64 -d | grep -c BEGIN"
expect '^True$' cond CARotationInProgress db status
expect '^True$' cond Ready db status
# A server presenting a certificate no CA of the database signed: not verified, not Ready.
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/stranger-ca.key" -out "$P/stranger-ca.crt" -subj /CN=stranger -days 2
ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/stranger.key" -out "$P/stranger.csr" -subj /CN=db.demo.svc
ossl x509 -req -in "$P/stranger.csr" -CA "$P/stranger-ca.crt" -CAkey "$P/stranger-ca.key" -CAcreateserial -days 1 \
  -out "$P/stranger.crt" -extfile <(printf 'subjectAltName=DNS:db.demo.svc,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
cp "$P/stranger.crt" "$D/server.crt"; cp "$P/stranger.key" "$D/server.key"; sql "FLUSH SSL"
eventually '^False$' cond Ready db status
expect '(certificate|verify|issuer|self.signed)' cond Ready db message
cp "$P/server.crt" "$D/server.crt"; cp "$P/server.key" "$D/server.key"; sql "FLUSH SSL"
tls_secret_data=$(base64 -w0 < "$P/ca.crt")
"$K" patch secret db-server-cert -n demo --type=merge -p "{\"data\":{\"ca.crt\":\"$tls_secret_data\"}}" > /dev/null
eventually '^True$' cond Ready db status

# A database without TLS against a server that requires it: the plain connection is refused.
# (MariaDB answers an insecure login with ERROR 1045; the same account and password work over
# TLS, as `db` shows.)
printf 'apiVersion: kubedb.com/v1\nkind: MySQL\nmetadata: {name: plain, namespace: demo}\nspec: {version: "8.4.3", storageType: Ephemeral, authSecret: {name: db-auth}}\n' \
  | "$K" apply -f - > /dev/null
pod_ready plain
eventually "plain.demo.svc:3306: ERROR 1045: Access denied for user 'root'@'127.0.0.1'" cond Ready plain message
expect '^True$' cond Ready db status
expect '^False$' cond AcceptingConnection plain status

# The server stops: a provisioned database is NotReady with the client's words.
stop_pid "$DB_PID"; DB_PID=""
eventually "Can't connect|Connection refused|ERROR 2002" cond Ready db message
eventually '^db +8.4.3 +NotReady ' "$K" get my db -n demo
grep -q 'PRIVATE KEY' "$WORK/operator.log" && fail "a private key reached the operator's log"
grep -q "$PW" "$WORK/operator.log" && fail "the root password reached the operator's log"
if [[ $FAILED -ne 0 ]]; then echo "--- operator log (tail)" >&2; tail -30 "$WORK/operator.log" >&2; fi
finish
