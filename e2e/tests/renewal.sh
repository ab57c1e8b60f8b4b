#!/usr/bin/env bash
# Renewals reach the running server (issue 15), on the sandbox with the helm-installed operators
# as pods and a real MySQL 9.7 pod: a server certificate that cert-manager renews by itself (a
# short duration), and a re-issue caused by a change of the MySQL's certificate entry, each
# reach mysqld without a restart — the client pod's `openssl s_client -starttls mysql` sees the
# new serial and verifies it, the pod's restart count stays 0 and mysqld's Uptime keeps growing,
# a connection opened before the renewal still answers afterwards, status.tls and the metrics
# show the new notAfter; a re-issued exporter certificate has the exporter started again inside
# its container (no container restart, the pod stays Ready), which then reports mysql_up 1; once converged, several health-check cycles cost no write; a
# certificate mysqld refuses to load leaves the old one served and says so (condition, Event);
# moving the sandbox clock past the renewal time renews, and MySQL refuses the certificate that is
# not valid yet by its clock (the valid one stays served). Needs root.
source "$(dirname "$0")/lib.sh" sbxr0 10.93.0.0/24
start_sandbox
install_operators
"$K" create namespace demo > /dev/null
seed_ca demo
# A server certificate of one hour, renewed 20 s after it is issued: cert-manager renews it by
# itself, again and again, until the entry changes below.
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: my, namespace: demo}
spec:
  version: "9.7.4"
  storageType: Ephemeral
  requireSSL: true
  monitor: {agent: prometheus.io/builtin}
  tls:
    issuerRef: {apiGroup: cert-manager.io, kind: Issuer, name: mysql-ca}
    certificates:
    - {alias: server, duration: 1h, renewBefore: 59m40s}
YAML
expect 'condition met' "$K" wait --for=condition=Ready my/my -n demo --timeout=120s

secret_serial() { "$K" get secret my-server-cert -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d | openssl x509 -noout -serial | cut -d= -f2; }
exporter_restarts() { "$K" get pod my-0 -n demo -o 'jsonpath={.status.containerStatuses[?(@.name=="exporter")].restartCount}'; }
mysql_restarts() { "$K" get pod my-0 -n demo -o 'jsonpath={.status.containerStatuses[?(@.name=="mysql")].restartCount}'; }
exporter_metrics() { curl -s "http://$("$K" get pod my-0 -n demo -o 'jsonpath={.status.podIP}'):56790/metrics"; }
status_tls() { "$K" get my my -n demo -o 'jsonpath={.status.tls.servedCertificates[0].serialNumber} {.status.tls.servedCertificates[0].matchesSecret}'; }
# A client pod: a long session opened now, and what a fresh handshake presents, on demand.
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: demo}
spec:
  volumes: [{name: certs, secret: {secretName: my-client-cert}}]
  containers:
  - name: main
    image: mysql:9.7.4
    env: [{name: MYSQL_PWD, valueFrom: {secretKeyRef: {name: my-auth, key: password}}}]
    volumeMounts: [{name: certs, mountPath: /certs}]
    command:
    - /bin/sh
    - -c
    - |
      mysql -h my.demo.svc -uroot --ssl-ca=/certs/ca.crt --ssl-mode=VERIFY_IDENTITY -N --unbuffered \
        -e "SELECT 'session', CONNECTION_ID(); DO SLEEP(25); SELECT 'session after', CONNECTION_ID();" &
      echo started; sleep 3600
YAML
expect 'condition met' "$K" wait --for=condition=Ready pod/client -n demo --timeout=30s
eventually '^session\s+[0-9]+' "$K" logs client -n demo
PW=$("$K" get secret my-auth -n demo -o 'jsonpath={.data.password}' | base64 -d)
# served [EPOCH]: "SERIAL Verification: OK" as a fresh handshake from the client pod shows it,
# verified now or at EPOCH (a client whose clock is the sandbox's).
served() {
  local out
  out=$(in_client sh -c "echo | openssl s_client -starttls mysql -connect my.demo.svc:3306 -CAfile /certs/ca.crt \
        -verify_hostname my.demo.svc -verify_return_error ${1:+-attime $1} 2>&1")
  grep -q 'Verification: ' <<<"$out" || { echo "no handshake: $out"; return 0; }
  echo "$(openssl x509 -noout -serial <<<"$out" 2>/dev/null | cut -d= -f2) $(grep -m1 -o 'Verification: .*' <<<"$out")"
}
uptime() {
  # TLS without verification: only the number matters here (the served certificate is checked on its own).
  in_client sh -c 'mysql -h my.demo.svc -uroot --ssl-mode=REQUIRED -N -e "SHOW GLOBAL STATUS LIKE \"Uptime\""' \
    | awk '{print $2}'
}

S0=$(secret_serial)
U0=$(uptime)
step "the server certificate renews by itself: the running server follows"
for _ in $(seq 1 600); do [[ "$(secret_serial)" != "$S0" ]] && break; sleep 0.1; done
S1=$(secret_serial)
[[ "$S1" != "$S0" ]] || fail "cert-manager did not renew the server certificate"
T0=$(date +%s)
for _ in $(seq 1 150); do [[ "$(status_tls)" == "$S1 true" || "$(secret_serial)" != "$S1" ]] && break; sleep 0.1; done
echo "  renewal reached the running server in $(( $(date +%s) - T0 )) s"
SEEN=$(served)
# cert-manager renews every 20 s here: the served serial is the renewed one or a later one, never S0.
[[ "${SEEN%% *}" != "$S0" && -n "${SEEN%% *}" ]] || fail "the server still presents the first certificate ($S0): $SEEN"
grep -q 'Verification: OK' <<<"$SEEN" || fail "the renewed certificate does not verify: $SEEN"
expect '^0$' mysql_restarts
U1=$(uptime)
[[ "$U1" =~ ^[0-9]+$ && "$U1" -gt "$U0" ]] || fail "mysqld restarted: Uptime $U0 then $U1"
expect 'TLSReloaded' "$K" get events -n demo --field-selector involvedObject.name=my

step "a change of the certificate entry re-issues it: the running server follows"
"$K" patch my my -n demo --type=json -p '[{"op":"replace","path":"/spec/tls/certificates/0","value":{"alias":"server","duration":"2160h","dnsNames":["extra.demo.svc"]}}]' > /dev/null
eventually 'DNS:extra.demo.svc' bash -c "'$K' get secret my-server-cert -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d | openssl x509 -noout -ext subjectAltName"
S2=$(secret_serial)
eventually "^$S2 true\$" status_tls
SEEN=$(served)
[[ "$SEEN" == "$S2 Verification: OK" ]] || fail "the client should see $S2 verified, saw: $SEEN"
NOT_AFTER=$("$K" get secret my-server-cert -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d | openssl x509 -noout -enddate | cut -d= -f2)
NA=$(date -u -d "$NOT_AFTER" +%Y-%m-%dT%H:%M:%SZ)
expect "^$NA\$" "$K" get my my -n demo -o 'jsonpath={.status.tls.earliestServedNotAfter}'
expect "^$NA\$" "$K" get my my -n demo -o 'jsonpath={.status.tls.servedCertificates[0].notAfter}'
expect '^True CertificatesCurrent$' "$K" get my my -n demo -o 'jsonpath={.status.conditions[?(@.type=="ServedCertificatesCurrent")].status} {.status.conditions[?(@.type=="ServedCertificatesCurrent")].reason}'
expect "TLS-EXPIRY" "$K" get my my -n demo -o wide
expect "Ready +[0-9a-z]+ +$NA( |$)" "$K" get my my -n demo -o wide --no-headers   # the timestamp, not a relative age (a standalone server: no topology columns after it)
OP_IP=$("$K" get pods -n mysqlop -l app.kubernetes.io/name=mysqlop-community -o jsonpath='{.items[0].status.podIP}')
# The chart serves metrics over HTTPS to whom RBAC lets read them: a scraper's ServiceAccount
# bound to the chart's metrics-reader ClusterRole.
"$K" create serviceaccount scraper -n demo > /dev/null
"$K" create clusterrolebinding scraper --clusterrole=mysqlop-mysqlop-community-metrics-reader --serviceaccount=demo:scraper > /dev/null
METRICS=$(curl -sk -H "Authorization: Bearer $("$K" create token scraper -n demo)" "https://$OP_IP:8443/metrics")
grep -qE "^mysqlop_certificate_expiration_timestamp_seconds\{.*alias=\"server\".*pod=\"my-0\".*source=\"served\".*\} $(date -u -d "$NOT_AFTER" +%s)" <<<"$METRICS" \
  || grep -qE "mysqlop_certificate_expiration_timestamp_seconds.*source=\"served\".* $(date -u -d "$NOT_AFTER" +%s)" <<<"$METRICS" \
  || fail "no served-expiry gauge with the new notAfter: $(grep mysqlop_certificate <<<"$METRICS")"
grep -qE '^mysqlop_tls_reloads_total\{.*result="success".*\} [1-9]' <<<"$METRICS" || fail "no successful reload counted: $(grep reloads <<<"$METRICS")"
expect '^0$' mysql_restarts

step "the exporter's certificate is re-issued: the exporter is started again inside its container to load it, the pod stays Ready"
eventually '^mysql_up 1$' exporter_metrics
expect '^0$' exporter_restarts
E0=$("$K" get secret my-metrics-exporter-cert -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d | openssl x509 -noout -serial)
"$K" patch my my -n demo --type=json -p '[{"op":"add","path":"/spec/tls/certificates/-","value":{"alias":"metrics-exporter","subject":{"organizations":["mysqlop-e2e"]}}}]' > /dev/null
eventually 'O ?= ?mysqlop-e2e' bash -c "'$K' get secret my-metrics-exporter-cert -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d | openssl x509 -noout -subject"
T_ISSUED=$(date +%s)
# mysqld_exporter 0.14 (the sandbox's) reads its TLS files once, when it starts: it is started
# again after the new ones were issued, so it uses them.
exporter_started() { awk '/^process_start_time_seconds/ {printf "%d", $2}' <<<"$(exporter_metrics)"; }
for _ in $(seq 1 300); do S=$(exporter_started); [[ -n "$S" && "$S" -ge "$T_ISSUED" ]] && break; sleep 0.1; done
STARTED=$(exporter_started)
[[ -n "$STARTED" && "$STARTED" -ge "$T_ISSUED" ]] || fail "the exporter started at ${STARTED:-?}, before its certificate was re-issued at $T_ISSUED"
echo "  the exporter was started again $(( STARTED - T_ISSUED )) s after its certificate was re-issued"
expect 'TLS files renewed: restarting mysqld_exporter' "$K" logs my-0 -n demo -c exporter
expect '^0$' exporter_restarts
expect '^0$' mysql_restarts
expect '^True$' "$K" get pod my-0 -n demo -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
for _ in $(seq 1 100); do grep -q '^mysql_up 1$' <<<"$(exporter_metrics)" && break; sleep 0.1; done
METRICS=$(exporter_metrics)
grep -q '^mysql_up 1$' <<<"$METRICS" || fail "the restarted exporter does not reach mysqld: $(grep '^mysql_up' <<<"$METRICS")"
[[ "$("$K" get secret my-metrics-exporter-cert -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d | openssl x509 -noout -serial)" != "$E0" ]] \
  || fail "the exporter's certificate was not re-issued"
U2=$(uptime)
[[ "$U2" =~ ^[0-9]+$ && "$U2" -gt "$U1" ]] || fail "mysqld restarted with the exporter: Uptime $U1 then $U2"

step "the session opened before the renewals still answers"
for _ in $(seq 1 60); do "$K" logs client -n demo | grep -q '^session after' && break; sleep 1; done
LOG=$("$K" logs client -n demo)
BEFORE_ID=$(awk '/^session\t/ {print $2}' <<<"$LOG"); AFTER_ID=$(awk '/^session after/ {print $3}' <<<"$LOG")
[[ -n "$BEFORE_ID" && "$BEFORE_ID" == "$AFTER_ID" ]] || fail "the session did not answer on the same connection: $LOG"

step "converged: health checks cost no write"
sleep 3
api DELETE /__sandbox/counters > /dev/null
sleep 6   # six health-check cycles (--health-check-interval=1)
# (Its Lease aside: the leader renews it every 2 s.)
W=$(api GET /__sandbox/counters | jq '[.counters[] | select((.user | test("community")) and (.verb | IN("create","update","patch","delete")))
  | select(.resource != "leases.coordination.k8s.io") | .count] | add // 0')
[[ "$W" == 0 ]] || fail "the community operator wrote $W times while nothing changed: $(api GET /__sandbox/counters | jq -c '[.counters[] | select(.user | test("community"))]')"
step "a certificate mysqld refuses to load: the old one stays served, the condition and an Event say so"
# With cert-manager paused, the Secret gets a certificate signed by the right CA and a key that
# does not belong to it (a hand edit gone wrong). ALTER INSTANCE RELOAD TLS fails; mysqld keeps
# serving S2.
SERVED=$(served)
kill -STOP "$E2E_CM_PID"
openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/bad.key" -subj /CN=my.demo.svc 2> /dev/null \
  | openssl x509 -req -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -days 2 -out "$WORK/bad.crt" \
      -extfile <(printf 'subjectAltName=DNS:my.demo.svc\nextendedKeyUsage=serverAuth\n') 2> /dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/other.key" 2> /dev/null
"$K" patch secret my-server-cert -n demo --type=merge \
  -p "{\"data\":{\"tls.crt\":\"$(base64 -w0 "$WORK/bad.crt")\",\"tls.key\":\"$(base64 -w0 "$WORK/other.key")\"}}" > /dev/null
cond_served() { "$K" get my my -n demo -o 'jsonpath={.status.conditions[?(@.type=="ServedCertificatesCurrent")].status} {.status.conditions[?(@.type=="ServedCertificatesCurrent")].reason} {.status.conditions[?(@.type=="ServedCertificatesCurrent")].message}'; }
for _ in $(seq 1 150); do [[ "$(cond_served)" == "False ReloadFailed"* ]] && break; sleep 0.1; done
expect '^False ReloadFailed .*my-0.*ALTER INSTANCE RELOAD TLS' cond_served
expect 'Warning +ReloadFailed' "$K" get events -n demo --field-selector involvedObject.name=my
[[ "$(served)" == "$SERVED" ]] || fail "mysqld should still serve what it served ($SERVED), serves: $(served)"
expect '^0$' mysql_restarts
kill -CONT "$E2E_CM_PID"   # cert-manager sees the key that does not match, re-issues: the server follows
eventually '^True CertificatesCurrent' cond_served

step "the sandbox clock passes the renewal time: cert-manager renews; mysqld refuses a certificate not valid yet"
# A server certificate of two hours, renewed one hour before its end; then an hour passes at
# once. cert-manager dates what it issues by that clock, so the renewed certificate starts an
# hour after the real time mysqld keeps: MySQL's ALTER INSTANCE RELOAD TLS refuses it (ERROR 3888
# "Invalid certificates"; MariaDB's FLUSH SSL took it). The server keeps serving the valid one,
# is not restarted, and the condition says why, until the new certificate is valid.
"$K" patch my my -n demo --type=json -p '[{"op":"replace","path":"/spec/tls/certificates/0","value":{"alias":"server","duration":"2h","renewBefore":"1h"}}]' > /dev/null
eventually 'notAfter' bash -c "'$K' get secret my-server-cert -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d | openssl x509 -noout -checkend 7300 >/dev/null || echo notAfter"
S3=$(secret_serial)
eventually "^$S3 true\$" status_tls
U3=$(uptime)
api POST /__sandbox/clock '{"advanceSeconds": 3630}' > /dev/null
for _ in $(seq 1 100); do [[ "$(secret_serial)" != "$S3" ]] && break; sleep 0.1; done
S4=$(secret_serial)
[[ "$S4" != "$S3" ]] || fail "cert-manager did not renew the server certificate once its clock passed the renewal time"
eventually '^False ReloadFailed .*my-0.*ALTER INSTANCE RELOAD TLS.*ERROR 3888.*Invalid certificates' cond_served
expect "^$S3 Verification: OK\$" served
expect '^0$' mysql_restarts
U4=$(uptime)
[[ "$U4" =~ ^[0-9]+$ && "$U4" -gt "$U3" ]] || fail "mysqld restarted: Uptime $U3 then $U4"

no_403_in_operator_logs
show_logs_on_failure
finish
