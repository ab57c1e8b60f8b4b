#!/usr/bin/env bash
# A CA rotation with no failed connection and no restart (issue 32), on the sandbox with the
# helm-installed operators as pods and a real MySQL 9.7 pod. The database's issuer is a `ca`
# Issuer over a CA that is itself a cert-manager Certificate re-keyed on renewal
# (privateKey.rotationPolicy: Always). Two client pods loop verified connections the whole time,
# each trusting the published bundle <db>-ca-bundle: one presents a client certificate of the old
# CA throughout, the other one of the new CA from the moment it exists. The CA is renewed (a new
# key): the enterprise operator reads it from the issuer's Secret and publishes it
# (<db>-issuer-ca), the bundle takes it and the pods load it before any certificate of it exists;
# then the client, server and exporter certificates are renewed one by one. Checked: zero failed
# connections in both loops, mysqld's Uptime never resets and no container restarts but the
# exporter's (it loads TLS files only at start), the status and Events say each step, and the old
# CA leaves the bundle only after nothing of the database uses it and the grace has passed (on the
# timeline); then the same with a ReconfigureTLS that moves the database to an issuer with another
# CA, whose certificates wait until every pod has loaded that CA. The exporter's mysql_up is
# sampled every 0.5 s and its misses printed. Needs root.
source "$(dirname "$0")/lib.sh" sbxc0 10.98.0.0/24
start_sandbox
# The grace after the old CA's last use, and the reload window, short enough to be watched.
install_operators --set mysqlop-community.caRetentionSeconds=20 --set mysqlop-community.trustPropagationSeconds=8 \
  --set mysqlop-enterprise.issuerCaPollSeconds=1
"$K" create namespace demo > /dev/null
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: root, namespace: demo}
spec: {selfSigned: {}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: mysql-ca, namespace: demo}
spec:
  isCA: true
  commonName: mysql-ca
  secretName: mysql-ca
  duration: 2160h
  privateKey: {algorithm: ECDSA, size: 256, rotationPolicy: Always}
  issuerRef: {kind: Issuer, name: root}
---
apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: mysql-ca, namespace: demo}
spec: {ca: {secretName: mysql-ca}}
YAML
for _ in $(seq 1 100); do "$K" get secret mysql-ca -n demo > /dev/null 2>&1 && break; sleep 0.2; done
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
YAML
expect 'condition met' "$K" wait --for=condition=Ready my/my -n demo --timeout=120s

fingerprint() { openssl x509 -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f; }
ca_of() { "$K" get secret "$1" -n demo -o 'jsonpath={.data.ca\.crt}' | base64 -d | fingerprint; }
issuer_ca() { "$K" get secret mysql-ca -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d | fingerprint; }
bundle() {  # the fingerprints of the bundle's CAs, in order
  rm -f "$WORK"/bundle-*.pem
  "$K" get secret my-ca-bundle -n demo -o 'jsonpath={.data.ca\.crt}' | base64 -d \
    | awk -v dir="$WORK" '/BEGIN/{n++} {print > (dir "/bundle-" n ".pem")}'
  local f; for f in "$WORK"/bundle-*.pem; do fingerprint < "$f"; done | paste -sd' '
}
trusted() { "$K" get my my -n demo -o 'jsonpath={range .status.tls.trustedCAs[*]}{.sha256}:{.loadedByPods}:{.usedBy}{"\n"}{end}'; }
mysql_restarts() { "$K" get pod my-0 -n demo -o 'jsonpath={.status.containerStatuses[?(@.name=="mysql")].restartCount}'; }
renew() {  # what `cmctl renew` does: an Issuing condition on the Certificate
  "$K" patch certificate "$1" -n demo --subresource=status --type=json \
    -p '[{"op":"add","path":"/status/conditions/-","value":{"type":"Issuing","status":"True","reason":"ManuallyTriggered","message":"Certificate re-issuance manually triggered"}}]' > /dev/null
}
wait_for() {  # wait_for SECONDS WHAT CMD...: CMD (a predicate below) holds within SECONDS
  local secs=$1 what=$2; shift 2
  for _ in $(seq 1 $((secs * 5))); do "$@" > /dev/null 2>&1 && return 0; sleep 0.2; done
  fail "$what (not within ${secs}s)"
  diagnose
  return 1
}
diagnose() {  # what the operators and the objects say, when a wait failed
  echo "--- issuer CA $(issuer_ca 2>&1); <db>-issuer-ca $("$K" get secret my-issuer-ca -n demo -o 'jsonpath={.data.ca\.crt}' 2>&1 | base64 -d 2>/dev/null | fingerprint 2>&1)" >&2
  echo "--- bundle: $(bundle 2>&1)" >&2
  echo "--- trustedCAs: $(trusted 2>&1 | paste -sd' ')" >&2
  echo "--- Ready: $("$K" get my my -n demo -o 'jsonpath={.status.conditions[?(@.type=="Ready")].message}' 2>&1)" >&2
  local l; for l in mysqlop-community mysqlop-enterprise; do echo "--- $l log (tail)" >&2; oplog "$l" | tail -12 >&2; done
}
loops_ok() { "$K" logs "client-$1" -n demo | grep -c ' ok$' || true; }
# The failed connections of a loop, before epoch $2 (all when not given).
loops_failed() { "$K" logs "client-$1" -n demo | awk -v before="${2:-9999999999}" '$2 == "FAIL" && $1 < before' || true; }
connects() { [[ $(loops_ok "$1") -gt 0 ]]; }
bundle_is() { [[ "$(bundle)" == "$1" ]]; }
rekeyed() { [[ "$(issuer_ca)" != "$A" ]]; }
loaded_by_pods() { trusted | grep -q "^$1:true:"; }
issued_by() { [[ "$(ca_of "$1")" == "$2" ]]; }
unused() { trusted | grep -q "^$1:[a-z]*:\[\]"; }

# copy_client_cert NAME: Secret NAME holding a copy of today's client certificate and key.
copy_client_cert() {
  "$K" get secret my-client-cert -n demo -o json \
    | jq --arg n "$1" '{apiVersion, kind, type, data: {"tls.crt": .data."tls.crt", "tls.key": .data."tls.key"}, metadata: {name: $n, namespace: "demo"}}' \
    | "$K" apply -f - > /dev/null
}
# sign_client_cert CA_SECRET NAME: Secret NAME holding a client certificate (CN root) the CA in
# CA_SECRET signs, with the authority key identifier, as cert-manager's certificates carry it:
# CAs re-keyed keep their subject, and a server holding two of one name finds the right one by
# it (without it OpenSSL tries the first CA of that name only).
sign_client_cert() {
  "$K" get secret "$1" -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d > "$WORK/$1.crt"
  "$K" get secret "$1" -n demo -o 'jsonpath={.data.tls\.key}' | base64 -d > "$WORK/$1.key"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/$2.key" -subj /CN=root 2> /dev/null \
    | openssl x509 -req -CA "$WORK/$1.crt" -CAkey "$WORK/$1.key" -days 1 -out "$WORK/$2.crt" \
        -extfile <(printf 'authorityKeyIdentifier=keyid\nextendedKeyUsage=clientAuth\n') 2> /dev/null
  "$K" create secret tls "$2" -n demo --cert "$WORK/$2.crt" --key "$WORK/$2.key" --dry-run=client -o yaml | "$K" apply -f - > /dev/null
}
# sample_exporter LOG: the exporter's mysql_up every 0.5 s into LOG, in the background ($SAMPLER).
sample_exporter() {
  ( while :; do
      if curl -s -m 2 "http://$EXPORTER/metrics" | grep -q '^mysql_up 1$'; then echo "$(date +%s) ok"; else echo "$(date +%s) FAIL"; fi
      sleep 0.5
    done ) > "$1" 2>&1 &
  SAMPLER=$!
}
# stop_sampler LOG: stops it and says what it saw.
stop_sampler() {
  kill "$SAMPLER" 2> /dev/null; wait "$SAMPLER" 2> /dev/null || true
  echo "  exporter: $(grep -c ' ok$' "$1") samples with mysql_up 1, $(grep -c FAIL "$1" || true) without" >&2
}

A=$(issuer_ca)
[[ "$(bundle)" == "$A" ]] || fail "the bundle should hold the issuer's CA $A alone, holds: $(bundle)"
[[ "$(ca_of my-server-cert)" == "$A" ]] || fail "the server certificate is not of CA $A"
UID0=$("$K" get pod my-0 -n demo -o jsonpath='{.metadata.uid}')

step "two client pods loop verified connections, trusting the bundle: one with a client certificate of the old CA, one with the new CA's once it exists"
# client-a presents a copy of today's client certificate (CA A) throughout; client-b presents what
# Secret probe-b holds: the same until the test puts a certificate of the new CA there.
copy_client_cert probe-a
copy_client_cert probe-b
for p in a b; do
  "$K" apply -f - > /dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: client-$p, namespace: demo}
spec:
  volumes:
  - {name: bundle, secret: {secretName: my-ca-bundle}}
  - {name: cert, secret: {secretName: probe-$p}}
  containers:
  - name: main
    image: mysql:9.7.4
    env: [{name: MYSQL_PWD, valueFrom: {secretKeyRef: {name: my-auth, key: password}}}]
    volumeMounts: [{name: bundle, mountPath: /bundle}, {name: cert, mountPath: /cert}]
    command:
    - /bin/sh
    - -c
    - |
      while :; do
        if out=\$(mysql -h my.demo.svc -uroot --ssl-mode=VERIFY_IDENTITY --ssl-ca=/bundle/ca.crt \\
                   --ssl-cert=/cert/tls.crt --ssl-key=/cert/tls.key -N -e 'SELECT 1' 2>&1); then
          echo "\$(date +%s) ok"
        else
          echo "\$(date +%s) FAIL \$out"
        fi
        sleep 0.2
      done
YAML
done
for p in a b; do expect 'condition met' "$K" wait --for=condition=Ready "pod/client-$p" -n demo --timeout=30s; done
wait_for 30 "client-a connects" connects a
wait_for 30 "client-b connects" connects b
# The exporter's mysql_up, sampled from the node every 0.5 s.
EXPORTER=$("$K" get pod my-0 -n demo -o 'jsonpath={.status.podIP}'):56790
sample_exporter "$WORK/exporter.log"
uptime_of() { "$K" exec client-a -n demo -- sh -c 'mysql -h my.demo.svc -uroot --ssl-mode=VERIFY_IDENTITY --ssl-ca=/bundle/ca.crt -N -e "SHOW GLOBAL STATUS LIKE \"Uptime\""' | awk '{print $2}'; }
U0=$(uptime_of)

step "the CA is re-keyed: its new CA is published and trusted by the pods before any certificate of it exists"
renew mysql-ca
wait_for 30 "cert-manager re-keyed the CA" rekeyed
B=$(issuer_ca)
T_REKEY=$SECONDS
wait_for 30 "the trust bundle takes the new CA" bundle_is "$A $B"
echo "  the bundle held A and B $((SECONDS - T_REKEY)) s after the re-key" >&2
for s in my-server-cert my-client-cert my-metrics-exporter-cert; do
  [[ "$(ca_of $s)" == "$A" ]] || fail "$s was re-issued before the new CA was trusted"
done
wait_for 40 "status.tls.trustedCAs says every pod loaded the new CA" loaded_by_pods "$B"
echo "  the pods had loaded B $((SECONDS - T_REKEY)) s after the re-key" >&2
trusted | grep -q "^$B:true:\[\"issuer\"\]" || fail "B should be used by the issuer alone: $(trusted)"

step "a client certificate of the new CA is accepted at once"
sign_client_cert mysql-ca probe-b
wait_for 20 "client-b presents the new CA's certificate" "$K" exec client-b -n demo -- sh -c \
  "openssl x509 -in /cert/tls.crt -noout -issuer | grep -q mysql-ca && openssl verify -CAfile /bundle/ca.crt /cert/tls.crt"

step "the leaves are renewed one by one (client, server, exporter): every connection still verifies"
for cert in my-client-cert my-server-cert my-metrics-exporter-cert; do
  renew "$cert"
  wait_for 30 "$cert is re-issued by the new CA" issued_by "$cert" "$B"
  sleep 3
done
wait_for 40 "nothing of the database uses A any more (my-0 serves B's certificate)" unused "$A"
T_UNUSED=$SECONDS
echo "  nothing used A any more $((T_UNUSED - T_REKEY)) s after the re-key" >&2
[[ "$(bundle)" == "$A $B" ]] || fail "A left the bundle as soon as it was unused: $(bundle)"
expect '^[0-9]+' "$K" get my my -n demo -o 'jsonpath={.status.tls.trustedCAs[0].leavesAfter}'
expect "TLSReloaded|TrustBundleChanged" "$K" get events -n demo --field-selector involvedObject.name=my

step "the old CA leaves the bundle after its grace, not before"
LEAVES=$("$K" get my my -n demo -o 'jsonpath={.status.tls.trustedCAs[0].leavesAfter}')
wait_for 60 "A leaves the bundle" bundle_is "$B"
LEFT=$(date +%s)
(( LEFT + 1 >= $(date -d "$LEAVES" +%s) )) || fail "A left the bundle at $(date -u -d @"$LEFT" +%FT%TZ), before its grace ended ($LEAVES)"
echo "  A left $((SECONDS - T_UNUSED)) s after the test saw it unused (grace 20 s, it was to leave after $LEAVES)" >&2
expect "removed sha256:${A:0:16}" "$K" get events -n demo --field-selector reason=TrustBundleChanged -o 'jsonpath={.items[*].message}'
stop_sampler "$WORK/exporter.log"

step "zero failed connections, no restart of mysqld"
for p in a b; do
  failed=$(loops_failed "$p" "$LEFT")
  echo "  client-$p: $(loops_ok "$p") verified connections, $(grep -c . <<<"$failed" || true) failed before A left" >&2
  [[ -z "$failed" ]] || fail "client-$p saw failed connections: $(head -3 <<<"$failed")"
done
# client-a's client certificate is of A, which has left: it is refused once the pods reloaded
# (what the grace is for), while client-b's goes on.
refused_since() { [[ -n "$(loops_failed a | awk -v since="$1" '$1 >= since')" ]]; }
wait_for 30 "client-a's certificate of the old CA is refused after A left the bundle" refused_since "$LEFT"
[[ -z "$(loops_failed b)" ]] || fail "client-b saw failed connections after A left: $(loops_failed b | head -3)"
U1=$(uptime_of)
(( U1 > U0 )) || fail "mysqld's Uptime went from $U0 to $U1: it restarted"
[[ "$(mysql_restarts)" == 0 ]] || fail "the mysql container restarted"
[[ "$("$K" get pod my-0 -n demo -o jsonpath='{.metadata.uid}')" == "$UID0" ]] || fail "the pod was recreated"
step "a ReconfigureTLS moves the database to an issuer with another CA: every pod loads that CA before any certificate of it is issued"
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: other-ca, namespace: demo}
spec:
  isCA: true
  commonName: other-ca
  secretName: other-ca
  privateKey: {algorithm: ECDSA, size: 256}
  issuerRef: {kind: Issuer, name: root}
---
apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: other-ca, namespace: demo}
spec: {ca: {secretName: other-ca}}
YAML
wait_for 30 "the other CA is issued" "$K" get secret other-ca -n demo
C=$("$K" get secret other-ca -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d | fingerprint)
# client-c presents what Secret probe-c holds: today's client certificate (CA B) until one of C exists.
copy_client_cert probe-c
"$K" get pod client-b -n demo -o json | jq '.metadata = {name: "client-c", namespace: "demo"} | .spec.volumes[1].secret.secretName = "probe-c" | del(.status)' \
  | "$K" apply -f - > /dev/null
expect 'condition met' "$K" wait --for=condition=Ready pod/client-c -n demo --timeout=30s
wait_for 30 "client-c connects" connects c
U2=$(uptime_of)
printf 'apiVersion: ops.kubedb.com/v1alpha1\nkind: MySQLOpsRequest\nmetadata: {name: move, namespace: demo}\nspec:\n  databaseRef: {name: my}\n  type: ReconfigureTLS\n  tls:\n    issuerRef: {apiGroup: cert-manager.io, kind: Issuer, name: other-ca}\n' \
  | "$K" apply -f - > /dev/null
T_MOVE=$SECONDS
sample_exporter "$WORK/exporter2.log"
op_phase() { "$K" get myops move -n demo -o 'jsonpath={.status.phase}'; }
C_IN="" C_LOADED="" C_ISSUED=""
for _ in $(seq 1 900); do
  if [[ -z "$C_IN" && " $(bundle) " == *" $C "* ]]; then
    C_IN=$SECONDS
    for s in my-server-cert my-client-cert my-metrics-exporter-cert; do
      [[ "$(ca_of $s)" == "$B" ]] || fail "$s was issued by the new issuer before its CA was in the bundle"
    done
  fi
  if [[ -n "$C_IN" && -z "$C_LOADED" ]] && loaded_by_pods "$C"; then
    C_LOADED=$SECONDS
    sign_client_cert other-ca probe-c
  fi
  if [[ -z "$C_ISSUED" ]]; then
    for s in my-server-cert my-client-cert my-metrics-exporter-cert; do
      [[ "$(ca_of $s)" == "$C" ]] && { C_ISSUED=$SECONDS; break; }
    done
  fi
  [[ -n "$C_ISSUED" && "$(op_phase)" =~ ^(Successful|Failed)$ ]] && break
  sleep 0.2
done
echo "  after the request: C in the bundle at +$((C_IN - T_MOVE)) s, loaded by every pod at +$((C_LOADED - T_MOVE)) s, its first certificate at +$((C_ISSUED - T_MOVE)) s; the request $(op_phase) at +$((SECONDS - T_MOVE)) s" >&2
[[ -n "$C_IN" && -n "$C_LOADED" && -n "$C_ISSUED" ]] || fail "the move did not go through: in ${C_IN:-never}, loaded ${C_LOADED:-never}, issued ${C_ISSUED:-never}"
(( C_ISSUED >= C_LOADED )) || fail "a certificate of the new issuer came before every pod had loaded its CA"
wait_for 120 "the ReconfigureTLS request succeeds" bash -c "[[ \$('$K' get myops move -n demo -o 'jsonpath={.status.phase}') == Successful ]]"
wait_for 60 "B leaves the bundle after its grace" bundle_is "$C"
LEFT_B=$(date +%s)
for p in b c; do
  failed=$(loops_failed "$p" "$LEFT_B")
  echo "  client-$p: $(loops_ok "$p") verified connections, $(grep -c . <<<"$failed" || true) failed before B left" >&2
  [[ -z "$failed" ]] || fail "client-$p saw failed connections: $(head -3 <<<"$failed")"
done
(( $(uptime_of) > U2 )) || fail "mysqld restarted during the move"
[[ "$(mysql_restarts)" == 0 ]] || fail "the mysql container restarted"
[[ "$("$K" get pod my-0 -n demo -o jsonpath='{.metadata.uid}')" == "$UID0" ]] || fail "the pod was recreated"
expect 'WaitingForTrust' "$K" get events -n demo --field-selector involvedObject.name=my
stop_sampler "$WORK/exporter2.log"
show_logs_on_failure
finish
