#!/usr/bin/env bash
# KubeDB manifests as users write them (issue 35): each file of e2e/tests/kubedb/ — written as
# KubeDB's documentation writes MySQL manifests — applied unchanged with kubectl to the sandbox,
# with the operators installed by helm and running as pods. Each converges to Ready with TLS
# verified from a client pod and what it asked for in effect, or is refused naming its field;
# none is left without a condition that says what it waits for. Needs root.
source "$(dirname "$0")/lib.sh" sbxm0 10.94.0.0/24
M="$ROOT/e2e/tests/kubedb"
start_sandbox
# This cluster serves the Prometheus Operator's ServiceMonitors (the community operator looks at start).
expect 'created' "$K" apply -f "$M/prometheus-operator-crd.yaml"
install_operators
"$K" create namespace demo > /dev/null
seed_ca demo

step "applying the manifests unchanged"
for f in custom-auth health-checker init-script config-secret pod-template service-templates monitor-operator topology init-restore; do
  expect 'created' "$K" apply -f "$M/$f.yaml"
done
# externallyManaged: the MySQL first, the Secret it names after it.
expect 'created' "$K" apply -f "$M/externally-managed.yaml"
eventually 'AuthSecretNotFound' "$K" get my ext -n demo -o 'jsonpath={.status.conditions[?(@.type=="Ready")].reason}'
expect 'ext-creds' "$K" get my ext -n demo -o 'jsonpath={.status.conditions[?(@.type=="Ready")].message}'
expect 'created' "$K" apply -f "$M/externally-managed-secret.yaml"
# Found within the community operator's 5 s recheck of a user's Secret (it is unlabelled, so no
# watch brings it; before that recheck it took the enterprise operator's minute of patience).
for _ in $(seq 1 40); do
  [[ $("$K" get my ext -n demo -o 'jsonpath={.status.conditions[?(@.type=="Ready")].reason}') != AuthSecretNotFound ]] && break
  sleep 0.5
done
[[ $("$K" get my ext -n demo -o 'jsonpath={.status.conditions[?(@.type=="Ready")].reason}') != AuthSecretNotFound ]] \
  || fail "the user's Secret, made after the MySQL, was not found within 20 s"

step "waiting for the databases to be Ready"
expect 'condition met' "$K" wait --for=condition=Ready my/auth my/ext my/hc my/seeded my/tls13 my/tuned my/exposed my/watched -n demo --timeout=240s

step "the refused ones say why, naming the field"
eventually 'InvalidSpec' "$K" get my group -n demo -o 'jsonpath={.status.conditions[?(@.type=="Ready")].reason}'
expect 'spec\.tls: Required value: the members of a group verify' "$K" get my group -n demo -o 'jsonpath={.status.conditions[?(@.type=="Ready")].message}'
eventually 'InvalidSpec' "$K" get my restored -n demo -o 'jsonpath={.status.conditions[?(@.type=="Ready")].reason}'
expect 'spec\.init\.waitForInitialRestore: Forbidden: restoring' "$K" get my restored -n demo -o 'jsonpath={.status.conditions[?(@.type=="Ready")].message}'
expect_fail 'NotFound' "$K" get statefulset group -n demo
# None without a condition that says where it stands.
NOCOND=$("$K" get my -n demo -o json | jq -r '.items[] | select(([.status.conditions[]? | select(.type=="Ready" and (.message // "") != "")] | length) == 0) | .metadata.name')
[[ -z "$NOCOND" ]] || fail "MySQLs without a Ready condition that says why: $NOCOND"

step "a client pod checks each database over verified TLS"
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: demo}
spec:
  volumes: [{name: certs, secret: {secretName: auth-client-cert}}]
  containers:
  - name: main
    image: mysql:9.7.4
    volumeMounts: [{name: certs, mountPath: /certs}]
    command: [sleep, "3600"]
YAML
expect 'condition met' "$K" wait --for=condition=Ready pod/client -n demo --timeout=60s
password() { "$K" get secret "$1" -n demo -o 'jsonpath={.data.password}' | base64 -d; }
verified() {  # DB PASSWORD SQL: the answer of a verified TLS connection to DB
  PW=$2 in_client mysql -h "$1.demo.svc" -uroot --ssl-mode=VERIFY_IDENTITY --ssl-ca=/certs/ca.crt -N -e "$3"
}
# Your own basic-auth Secret: your password, TLS 1.3, the name verified; plain refused.
PW_AUTH=$(password auth-creds)
expect '^Ssl_version\s+TLSv1\.3$' verified auth "$PW_AUTH" "SHOW STATUS LIKE 'Ssl_version'"
plain_auth() { PW=$PW_AUTH in_client mysql -h auth.demo.svc -uroot --ssl-mode=DISABLED -e 'SELECT 1'; }
expect_fail 'ERROR 3159' plain_auth
expect '^auth-creds$' "$K" get my auth -n demo -o 'jsonpath={.spec.authSecret.name}'
expect_fail 'NotFound' "$K" get secret auth-auth -n demo
# externallyManaged: yours, used as is.
expect '^Ssl_version\s+TLSv1\.3$' verified ext ext-secret-password "SHOW STATUS LIKE 'Ssl_version'"
# healthChecker: KubeDB's write check has its row.
expect '^1$' verified hc "$(password hc-auth)" 'SELECT COUNT(*) FROM kubedb_system.kubedb_write_check'
expect 'took a write' "$K" get my hc -n demo -o 'jsonpath={.status.conditions[?(@.type=="Ready")].message}'
# init.script: what the .sql and the .sh made, once.
expect $'^1\tfrom init.script\n2\tfrom a shell script$' verified seeded "$(password seeded-auth)" 'SELECT id, item FROM shop.orders ORDER BY id'
# configSecret: tls_version=TLSv1.3 refuses a TLS 1.2-only client; TLS 1.3 is served.
PW_TLS13=$(password tls13-auth)
expect $'^tls_version\tTLSv1\\.3\nmax_connections\t200$' verified tls13 "$PW_TLS13" \
  "SHOW VARIABLES LIKE 'tls_version'; SHOW VARIABLES LIKE 'max_connections'"
tls12_to() {  # DB PASSWORD: a client that speaks TLS 1.2 only
  PW=$2 in_client mysql -h "$1.demo.svc" -uroot --ssl-mode=VERIFY_IDENTITY --ssl-ca=/certs/ca.crt --tls-version=TLSv1.2 \
    -N -e "SHOW STATUS LIKE 'Ssl_version'"
}
expect_fail 'ERROR 2026' tls12_to tls13 "$PW_TLS13"
expect '^Ssl_version\s+TLSv1\.2$' tls12_to auth "$PW_AUTH"  # the same client, served where TLS 1.2 is allowed
# podTemplate: the container's resources and env, the pod's label.
expect '^512Mi 1Gi payments$' "$K" get pod tuned-0 -n demo \
  -o 'jsonpath={.spec.containers[0].resources.requests.memory} {.spec.containers[0].resources.limits.memory} {.metadata.labels.team}'
expect '^Europe/Berlin$' "$K" exec tuned-0 -n demo -c mysql -- printenv TZ
expect '^Ssl_version\s+TLSv1\.3$' verified tuned "$(password tuned-auth)" "SHOW STATUS LIKE 'Ssl_version'"
# serviceTemplates: the primary Service a LoadBalancer with its annotation, the stats Service
# labelled for the Prometheus that scrapes it; the exporter reports the server up.
expect '^LoadBalancer true$' "$K" get svc exposed -n demo \
  -o 'jsonpath={.spec.type} {.metadata.annotations.service\.beta\.kubernetes\.io/aws-load-balancer-internal}'
expect '^prometheus$' "$K" get svc exposed-stats -n demo -o 'jsonpath={.metadata.labels.release}'
EXPOSED_IP=$("$K" get pod exposed-0 -n demo -o jsonpath='{.status.podIP}')
eventually '^mysql_up 1' curl -s "http://$EXPOSED_IP:56790/metrics"
expect '^Ssl_version\s+TLSv1\.3$' verified exposed "$(password exposed-auth)" "SHOW STATUS LIKE 'Ssl_version'"

# monitor.agent prometheus.io/operator: KubeDB's ServiceMonitor for the stats Service.
expect '^prometheus 10s metrics stats$' "$K" get servicemonitor watched-stats -n demo \
  -o 'jsonpath={.metadata.labels.release} {.spec.endpoints[0].interval} {.spec.endpoints[0].port} {.spec.selector.matchLabels.kubedb\.com/role}'
WATCHED_IP=$("$K" get pod watched-0 -n demo -o jsonpath='{.status.podIP}')
eventually '^mysql_up 1' curl -s "http://$WATCHED_IP:56790/metrics"
expect '^Ssl_version\s+TLSv1\.3$' verified watched "$(password watched-auth)" "SHOW STATUS LIKE 'Ssl_version'"

step "WipeOut never deletes a Secret the user made"
expect 'deleted' "$K" delete my ext auth -n demo --timeout=90s
expect '^ext-creds$' "$K" get secret ext-creds -n demo -o 'jsonpath={.metadata.name}'
expect '^auth-creds$' "$K" get secret auth-creds -n demo -o 'jsonpath={.metadata.name}'
expect_fail 'NotFound' "$K" get secret ext-server-cert -n demo

no_403_in_operator_logs
show_logs_on_failure
step "done"
finish
