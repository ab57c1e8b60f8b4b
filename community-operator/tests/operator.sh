#!/usr/bin/env bash
# The community operator against a sandbox-apiserver, driven with real kubectl (issue 5):
# objects of a plain MySQL, the TLS gate and its release by hand-made Secrets, requireSSL
# toggling one flag, StatefulSet status moving conditions and phase, invalid specs, halting,
# each deletion policy, a user's auth Secret left alone, and zero writes on a converged MySQL.
source "$(dirname "$0")/../../e2e/sandbox/apiserver/tests/lib.sh"
source "$(dirname "$0")/lib.sh"

start_apiserver
"$K" apply -f "$CHART/crds" > /dev/null
"$K" wait --for=condition=Established crd/mysqls.kubedb.com crd/mysqlversions.catalog.kubedb.com --timeout=20s > /dev/null
expect 'mysqlversion.catalog.kubedb.com/8.4.3 created' "$K" apply -f "$CHART/templates/mysqlversions.yaml"
"$K" create namespace demo > /dev/null
"$K" create namespace elsewhere > /dev/null

"$OPERATOR" --kubeconfig "$KUBECONFIG" --metrics-bind-address 127.0.0.1:0 --metrics-secure=false --health-probe-bind-address 127.0.0.1:0 \
  --health-check-interval 1 --log-level debug --watch-namespace demo 2> "$WORK/operator.log" &
OP_PID=$!
for _ in $(seq 1 100); do grep -q '"serving metrics"' "$WORK/operator.log" && break; sleep 0.1; done
METRICS=$(sed -n 's/.*"serving metrics".*"address":"\([^"]*\)".*/\1/p' "$WORK/operator.log" | head -1)
HEALTH=$(sed -n 's/.*"serving health probes".*"address":"\([^"]*\)".*/\1/p' "$WORK/operator.log" | head -1)
eventually '^ok' curl -s "http://$HEALTH/readyz"

jp() { "$K" get "$@" 2>&1; }
cond() { "$K" get my "$2" -n demo -o "jsonpath={.status.conditions[?(@.type==\"$1\")].$3}" 2>&1; }

# A MySQL outside --watch-namespace is not the operator's business (checked at the end).
printf 'apiVersion: kubedb.com/v1\nkind: MySQL\nmetadata: {name: outside, namespace: elsewhere}\nspec: {version: "8.4.3", storageType: Ephemeral}\n' \
  | "$K" apply -f - > /dev/null

# --- a plain MySQL: every object, no gate ----------------------------------------------------
cat > "$WORK/plain.yaml" <<'YAML'
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: plain, namespace: demo}
spec:
  version: "8.4.3"
  storageType: Durable
  storage: {storageClassName: standard, resources: {requests: {storage: 1Gi}}}
  deletionPolicy: WipeOut
YAML
expect 'mysql.kubedb.com/plain created' "$K" apply -f "$WORK/plain.yaml"
eventually '^plain$' jp statefulset plain -n demo -o 'jsonpath={.metadata.name}'
expect '^kubernetes.io/basic-auth root [A-Za-z0-9]{16}$' bash -c \
  "'$K' get secret plain-auth -n demo -o jsonpath='{.type} {.data.username} {.data.password}' | { read t u p; echo \"\$t \$(base64 -d <<<\$u) \$(base64 -d <<<\$p)\"; }"
expect '^plain-auth$' jp my plain -n demo -o 'jsonpath={.spec.authSecret.name}'
expect '^3306 primary db$' jp svc plain -n demo -o 'jsonpath={.spec.ports[0].port} {.spec.ports[0].name} {.spec.ports[0].targetPort}'
expect '^None true$' jp svc plain-pods -n demo -o 'jsonpath={.spec.clusterIP} {.spec.publishNotReadyAddresses}'
expect_fail 'NotFound' "$K" get svc plain-stats -n demo
expect '^plain plain plain$' jp sa,role,rolebinding -n demo -l app.kubernetes.io/instance=plain -o 'jsonpath={.items[*].metadata.name}'
expect '^MySQL plain true true$' jp statefulset plain -n demo \
  -o 'jsonpath={.metadata.ownerReferences[0].kind} {.metadata.ownerReferences[0].name} {.metadata.ownerReferences[0].controller} {.metadata.ownerReferences[0].blockOwnerDeletion}'
expect '^mysql:8.4.3 plain-pods$' jp statefulset plain -n demo -o 'jsonpath={.spec.template.spec.containers[0].image} {.spec.serviceName}'
expect '^(\[\])?$' jp statefulset plain -n demo -o 'jsonpath={.spec.template.spec.containers[0].args}'
expect '^kubedb.com$' jp my plain -n demo -o 'jsonpath={.metadata.finalizers[*]}'
# What one pass made is said in one Event.
expect '^Successfully created service account demo/plain, .*governing service demo/plain-pods, .*database auth secret demo/plain-auth, StatefulSet demo/plain$' \
  "$K" get events -n demo --field-selector involvedObject.name=plain,reason=Created -o 'jsonpath={.items[*].message}'
# No pod is ready (no kubelet here): nothing is dialled, the check is pending — no Warning.
eventually '^False ReadinessCheckPending$' bash -c "echo \$('$K' get my plain -n demo -o 'jsonpath={.status.conditions[?(@.type==\"Ready\")].status} {.status.conditions[?(@.type==\"Ready\")].reason}')"
expect '^NAME +VERSION +STATUS +AGE' "$K" get my -n demo
expect '^plain +8.4.3 +Provisioning ' "$K" get my -n demo
expect '^False$' cond ReplicaReady plain status
expect '^$' "$K" get events -n demo --field-selector involvedObject.name=plain,type=Warning -o 'jsonpath={.items[*].reason}'
# The StatefulSet's status moves ReplicaReady (a kubelet would write this); with a pod ready the
# checker dials — no DNS for plain.demo.svc here: the failure is in the status, in the client's words.
GEN=$("$K" get sts plain -n demo -o jsonpath='{.metadata.generation}')
"$K" patch sts plain -n demo --subresource=status --type=merge \
  -p "{\"status\":{\"replicas\":1,\"readyReplicas\":1,\"observedGeneration\":$GEN}}" > /dev/null
eventually '^True$' cond ReplicaReady plain status
expect '^AllReplicasReady$' cond ReplicaReady plain reason
eventually 'plain.demo.svc' cond Ready plain message
expect '^ReadinessCheckFailed$' cond Ready plain reason

# --- a converged MySQL costs no write ---------------------------------------------------------
reconciles() { curl -s "http://$METRICS/metrics" | awk '/^controller_runtime_reconcile_total\{controller="mysql",result="success"\}/ {print $2}'; }
sleep 1.5  # let every follow-up of the status writes above drain
api DELETE /__sandbox/counters > /dev/null
BEFORE=$(reconciles)
"$K" annotate secret plain-auth -n demo touched=1 > /dev/null   # maps to the MySQL: a reconcile
"$K" label my plain -n demo team=db > /dev/null                 # the MySQL itself changes
for _ in $(seq 1 50); do [[ "$(reconciles)" -ge $((BEFORE + 2)) ]] && break; sleep 0.1; done
sleep 2.5  # two more health-check rounds
AFTER=$(reconciles)
[[ "$AFTER" -ge $((BEFORE + 2)) ]] || fail "no reconcile followed the changes ($BEFORE → $AFTER)"
WRITES=$(writes_by community-operator)
[[ "$WRITES" == 0 ]] || { fail "a converged MySQL cost $WRITES writes:"; api GET /__sandbox/counters >&2; }

# --- TLS: the gate, its release, requireSSL ---------------------------------------------------
cat > "$WORK/tls.yaml" <<'YAML'
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: secure, namespace: demo}
spec:
  version: "8.0.36"
  storageType: Ephemeral
  requireSSL: true
  monitor: {agent: prometheus.io/builtin}
  tls:
    issuerRef: {apiGroup: cert-manager.io, kind: Issuer, name: mysql-ca}
    certificates:
    - alias: server
      secretName: secure-tls-server
YAML
expect 'created' "$K" apply -f "$WORK/tls.yaml"
eventually 'wait for all necessary secrets for db demo/secure: Secrets secure-tls-server, secure-client-cert, secure-metrics-exporter-cert, secure-metrics-exporter-config [(]made by' cond Ready secure message
expect '^WaitingForTLSSecrets$' cond Ready secure reason
expect '^secure secure-pods secure-stats$' jp svc -n demo -l app.kubernetes.io/instance=secure -o 'jsonpath={.items[*].metadata.name}'
expect_fail 'NotFound' "$K" get sts secure -n demo
expect '^secure +8.0.36 +Provisioning ' "$K" get my secure -n demo
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/k.pem" -out "$WORK/c.pem" \
  -subj /CN=secure.demo.svc -days 1 2> /dev/null
# What cert-manager (and the enterprise operator) write carries the database's labels (secretTemplate).
labelled() {
  "$K" label --local -f - -o yaml app.kubernetes.io/managed-by=kubedb.com app.kubernetes.io/name=mysqls.kubedb.com \
    "app.kubernetes.io/instance=$1" | "$K" create -f - > /dev/null
}
for s in secure-tls-server secure-client-cert secure-metrics-exporter-cert; do
  "$K" create secret tls "$s" -n demo --cert "$WORK/c.pem" --key "$WORK/k.pem" --dry-run=client -o yaml | labelled secure
  sleep 0.3
  expect_fail 'NotFound' "$K" get sts secure -n demo   # still gated until the last one
done
"$K" create secret generic secure-metrics-exporter-config -n demo --from-literal=exporter.cnf='[client]' --dry-run=client \
  -o yaml | labelled secure
eventually '^secure$' jp sts secure -n demo -o 'jsonpath={.metadata.name}'
ARGS='{.spec.template.spec.containers[0].args}'
expect '--ssl-ca=/etc/mysql/certs/ca.crt.*--ssl-cert=/etc/mysql/certs/server.crt.*--ssl-key=/etc/mysql/certs/server.key.*--require-secure-transport=ON' \
  jp sts secure -n demo -o "jsonpath=$ARGS"
expect '^secure-ca-bundle secure-tls-server secure-client-cert$' jp sts secure -n demo \
  -o 'jsonpath={.spec.template.spec.volumes[?(@.name=="tls-volume")].projected.sources[*].secret.name}'
expect '^mysql exporter$' jp sts secure -n demo -o 'jsonpath={.spec.template.spec.containers[*].name}'
expect '^56790$' jp svc secure-stats -n demo -o 'jsonpath={.spec.ports[0].port}'
"$K" patch my secure -n demo --type=merge -p '{"spec":{"requireSSL":false}}' > /dev/null
eventually '^\["--ssl-capath=/etc/mysql/certs","--ssl-ca=/etc/mysql/certs/ca.crt","--ssl-cert=/etc/mysql/certs/server.crt","--ssl-key=/etc/mysql/certs/server.key"\]$' \
  jp sts secure -n demo -o "jsonpath=$ARGS"
"$K" patch my secure -n demo --type=json -p '[{"op":"remove","path":"/spec/monitor"}]' > /dev/null
eventually 'NotFound' "$K" get svc secure-stats -n demo

# --- invalid specs: a condition and an Event naming the field; nothing created ------------------
while IFS='|' read -r name spec field; do
  printf 'apiVersion: kubedb.com/v1\nkind: MySQL\nmetadata: {name: %s, namespace: demo}\nspec: %s\n' "$name" "$spec" > "$WORK/bad.yaml"
  expect 'created' "$K" apply -f "$WORK/bad.yaml"
  eventually '^InvalidSpec|VersionNotFound$' cond Ready "$name" reason
  expect "$field" cond Ready "$name" message
  expect "$field" "$K" get events -n demo --field-selector "involvedObject.name=$name,type=Warning"
  expect '^$' jp sts,svc,secret,sa -n demo -l "app.kubernetes.io/instance=$name" -o 'jsonpath={.items[*].metadata.name}'
done <<'TABLE'
bad-ssl|{version: "8.4.3", storageType: Ephemeral, requireSSL: true}|spec.requireSSL
bad-dup|{version: "8.4.3", storageType: Ephemeral, tls: {issuerRef: {kind: Issuer, name: ca}, certificates: [{alias: client}, {alias: client}]}}|spec.tls.certificates\[1\].alias: Duplicate value
bad-ip|{version: "8.4.3", storageType: Ephemeral, tls: {issuerRef: {kind: Issuer, name: ca}, certificates: [{alias: server, ipAddresses: ["10.0.0.300"]}]}}|spec.tls.certificates\[0\].ipAddresses\[0\]
bad-duration|{version: "8.4.3", storageType: Ephemeral, tls: {issuerRef: {kind: Issuer, name: ca}, certificates: [{alias: server, duration: "90 days"}]}}|spec.tls.certificates\[0\].duration
bad-group|{version: "8.4.3", storageType: Ephemeral, topology: {mode: GroupReplication}}|spec.tls: Required value: the members of a group verify
bad-env|{version: "8.4.3", storageType: Ephemeral, podTemplate: {spec: {env: [{name: MYSQL_ROOT_PASSWORD, value: x}]}}}|spec.podTemplate.spec.env\[0\].name
bad-storage|{version: "8.4.3", storageType: Durable}|spec.storage
bad-version|{version: "5.7.99", storageType: Ephemeral}|spec.version: MySQLVersion "5.7.99" not found
bad-negative|{version: "8.4.3", storageType: Ephemeral, tls: {issuerRef: {kind: Issuer, name: ca}, certificates: [{alias: server, duration: "-1h"}]}}|spec.tls.certificates\[0\].duration: Invalid value: "-1h": must be positive
a-mysql-name-that-is-far-too-long-for-its-statefulset|{version: "8.4.3", storageType: Ephemeral}|metadata.name: .*no more than 52 characters
TABLE
# What the CRD's schema already refuses never reaches the operator; kubectl names the field.
printf 'apiVersion: kubedb.com/v1\nkind: MySQL\nmetadata: {name: bad-kind, namespace: demo}\nspec: {version: "8.4.3", storageType: Ephemeral, tls: {issuerRef: {kind: Vault, name: ca}}}\n' > "$WORK/bad.yaml"
expect_fail 'spec.tls.issuerRef.kind: Unsupported value: "Vault"' "$K" apply -f "$WORK/bad.yaml"
printf 'apiVersion: kubedb.com/v1\nkind: MySQL\nmetadata: {name: bad-alias, namespace: demo}\nspec: {version: "8.4.3", storageType: Ephemeral, tls: {issuerRef: {kind: Issuer, name: ca}, certificates: [{alias: router}]}}\n' > "$WORK/bad.yaml"
expect_fail 'spec.tls.certificates\[0\].alias: Unsupported value: "router"' "$K" apply -f "$WORK/bad.yaml"
# Bounds on what users supply: too many names, an over-long version.
NAMES=$(python3 -c 'print(",".join("n%d.example.com" % i for i in range(65)))')
printf 'apiVersion: kubedb.com/v1\nkind: MySQL\nmetadata: {name: bad-many, namespace: demo}\nspec: {version: "8.4.3", storageType: Ephemeral, tls: {issuerRef: {kind: Issuer, name: ca}, certificates: [{alias: server, dnsNames: [%s]}]}}\n' "$NAMES" > "$WORK/bad.yaml"
expect_fail 'spec.tls.certificates\[0\].dnsNames: Too many: 65: must have at most 64 items' "$K" apply -f "$WORK/bad.yaml"
printf 'apiVersion: kubedb.com/v1\nkind: MySQL\nmetadata: {name: bad-long, namespace: demo}\nspec: {version: "%s", storageType: Ephemeral}\n' "$(printf '8%.0s' $(seq 1 65))" > "$WORK/bad.yaml"
expect_fail 'spec.version: Too long: may not be longer than 64' "$K" apply -f "$WORK/bad.yaml"
# Fixing the spec recovers it (here with a deprecated version, which runs with a warning).
"$K" patch my bad-version -n demo --type=merge -p '{"spec":{"version":"8.0.31"}}' > /dev/null
eventually '^bad-version$' jp sts bad-version -n demo -o 'jsonpath={.metadata.name}'
eventually '^ReadinessCheck' cond Ready bad-version reason
expect 'DeprecatedVersion.*MySQLVersion "8.0.31" is deprecated' "$K" get events -n demo \
  --field-selector involvedObject.name=bad-version,type=Warning

# --- a user's auth Secret is used and never changed; a foreign <db>-auth is not taken over -----
"$K" create secret generic mine -n demo --from-literal=username=root --from-literal=password=s3cret > /dev/null
"$K" create secret generic squat-auth -n demo --from-literal=password=theirs > /dev/null
BEFORE_MINE=$("$K" get secret mine -n demo -o jsonpath='{.metadata.resourceVersion}')
BEFORE_SQUAT=$("$K" get secret squat-auth -n demo -o jsonpath='{.metadata.resourceVersion}')
printf 'apiVersion: kubedb.com/v1alpha2\nkind: MySQL\nmetadata: {name: users, namespace: demo}\nspec: {version: "8.0.35", storageType: Ephemeral, authSecret: {name: mine}, terminationPolicy: WipeOut}\n' \
  > "$WORK/users.yaml"
printf 'apiVersion: kubedb.com/v1\nkind: MySQL\nmetadata: {name: squat, namespace: demo}\nspec: {version: "8.0.35", storageType: Ephemeral}\n' \
  > "$WORK/squat.yaml"
"$K" apply -f "$WORK/users.yaml" -f "$WORK/squat.yaml" > /dev/null
eventually '^users$' jp sts users -n demo -o 'jsonpath={.metadata.name}'
expect '^mine mine$' jp sts users -n demo -o 'jsonpath={.spec.template.spec.containers[0].env[*].valueFrom.secretKeyRef.name}'
eventually 'intended secret demo/squat-auth already exists and does not belong to MySQL demo/squat' cond Ready squat message
expect_fail 'NotFound' "$K" get sts squat -n demo
"$K" delete my users -n demo --wait=false > /dev/null   # WipeOut
eventually 'NotFound' "$K" get my users -n demo
expect "^$BEFORE_MINE$" jp secret mine -n demo -o 'jsonpath={.metadata.resourceVersion}'
expect "^$BEFORE_SQUAT theirs$" bash -c "echo \$('$K' get secret squat-auth -n demo -o jsonpath='{.metadata.resourceVersion}') \$('$K' get secret squat-auth -n demo -o jsonpath='{.data.password}' | base64 -d)"

# --- halting ---------------------------------------------------------------------------------
cat > "$WORK/halt.yaml" <<'YAML'
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: halt, namespace: demo}
spec:
  version: "8.4.3"
  storage: {resources: {requests: {storage: 1Gi}}}
  deletionPolicy: Halt
YAML
"$K" apply -f "$WORK/halt.yaml" > /dev/null
eventually '^halt$' jp sts halt -n demo -o 'jsonpath={.metadata.name}'
"$K" patch my halt -n demo --type=merge -p '{"spec":{"halted":true}}' > /dev/null
eventually 'NotFound' "$K" get sts halt -n demo
eventually '^halt +8.4.3 +Halted ' "$K" get my halt -n demo
expect '^halt halt-pods$' jp svc -n demo -l app.kubernetes.io/instance=halt -o 'jsonpath={.items[*].metadata.name}'
"$K" patch my halt -n demo --type=merge -p '{"spec":{"halted":false}}' > /dev/null
eventually '^halt$' jp sts halt -n demo -o 'jsonpath={.metadata.name}'
eventually '^halt +8.4.3 +Provisioning ' "$K" get my halt -n demo

# --- deletion policies ----------------------------------------------------------------------
# What a StatefulSet controller would make: a PVC per pod with the selector labels.
pvc() {
  printf 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data-%s-0\n  namespace: demo\n  labels: {app.kubernetes.io/name: mysqls.kubedb.com, app.kubernetes.io/instance: %s, app.kubernetes.io/managed-by: kubedb.com}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n' "$1" "$1" \
    | "$K" apply -f - > /dev/null
}
for p in Delete WipeOut DoNotTerminate; do
  n=$(tr 'A-Z' 'a-z' <<<"$p")
  printf 'apiVersion: kubedb.com/v1\nkind: MySQL\nmetadata: {name: %s, namespace: demo}\nspec: {version: "8.4.3", storage: {resources: {requests: {storage: 1Gi}}}, deletionPolicy: %s}\n' "$n" "$p" \
    | "$K" apply -f - > /dev/null
  eventually "^$n\$" jp sts "$n" -n demo -o 'jsonpath={.metadata.name}'
  pvc "$n"
done
pvc halt
for n in delete wipeout donotterminate halt; do "$K" delete my "$n" -n demo --wait=false > /dev/null; done
eventually 'NotFound' "$K" get my delete -n demo
eventually 'NotFound' "$K" get my wipeout -n demo
eventually 'NotFound' "$K" get my halt -n demo
# Delete: workload and PVCs go, the auth Secret stays; the owned Services are collected.
expect_fail 'NotFound' "$K" get sts delete -n demo
expect_fail 'NotFound' "$K" get pvc data-delete-0 -n demo
expect '^delete-auth$' jp secret delete-auth -n demo -o 'jsonpath={.metadata.name}'
eventually '^$' jp svc,sa -n demo -l app.kubernetes.io/instance=delete -o 'jsonpath={.items[*].metadata.name}'
# WipeOut: the secrets too.
expect_fail 'NotFound' "$K" get pvc data-wipeout-0 -n demo
expect_fail 'NotFound' "$K" get secret wipeout-auth -n demo
# Halt: only the workload goes.
expect_fail 'NotFound' "$K" get sts halt -n demo
expect '^data-halt-0$' jp pvc data-halt-0 -n demo -o 'jsonpath={.metadata.name}'
expect '^halt-auth$' jp secret halt-auth -n demo -o 'jsonpath={.metadata.name}'
# DoNotTerminate: nothing goes; the condition and a Warning Event say how to proceed.
eventually "set another policy, e.g. kubectl patch mysql donotterminate" cond DeletionBlocked donotterminate message
expect 'DeletionBlocked' "$K" get events -n demo --field-selector involvedObject.name=donotterminate,type=Warning
expect '^donotterminate$' jp sts donotterminate -n demo -o 'jsonpath={.metadata.name}'
expect '^data-donotterminate-0$' jp pvc data-donotterminate-0 -n demo -o 'jsonpath={.metadata.name}'
"$K" patch my donotterminate -n demo --type=merge -p '{"spec":{"deletionPolicy":"Delete"}}' > /dev/null
eventually 'NotFound' "$K" get my donotterminate -n demo
expect_fail 'NotFound' "$K" get pvc data-donotterminate-0 -n demo

# --- the operator's own surface ----------------------------------------------------------------
expect '^$' jp all,secret,sa -n elsewhere -l app.kubernetes.io/instance=outside -o 'jsonpath={.items[*].metadata.name}'
expect '^$' jp my outside -n elsewhere -o 'jsonpath={.metadata.finalizers}{.status}'
expect 'controller_runtime_reconcile_total\{controller="mysql"' curl -s "http://$METRICS/metrics"
grep -q 'PRIVATE KEY' "$WORK/operator.log" && fail "a private key reached the operator's log"
stop_operator
grep -q '"stopped"' "$WORK/operator.log" || fail "the operator did not stop cleanly on SIGTERM"
if [[ $FAILED -ne 0 ]]; then echo "--- operator log (tail)" >&2; tail -30 "$WORK/operator.log" >&2; fi
finish
