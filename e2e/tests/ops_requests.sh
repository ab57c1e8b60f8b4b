#!/usr/bin/env bash
# Day-2 TLS as an API (issue 19): MySQLOpsRequests run by the helm-installed enterprise operator on
# a real MySQL 9.7 pod holding a row, each result checked from a client pod as a user would:
# invalid requests fail naming the field; TLS added to a plain database (the client verifies, plain
# connections are refused, the row is there); every certificate rotated without a restart (each
# Certificate's revision up, new serials served); a new issuer (clients trusting the new CA
# verify, those trusting only the old one fail, nothing left behind); requireSSL off then on, the
# enterprise operator killed -9 in the middle of one (it resumes, restarts the pod once, finishes
# once); a request past its timeout fails, one that changes nothing is Skipped; two requests at
# once run one after the other (a Restart brings the staged template); a request deleted while it
# runs; a hand edit of requireSSL staged and said (PodTemplateOutdated) until a Restart applies it;
# TLS removed (no TLS flags, Certificates and TLS Secrets gone, the row still there). The
# database is never left paused.
# Each operation's wall time is printed. Needs root.
source "$(dirname "$0")/lib.sh" sbxq0 10.97.0.0/24
start_sandbox
# The pods load a new CA within seconds here (the sandbox kubelet syncs every 2 s): an issuer
# change waits this long for them (docs/tls.md §5), not the 120 s a real kubelet needs.
install_operators --set mysqlop-community.trustPropagationSeconds=10
"$K" create namespace demo > /dev/null
seed_ca demo   # Issuer mysql-ca over $WORK/ca.crt
cp "$WORK/ca.crt" "$WORK/old-ca.crt"
make_ca /CN=new-ca new-ca
"$K" create secret tls new-ca -n demo --cert "$WORK/new-ca.crt" --key "$WORK/new-ca.key" > /dev/null
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: new-ca, namespace: demo}
spec: {ca: {secretName: new-ca}}
YAML
# The CAs a client may trust, for the client pod.
"$K" create secret generic trust -n demo --from-file=old.crt="$WORK/old-ca.crt" --from-file=new.crt="$WORK/new-ca.crt" > /dev/null

jp() { "$K" get "$@" 2>&1; }
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: my, namespace: demo}
spec:
  version: "9.7.4"
  storageType: Durable
  storage: {resources: {requests: {storage: 1Gi}}}
  deletionPolicy: WipeOut
YAML
expect 'condition met' "$K" wait --for=condition=Ready my/my -n demo --timeout=120s
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: demo}
spec:
  volumes: [{name: trust, secret: {secretName: trust}}]
  containers:
  - name: main
    image: mysql:9.7.4
    env: [{name: MYSQL_PWD, valueFrom: {secretKeyRef: {name: my-auth, key: password}}}]
    volumeMounts: [{name: trust, mountPath: /trust}]
    command: [/bin/sh, -c, "sleep 3600"]
YAML
expect 'condition met' "$K" wait --for=condition=Ready pod/client -n demo --timeout=30s
PW=$("$K" get secret my-auth -n demo -o 'jsonpath={.data.password}' | base64 -d)
# plain: the row over a plain connection (fails under require_secure_transport).
# (caching_sha2_password without TLS: the client asks for the server's RSA key to send the password.)
plain() { in_client sh -c 'mysql -h my.demo.svc -uroot --ssl-mode=DISABLED --get-server-public-key -N -e "SELECT v FROM d.t" 2>&1'; }
# verified CA: the row over TLS, the server verified with the CA the client trusts (old.crt or new.crt).
verified() { in_client sh -c "mysql -h my.demo.svc -uroot --ssl-ca=/trust/$1 --ssl-mode=VERIFY_IDENTITY -N -e 'SELECT v FROM d.t' 2>&1"; }
# served CA: "SERIAL Verification: OK" as a fresh handshake from the client pod shows it.
served() {
  local out
  out=$(in_client sh -c "echo | openssl s_client -starttls mysql -connect my.demo.svc:3306 -CAfile /trust/$1 \
        -verify_hostname my.demo.svc -verify_return_error 2>&1")
  grep -q 'Verification' <<<"$out" || { echo "no handshake: ${out: -200}"; return 0; }
  echo "$(openssl x509 -noout -serial <<<"$out" 2>/dev/null | cut -d= -f2) $(grep -m1 -oE 'Verification( error)?: .*' <<<"$out")"
}
pod_uid() { jp pod my-0 -n demo -o 'jsonpath={.metadata.uid}'; }
mysql_restarts() { jp pod my-0 -n demo -o 'jsonpath={.status.containerStatuses[?(@.name=="mysql")].restartCount}'; }
revision() { jp certificate "$1" -n demo -o 'jsonpath={.status.revision}'; }
phase() { jp myops "$1" -n demo -o 'jsonpath={.status.phase}'; }
opcond() { jp myops "$1" -n demo -o "jsonpath={.status.conditions[?(@.type==\"$2\")].$3}"; }
# not_paused: the database carries neither the pause marker nor the Paused condition.
not_paused() {
  expect '^$' jp my my -n demo -o 'jsonpath={.metadata.annotations.ops\.kubedb\.com/paused-by}'
  expect '^$' jp my my -n demo -o 'jsonpath={.status.conditions[?(@.type=="Paused")].status}'
}
# said NAME REASON: how many times Events about request NAME said REASON (aggregated counts summed).
said() {
  "$K" get events -n demo --field-selector "involvedObject.name=$1" -o json \
    | jq --arg r "$2" '[.items[] | select(.reason == $r) | (.count // 1)] | add // 0'
}
# request NAME SPEC-YAML: a MySQLOpsRequest for `my`.
request() {
  printf 'apiVersion: ops.kubedb.com/v1alpha1\nkind: MySQLOpsRequest\nmetadata: {name: %s, namespace: demo}\nspec:\n  databaseRef: {name: %s}\n%s\n' \
    "$1" "${DB:-my}" "$2" | "$K" apply -f - > /dev/null
}
# finished NAME [SECONDS]: waits until the request ends; prints its phase.
finished() {
  local i p
  for ((i = 0; i < ${2:-120} * 5; i++)); do
    p=$(phase "$1")
    [[ "$p" == Successful || "$p" == Failed || "$p" == Skipped ]] && break
    sleep 0.2
  done
  echo "$p"
}
# run_op NAME SPEC-YAML: applies it, waits for Successful, prints its wall time.
run_op() {
  local t0=$SECONDS p
  request "$1" "$2"
  p=$(finished "$1")
  if [[ "$p" != Successful ]]; then
    fail "$1 ended '$p': $(jp myops "$1" -n demo -o jsonpath='{.status.conditions}')"
    oplog mysqlop-enterprise | grep -v '"level":"debug"' | tail -15 >&2
    finish
  fi
  echo "  $1: $p in $((SECONDS - t0)) s" >&2
  not_paused
}

step "a plain database holds a row"
in_client sh -c 'mysql -h my.demo.svc -uroot --ssl-mode=DISABLED --get-server-public-key -e "CREATE DATABASE d; CREATE TABLE d.t (v INT); INSERT INTO d.t VALUES (42)"'
expect '^42$' plain

step "invalid requests fail, naming the field"
request bad-both $'  type: ReconfigureTLS\n  tls: {remove: true, rotateCertificates: true}'
request bad-issuer $'  type: ReconfigureTLS\n  tls: {requireSSL: true}'
DB=nosuch request bad-db $'  type: Restart'
for r in bad-both bad-issuer bad-db; do [[ "$(finished $r 30)" == Failed ]] || fail "$r should fail: $(phase $r)"; done
expect 'spec.tls: Invalid value: remove and rotateCertificates cannot both be true' opcond bad-both Failed message
expect 'spec.tls.issuerRef: Required value: MySQL demo/my has no TLS yet' opcond bad-issuer Failed message
expect 'spec.databaseRef.name: MySQL demo/nosuch does not exist' opcond bad-db Failed message
expect 'Warning +InvalidOpsRequest +.*spec.tls.issuerRef' "$K" get events -n demo --field-selector involvedObject.name=bad-issuer
not_paused
expect '^42$' plain

step "add TLS with requireSSL: the client verifies, plain connections are refused, the row is there"
U0=$(pod_uid)
run_op add-tls $'  type: ReconfigureTLS\n  tls:\n    requireSSL: true\n    issuerRef: {apiGroup: cert-manager.io, kind: Issuer, name: mysql-ca}'
expect 'Verification: OK' served old.crt
expect '^42$' verified old.crt
OUT=$(plain) && fail "a plain connection should be refused: $OUT"
grep -q '^ERROR 3159 (HY000): Connections using insecure transport are prohibited' <<<"$OUT" || fail "MySQL's ERROR 3159 expected: $OUT"
echo "  plain connection refused: $OUT" >&2
[[ "$(pod_uid)" != "$U0" ]] || fail "adding TLS should have restarted the pod (new server arguments)"
expect 'add-tls +ReconfigureTLS +Successful' "$K" get myops -n demo
for c in DatabasePaused TLSConfigUpdated CertificateSynced RestartStatefulSet DBReady Successful DatabaseResumed; do
  expect '^True$' opcond add-tls "$c" status
done
expect 'SuccessfullyAddedTLSConfig' opcond add-tls TLSConfigUpdated reason
expect 'Restarting Pod: demo/my-0' "$K" describe myops add-tls -n demo
expect '--require-secure-transport=ON' jp sts my -n demo -o 'jsonpath={.spec.template.spec.containers[0].args}'

step "rotate every certificate: revisions up, new serials served, no restart"
U1=$(pod_uid)
declare -A REV
for a in server client metrics-exporter; do REV[$a]=$(revision "my-$a-cert"); done
S0=$(served old.crt)
run_op rotate $'  type: ReconfigureTLS\n  tls: {rotateCertificates: true}'
for a in server client metrics-exporter; do
  r=$(revision "my-$a-cert")
  [[ "$r" -gt "${REV[$a]}" ]] || fail "Certificate my-$a-cert: revision ${REV[$a]} then $r"
done
S1=$(served old.crt)
[[ "${S1%% *}" != "${S0%% *}" && "$S1" == *"Verification: OK" ]] || fail "the client should see a new verified serial: $S0 then $S1"
[[ "$(pod_uid)" == "$U1" ]] || fail "a rotation restarted the pod"
expect '^0$' mysql_restarts
expect '^True$' opcond rotate ReloadTLS status
expect '^$' opcond rotate RestartStatefulSet status

step "a new issuer: clients trusting the new CA verify, those trusting only the old one fail, nothing left behind"
run_op new-issuer $'  type: ReconfigureTLS\n  tls:\n    issuerRef: {apiGroup: cert-manager.io, kind: Issuer, name: new-ca}'
expect 'Verification: OK' served new.crt
expect 'Verification error' served old.crt
expect '^42$' verified new.crt
OUT=$(verified old.crt) && fail "a client trusting only the old CA should fail: $OUT"
[[ "$(jp secret my-server-cert -n demo -o 'jsonpath={.data.ca\.crt}' | base64 -d)" == "$(cat "$WORK/new-ca.crt")" ]] \
  || fail "the server Secret does not carry the new CA"
expect '^my-auth my-ca-bundle my-client-cert my-issuer-ca my-metrics-exporter-cert my-metrics-exporter-config my-server-cert $' \
  jp secret -n demo -l app.kubernetes.io/instance=my -o 'jsonpath={range .items[*]}{.metadata.name}{" "}{end}'
[[ "$(pod_uid)" == "$U1" ]] || fail "a new issuer restarted the pod"

step "requireSSL false (the enterprise operator killed -9 midway), then true"
EPOD=$(jp pods -n mysqlop -l app.kubernetes.io/name=mysqlop-enterprise -o 'jsonpath={.items[0].metadata.uid}')
T0=$SECONDS
request ssl-off $'  type: ReconfigureTLS\n  tls: {requireSSL: false}'
for _ in $(seq 1 300); do [[ -n "$(opcond ssl-off RestartStatefulSet status)" ]] && break; sleep 0.1; done
[[ -n "$(opcond ssl-off RestartStatefulSet status)" ]] || fail "ssl-off never began restarting: $(jp myops ssl-off -n demo -o jsonpath='{.status}')"
kill -KILL "$(cat "$WORK/node/pods/$EPOD/operator.pid")"
echo "  killed the enterprise operator while ssl-off was $(opcond ssl-off RestartStatefulSet message)" >&2
[[ "$(finished ssl-off)" == Successful ]] || fail "ssl-off after the kill: $(jp myops ssl-off -n demo -o jsonpath='{.status.conditions}')"
echo "  ssl-off: Successful in $((SECONDS - T0)) s (with the operator restarted)" >&2
not_paused
expect '^1$' said ssl-off RestartingPod
expect '^1$' said ssl-off Successful
expect '^42$' plain

step "a request that outlives its timeout fails and resumes the database; one that changes nothing is Skipped"
request ssl-on-slow $'  type: ReconfigureTLS\n  timeout: 1s\n  tls: {requireSSL: true}'
[[ "$(finished ssl-on-slow)" == Failed ]] || fail "ssl-on-slow should time out: $(phase ssl-on-slow)"
expect '^Timeout did not finish within 1s \(spec.timeout\)' jp myops ssl-on-slow -n demo \
  -o 'jsonpath={.status.conditions[?(@.type=="Failed")].reason} {.status.conditions[?(@.type=="Failed")].message}'
not_paused
# The spec says requireSSL already (the timed-out request wrote it); the pod may not run it yet:
# this one restarts it if so (Successful; Skipped when the timed-out one got that far), and then
# plain connections are refused.
request ssl-on $'  type: ReconfigureTLS\n  tls: {requireSSL: true}'
P=$(finished ssl-on)
[[ "$P" == Successful || "$P" == Skipped ]] || fail "ssl-on ended $P: $(jp myops ssl-on -n demo -o jsonpath='{.status.conditions}')"
echo "  ssl-on: $P (the timed-out request had $( [[ $P == Skipped ]] && echo "restarted" || echo "not restarted") the pod)" >&2
not_paused
OUT=$(plain) && fail "a plain connection should be refused again: $OUT"
request ssl-on-again $'  type: ReconfigureTLS\n  tls: {requireSSL: true}'   # nothing left to change
[[ "$(finished ssl-on-again 30)" == Skipped ]] || fail "ssl-on-again should be Skipped: $(phase ssl-on-again)"
expect 'already is as asked' opcond ssl-on-again Skipped message

step "a hand edit that changes server arguments is staged and said (PodTemplateOutdated), nothing restarts"
U3=$(pod_uid)
"$K" patch my my -n demo --type=merge -p '{"spec":{"requireSSL":false}}' > /dev/null
eventually '^True RestartRequired .*my-0 \(container mysql args: ---require-secure-transport=ON\)' jp my my -n demo \
  -o 'jsonpath={.status.conditions[?(@.type=="PodTemplateOutdated")].status} {.status.conditions[?(@.type=="PodTemplateOutdated")].reason} {.status.conditions[?(@.type=="PodTemplateOutdated")].message}'
sleep 2
[[ "$(pod_uid)" == "$U3" ]] || fail "a hand edit restarted the pod"
OUT=$(plain) && fail "the staged template should not have reached the server yet: $OUT"

step "two requests at once run one after the other; a Restart brings the staged template to the pod"
U2=$(pod_uid)
printf 'apiVersion: ops.kubedb.com/v1alpha1\nkind: MySQLOpsRequest\nmetadata: {name: q1-restart, namespace: demo}\nspec: {type: Restart, databaseRef: {name: my}}\n---\napiVersion: ops.kubedb.com/v1alpha1\nkind: MySQLOpsRequest\nmetadata: {name: q2-rotate, namespace: demo}\nspec: {type: ReconfigureTLS, databaseRef: {name: my}, tls: {rotateCertificates: true}}\n' \
  | "$K" apply -f - > /dev/null
eventually 'waiting for MySQLOpsRequest demo/q1-restart to finish' opcond q2-rotate Waiting message
[[ "$(finished q1-restart)" == Successful ]] || fail "q1-restart: $(phase q1-restart)"
[[ "$(finished q2-rotate)" == Successful ]] || fail "q2-rotate: $(phase q2-rotate)"
Q1_END=$(opcond q1-restart Successful lastTransitionTime)
Q2_START=$(jp myops q2-rotate -n demo -o 'jsonpath={.status.startTime}')
[[ "$Q2_START" > "$Q1_END" || "$Q2_START" == "$Q1_END" ]] || fail "q2-rotate started at $Q2_START, before q1-restart ended at $Q1_END"
[[ "$(pod_uid)" != "$U2" ]] || fail "the Restart did not restart the pod"
not_paused
expect '^42$' verified new.crt
expect '^42$' plain   # requireSSL false reached the server
expect '^$' jp my my -n demo -o 'jsonpath={.status.conditions[?(@.type=="PodTemplateOutdated")].status}'

step "a request deleted while it runs: the database is resumed"
request del-restart $'  type: Restart'
eventually '^True$' opcond del-restart DatabasePaused status
"$K" delete myops del-restart -n demo > /dev/null
eventually '^$' jp my my -n demo -o 'jsonpath={.metadata.annotations.ops\.kubedb\.com/paused-by}{.status.conditions[?(@.type=="Paused")].status}'
expect 'condition met' "$K" wait --for=condition=Ready my/my -n demo --timeout=60s

step "a request edited after it started fails, and the database is resumed"
request edited $'  type: Restart'
eventually '^True$' opcond edited DatabasePaused status
"$K" patch myops edited -n demo --type=merge -p '{"spec":{"timeout":"10m"}}' > /dev/null
[[ "$(finished edited 60)" == Failed ]] || fail "an edited request should fail: $(phase edited)"
expect 'spec changed after the request started' opcond edited Failed message
not_paused
expect 'condition met' "$K" wait --for=condition=Ready my/my -n demo --timeout=60s

step "remove TLS: plain again, no TLS flags, Certificates and TLS Secrets gone, the row there"
run_op remove-tls $'  type: ReconfigureTLS\n  tls: {remove: true}'
expect '^42$' plain
expect '^0$' in_client sh -c 'mysql -h my.demo.svc -uroot --ssl-mode=DISABLED --get-server-public-key -N -e "SELECT @@GLOBAL.require_secure_transport"'
ARGS=$(jp sts my -n demo -o 'jsonpath={.spec.template.spec.containers[0].args}')
grep -q -- '--ssl' <<<"$ARGS" && fail "TLS flags left: $ARGS"
expect '^$' jp certificates -n demo -o 'jsonpath={.items[*].metadata.name}'
expect '^my-auth $' jp secret -n demo -l app.kubernetes.io/instance=my -o 'jsonpath={range .items[*]}{.metadata.name}{" "}{end}'
expect 'SuccessfullyRemovedTLSConfig' opcond remove-tls TLSConfigUpdated reason
expect '^Ready$' jp my my -n demo -o 'jsonpath={.status.phase}'
expect 'remove-tls +ReconfigureTLS +Successful' "$K" get myops -n demo

step "a finished request is never run again"
W0=$("$K" get events -n demo --field-selector involvedObject.name=rotate -o json | jq '[.items[] | (.count // 1)] | add')
"$K" annotate myops rotate -n demo poke=1 > /dev/null
sleep 3
[[ "$(phase rotate)" == Successful ]] || fail "rotate changed phase: $(phase rotate)"
[[ "$("$K" get events -n demo --field-selector involvedObject.name=rotate -o json | jq '[.items[] | (.count // 1)] | add')" == "$W0" ]] \
  || fail "a finished request said something new"

no_403_in_operator_logs
show_logs_on_failure
finish
