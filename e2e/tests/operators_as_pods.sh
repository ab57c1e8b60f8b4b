#!/usr/bin/env bash
# The operators as the charts deploy them, running as sandbox pods (issues 8 and 9): in private
# network and mount namespaces, sandbox-apiserver on the node address, sandbox-kubelet running
# pods from images (the operators' release images as scripts/images writes them, MySQL 9.7.4 and
# the exporter built from Debian's packages); `helm install` of the umbrella
# chart with the enterprise edition and a licence for this sandbox; the Deployments roll out
# (their pods Ready through /readyz over in-cluster config and the charts' RBAC), and the
# operators provision MySQLs as pods: TLS-only with monitoring (verified from a client pod, plain
# refused; the exporter sidecar reports mysql_up 1 over its own certificate), TLS
# without requireSSL (TLS offered, plain allowed) and no TLS (Ready without certificates).
# Needs root.
source "$(dirname "$0")/lib.sh" sbxo0 10.95.0.0/24
start_sandbox
install_operators
expect '1/1 +Running' "$K" get pods -n mysqlop -l app.kubernetes.io/name=mysqlop-community
expect 'licence accepted' oplog mysqlop-enterprise
# The charts' securityContext holds on the sandbox: the operators run as 65534 on a read-only root.
# And they run the release images: each pod's image ID is the configuration digest of the OCI
# archive scripts/images wrote (index.json → manifest → config).
VERSION=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$ROOT/charts/mysqlop-community/Chart.yaml")
archive_id() {  # ARCHIVE: the image ID an OCI archive carries
  local manifest
  manifest=$(tar -xOf "$1" index.json | jq -r '.manifests[0].digest' | sed 's|sha256:|blobs/sha256/|')
  tar -xOf "$1" "$manifest" | jq -r '.config.digest'
}
for l in mysqlop-community mysqlop-enterprise; do
  pod_uid=$("$K" get pods -n mysqlop -l "app.kubernetes.io/name=$l" -o jsonpath='{.items[0].metadata.uid}')
  expect '^Uid:\s+65534\s+65534' grep '^Uid:' "/proc/$(cat "$WORK/node/pods/$pod_uid/operator.pid")/status"
  WANT=$(archive_id "$ROOT/build/images/$l-operator-$VERSION.oci.tar")
  [[ "$WANT" == sha256:* ]] || fail "no image ID in the $l archive: $WANT"
  expect "^$WANT\$" "$K" get pods -n mysqlop -l "app.kubernetes.io/name=$l" -o 'jsonpath={.items[0].status.containerStatuses[0].imageID}'
done
# The seed flow, all in pods: CA → Issuer → MySQL with requireSSL → Ready.
"$K" create namespace demo > /dev/null
seed_ca demo
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: my, namespace: demo}
spec:
  version: "9.7.4"
  storageType: Durable
  storage: {resources: {requests: {storage: 1Gi}}}
  requireSSL: true
  deletionPolicy: WipeOut
  monitor: {agent: prometheus.io/builtin}
  tls:
    issuerRef: {apiGroup: cert-manager.io, kind: Issuer, name: mysql-ca}
YAML
# Beside it: TLS without requireSSL — with the user's own credentials, a password holding
# comment characters, quotes, a space and a line break, and the exporter — and no TLS at all
# (Ready without certificates).
"$K" create secret generic lax-creds -n demo --from-literal=username=root \
  --from-literal=password=$'p#ss;w"o\'r d\nline2' > /dev/null
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: lax, namespace: demo}
spec:
  version: "9.7.4"
  storageType: Ephemeral
  authSecret: {name: lax-creds}
  monitor: {agent: prometheus.io/builtin}
  tls:
    issuerRef: {apiGroup: cert-manager.io, kind: Issuer, name: mysql-ca}
---
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: plain, namespace: demo}
spec: {version: "9.7.4", storageType: Ephemeral}
YAML
expect 'condition met' "$K" wait --for=condition=Ready my/my -n demo --timeout=120s
expect 'condition met' "$K" wait --for=condition=Ready my/lax my/plain -n demo --timeout=120s
expect 'a plain connection' "$K" get my plain -n demo -o 'jsonpath={.status.conditions[?(@.type=="Ready")].message}'
expect '^$' "$K" get certificates -n demo -l app.kubernetes.io/instance=plain -o 'jsonpath={.items[*].metadata.name}'
# The exporter sidecar reaches mysqld with the exporter certificate (exporter.cnf) and reports it up.
MY_IP=$("$K" get pod my-0 -n demo -o jsonpath='{.status.podIP}')
eventually '^mysql_up 1' curl -s "http://$MY_IP:56790/metrics"
# The exporter of `lax` logs in with the odd password, as exporter.cnf carries it.
LAX_IP=$("$K" get pod lax-0 -n demo -o jsonpath='{.status.podIP}')
eventually '^mysql_up 1' curl -s "http://$LAX_IP:56790/metrics"
expect 'answered a query over TLSv1\.[23]' "$K" get my my -n demo -o 'jsonpath={.status.conditions[?(@.type=="Ready")].message}'
# As KubeDB's TLS guide checks it: kubectl exec into the database container, the server's TLS
# variables from the mysql client there.
SSLVARS=$("$K" exec -n demo my-0 -c mysql -- bash -c \
  'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql -u"$MYSQL_ROOT_USERNAME" -h 127.0.0.1 --ssl-mode=REQUIRED -N -e "SHOW VARIABLES LIKE \"%ssl%\"; SHOW VARIABLES LIKE \"require_secure_transport\""' 2>&1 || true)
for want in 'ssl_cert\s+/etc/mysql/certs/server.crt' 'ssl_key\s+/etc/mysql/certs/server.key' \
            'ssl_ca\s+/etc/mysql/certs/ca.crt' 'require_secure_transport\s+ON'; do
  grep -qE "$want" <<<"$SSLVARS" || fail "kubectl exec … show variables like '%ssl%' shows no /$want/: $SSLVARS"
done
# The database container is Oracle MySQL 9.7.4 in its own image: its root is not the machine's.
expect 'Ver 9\.7\.4' "$K" exec -n demo my-0 -c mysql -- mysqld --version
IMAGE_DEBIAN=$("$K" exec -n demo my-0 -c mysql -- cat /etc/debian_version || true)
[[ -n "$IMAGE_DEBIAN" && "$IMAGE_DEBIAN" != "$(cat /etc/debian_version)" ]] \
  || fail "the container's /etc/debian_version ($IMAGE_DEBIAN) should be the image's, not this machine's"
# kubectl port-forward to the Service, and a client on this machine verifying the server's
# certificate for 127.0.0.1 (in its SANs).
"$K" port-forward -n demo svc/my 13306:3306 > "$WORK/pf.out" 2>&1 &
PF=$!
eventually 'Forwarding from 127.0.0.1:13306' cat "$WORK/pf.out"
"$K" get secret my-client-cert -n demo -o 'jsonpath={.data.ca\.crt}' | base64 -d > "$WORK/my-ca.crt"
MYPW=$("$K" get secret my-auth -n demo -o 'jsonpath={.data.password}' | base64 -d)
expect 'Ssl_version\s+TLSv1\.[23]' mariadb --no-defaults -h 127.0.0.1 -P 13306 -uroot -p"$MYPW" --ssl-ca="$WORK/my-ca.crt" \
  --ssl-verify-server-cert -N -e "SHOW STATUS LIKE 'Ssl_version'"
kill "$PF" 2>/dev/null || true; wait "$PF" 2>/dev/null || true
# From a client pod: the client certificate, host-name verification, TLS in use, the server's
# certificate paths, require_secure_transport, and a plain connection refused.
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: demo}
spec:
  volumes: [{name: certs, secret: {secretName: my-client-cert}}, {name: lax, secret: {secretName: lax-creds}}]
  containers:
  - name: main
    image: mysql:9.7.4
    env: [{name: MYSQL_PWD, valueFrom: {secretKeyRef: {name: my-auth, key: password}}}]
    volumeMounts: [{name: certs, mountPath: /certs}, {name: lax, mountPath: /lax}]
    command:
    - /bin/sh
    - -c
    - |
      mysql -h my.demo.svc -uroot --ssl-ca=/certs/ca.crt --ssl-cert=/certs/tls.crt --ssl-key=/certs/tls.key \
        --ssl-mode=VERIFY_IDENTITY -N -e "SHOW STATUS LIKE 'Ssl_version'; SHOW VARIABLES LIKE 'ssl_cert'; SHOW VARIABLES LIKE 'require_secure_transport'"
      mysql -h my.demo.svc -uroot --ssl-mode=DISABLED -e 'SELECT 1' 2>&1 | sed 's/^/plain: /'
      openssl x509 -in /certs/tls.crt -noout -subject
      echo | openssl s_client -starttls mysql -connect my.demo.svc:3306 -CAfile /certs/ca.crt -verify_hostname my.demo.svc \
        -verify_return_error 2>&1 | grep -E '^(Verification|Verify return code|verify error)' | sed 's/^/s_client right name: /'
      echo | openssl s_client -starttls mysql -connect my.demo.svc:3306 -CAfile /certs/ca.crt -verify_hostname other.demo.svc \
        -verify_return_error 2>&1 | grep -E '^(Verification|Verify return code|verify error)' | sed 's/^/s_client other name: /'
      export MYSQL_PWD=$(cat /lax/password)
      mysql -h lax.demo.svc -uroot --ssl-mode=REQUIRED -N -e "SHOW STATUS LIKE 'Ssl_version'" | sed 's/^/lax-tls /'
      mysql -h lax.demo.svc -uroot --ssl-mode=DISABLED -N -e "SELECT 'lax-plain accepted'"
      echo done; sleep 3600
YAML
eventually '^done$' "$K" logs client -n demo
OUT=$("$K" logs client -n demo)
grep -qE '^Ssl_version\s+TLSv1\.3$' <<<"$OUT" || fail "no TLS 1.3: $OUT"
grep -qE '^ssl_cert\s+/etc/mysql/certs/server.crt$' <<<"$OUT" || fail "server certificate path: $OUT"
grep -qE '^require_secure_transport\s+ON$' <<<"$OUT" || fail "require_secure_transport: $OUT"
# MySQL's own words for a plain connection under require_secure_transport.
grep -q '^plain: ERROR 3159 (HY000): Connections using insecure transport are prohibited while --require_secure_transport=ON.$' <<<"$OUT" \
  || fail "a plain connection must be refused with ERROR 3159: $OUT"
grep -qE '^subject=CN ?= ?root$' <<<"$OUT" || fail "client certificate subject: $OUT"
grep -q '^s_client right name: Verification: OK$' <<<"$OUT" || fail "openssl s_client -starttls mysql must verify my.demo.svc: $OUT"
grep -q '^s_client right name: Verify return code: 0 (ok)$' <<<"$OUT" || fail "openssl s_client return code: $OUT"
grep -q '^s_client other name: verify error:num=62:hostname mismatch$' <<<"$OUT" \
  || fail "openssl s_client must refuse a host name the certificate does not carry: $OUT"
grep -qE '^lax-tls Ssl_version\s+TLSv1\.[23]$' <<<"$OUT" || fail "TLS must be offered without requireSSL: $OUT"
grep -q '^lax-plain accepted$' <<<"$OUT" || fail "plain connections must be allowed without requireSSL: $OUT"
no_403_in_operator_logs
show_logs_on_failure
finish
