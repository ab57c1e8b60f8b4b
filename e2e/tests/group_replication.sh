#!/usr/bin/env bash
# Group Replication with verified TLS (issue 31): a KubeDB-style group of three with requireSSL,
# the operators installed by helm and running as pods. Every member ONLINE with
# group_replication_ssl_mode=VERIFY_IDENTITY, each checked from a client pod over verified TLS;
# a row written through <db>.<ns>.svc is on every member; the Services follow the roles. Needs root.
source "$(dirname "$0")/lib.sh" sbxg0 10.92.0.0/24
start_sandbox
install_operators
"$K" create namespace demo > /dev/null
seed_ca demo
trap 'show_logs_on_failure; stop_sandbox' EXIT

step "a group of three, as KubeDB's TLS guide writes it"
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: my, namespace: demo}
spec:
  version: "9.7.4"
  replicas: 3
  topology:
    mode: GroupReplication
  storageType: Durable
  storage: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
  requireSSL: true
  tls:
    issuerRef: {apiGroup: cert-manager.io, kind: Issuer, name: mysql-ca}
  deletionPolicy: WipeOut
YAML
# The group's name is drawn once and recorded in the spec (KubeDB's mutator does the same).
eventually '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "$K" get my my -n demo -o 'jsonpath={.spec.topology.group.name}'
GROUP=$("$K" get my my -n demo -o 'jsonpath={.spec.topology.group.name}')
expect '^Single-Primary$' "$K" get my my -n demo -o 'jsonpath={.spec.topology.group.mode}'
if ! "$K" wait --for=condition=Ready my/my -n demo --timeout=300s > /dev/null; then
  fail "the group was not Ready within 300 s"
  "$K" get my my -n demo -o jsonpath='{.status}' >&2; echo >&2
  oplog mysqlop-community | grep -iE 'group|member' | tail -20 >&2
fi
expect 'True' "$K" get my my -n demo -o 'jsonpath={.status.conditions[?(@.type=="GroupReplicationOnline")].status}'
step "ready after ${SECONDS}s; group $GROUP"

step "a client pod with the client certificate"
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: demo}
spec:
  volumes: [{name: certs, secret: {secretName: my-client-cert}}]
  containers:
  - name: main
    image: mysql:9.7.4
    volumeMounts: [{name: certs, mountPath: /certs}]
    command: [sleep, "3600"]
YAML
expect 'condition met' "$K" wait --for=condition=Ready pod/client -n demo --timeout=60s
PW=$("$K" get secret my-auth -n demo -o 'jsonpath={.data.password}' | base64 -d)
# sql HOST SQL: the mysql 9.7 client in the client pod, the server's name verified, with the client certificate.
sql() {
  in_client mysql -uroot -h "$1" --connect-timeout=3 --ssl-mode=VERIFY_IDENTITY --ssl-ca=/certs/ca.crt --ssl-cert=/certs/tls.crt \
    --ssl-key=/certs/tls.key -N -B -e "$2"
}
export PW

step "every member: three ONLINE, one PRIMARY, VERIFY_IDENTITY between members, recovery over verified TLS"
for i in 0 1 2; do
  h=my-$i.my-pods.demo.svc
  expect '^3$' sql "$h" "SELECT COUNT(*) FROM performance_schema.replication_group_members WHERE MEMBER_STATE='ONLINE'"
  expect '^1$' sql "$h" "SELECT COUNT(*) FROM performance_schema.replication_group_members WHERE MEMBER_ROLE='PRIMARY'"
  expect "^VERIFY_IDENTITY	1	1	$GROUP\$" sql "$h" \
    "SELECT @@group_replication_ssl_mode, @@group_replication_recovery_use_ssl, @@group_replication_recovery_ssl_verify_server_cert, @@group_replication_group_name"
  expect '^TLSv1.3$' sql "$h" "SELECT VARIABLE_VALUE FROM performance_schema.session_status WHERE VARIABLE_NAME='Ssl_version'"
done
PRIMARY=$("$K" get pods -n demo -l kubedb.com/role=primary -o 'jsonpath={.items[*].metadata.name}')
[[ "$PRIMARY" =~ ^my-[012]$ ]] || fail "one pod labelled kubedb.com/role=primary, got: '$PRIMARY'"
expect "^$PRIMARY\$" "$K" get my my -n demo -o 'jsonpath={.status.group.primary}'
expect '^2$' bash -c "'$K' get pods -n demo -l kubedb.com/role=standby -o name | wc -l"
# Through the primary Service: the primary's name, a write; it is on every member.
expect "^$PRIMARY\$" sql my.demo.svc "SELECT SUBSTRING_INDEX(@@report_host, '.', 1)"
expect "^my-[012]\$" sql my-standby.demo.svc "SELECT SUBSTRING_INDEX(@@report_host, '.', 1)"
[[ $(sql my-standby.demo.svc "SELECT SUBSTRING_INDEX(@@report_host, '.', 1)") != "$PRIMARY" ]] || fail "my-standby reached the primary"
sql my.demo.svc "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT); INSERT INTO app.t VALUES (1, 'written before')"
for i in 0 1 2; do
  eventually '^written before$' sql "my-$i.my-pods.demo.svc" "SELECT v FROM app.t WHERE id = 1"
done
# A secondary refuses writes.
expect_fail 'super-read-only' sql my-standby.demo.svc "INSERT INTO app.t VALUES (2, 'no')"
# The replication user has no password and is bound to the server certificate's subject.
expect '^SPECIFIED	/CN=my.demo.svc$' sql my.demo.svc "SELECT ssl_type, CONVERT(x509_subject USING utf8mb4) FROM mysql.user WHERE user = 'mysqlop_repl'"
oplog mysqlop-community | grep -qi 'mysqlop_repl.*password\|IDENTIFIED BY' && fail "the community operator's log shows a replication password"

# pid_of POD CONTAINER: the host pid of a container's main process (the sandbox kubelet's record).
pid_of() {
  local uid
  uid=$("$K" get pod "$1" -n demo -o jsonpath='{.metadata.uid}')
  cat "$WORK/node/pods/$uid/$2.pid"
}
now_ms() { date +%s%3N; }
ROWS=1
# failover HOW: the primary goes (HOW: delete = kubectl delete pod, kill = kill -9 of its mysqld);
# a new primary is elected within 15 s, the Service my follows within 10 s more, a client retrying
# through my.demo.svc (verified) finds every committed row, the old member rejoins as a secondary.
failover() {
  local how=$1 old new t0 t1="" t2="" other i n
  old=$("$K" get pods -n demo -l kubedb.com/role=primary -o 'jsonpath={.items[0].metadata.name}')
  [[ -n "$old" ]] || { fail "no primary before the failover ($how)"; return 0; }
  for i in 0 1 2; do [[ "my-$i" != "$old" ]] && other=my-$i && break; done
  for n in $(seq 1 20); do sql my.demo.svc "INSERT INTO app.t VALUES ($((ROWS + n)), 'before $how')"; done
  ROWS=$((ROWS + 20))
  step "failover by $how of the primary $old (watching from $other)"
  t0=$(now_ms)
  if [[ $how == delete ]]; then
    "$K" delete pod "$old" -n demo --wait=false > /dev/null
  else
    kill -9 "$(pid_of "$old" mysql)"
  fi
  for _ in $(seq 1 300); do
    new=$(sql "$other.my-pods.demo.svc" "SELECT SUBSTRING_INDEX(MEMBER_HOST, '.', 1) FROM performance_schema.replication_group_members
           WHERE MEMBER_ROLE = 'PRIMARY' AND MEMBER_STATE = 'ONLINE'" 2>/dev/null || true)
    if [[ -n "$new" && "$new" != "$old" ]]; then t1=$(now_ms); break; fi
    sleep 0.2
  done
  [[ -n "$t1" ]] || { fail "$how: no new primary within 60 s"; return 0; }
  # A client retrying through the primary Service, verifying the server's name each time.
  for _ in $(seq 1 300); do
    [[ $(sql my.demo.svc "SELECT SUBSTRING_INDEX(@@report_host, '.', 1)" 2>/dev/null || true) == "$new" ]] && { t2=$(now_ms); break; }
    sleep 0.2
  done
  [[ -n "$t2" ]] || { fail "$how: the Service my did not reach the new primary $new within 60 s"; return 0; }
  echo "failover by $how: new primary $new after $(( (t1 - t0) )) ms, Service my on it $(( (t2 - t1) )) ms later" >&2
  (( t1 - t0 <= 15000 )) || fail "$how: the new primary took $(( t1 - t0 )) ms (more than 15 s)"
  if (( t2 - t1 > 10000 )); then
    fail "$how: the Service followed $(( t2 - t1 )) ms after the new primary (more than 10 s)"
    oplog mysqlop-community | grep -E 'role label|acting|database check' | tail -12 | cut -c1-300 >&2
  fi
  expect "^$ROWS\$" sql my.demo.svc "SELECT COUNT(*) FROM app.t"
  # The old member comes back as a secondary, with every row.
  eventually_long() { local i; for i in $(seq 1 120); do "$@" > /dev/null 2>&1 && return 0; sleep 1; done; return 1; }
  eventually_long bash -c "[[ \$('$K' get pod $old -n demo -o 'jsonpath={.metadata.labels.kubedb\.com/role}') == standby ]]" \
    || fail "$how: $old did not rejoin as a secondary within 120 s"
  expect "^$ROWS\$" sql "$old.my-pods.demo.svc" "SELECT COUNT(*) FROM app.t"
  expect '^3$' sql "$old.my-pods.demo.svc" "SELECT COUNT(*) FROM performance_schema.replication_group_members WHERE MEMBER_STATE='ONLINE'"
}
failover delete
failover kill
expect 'True' "$K" get my my -n demo -o 'jsonpath={.status.conditions[?(@.type=="GroupReplicationOnline")].status}'

step "a full restart with my-0 behind the others: bootstrapped again from a member holding every row"
# The community operator stopped, so that nothing brings my-0 back while it falls behind.
expect 'scaled' "$K" scale deployment/mysqlop-mysqlop-community -n mysqlop --replicas=0
for _ in $(seq 1 100); do
  [[ -z $("$K" get pods -n mysqlop -l app.kubernetes.io/name=mysqlop-community -o name) ]] && break
  sleep 0.2
done
UUID1=$(sql my-1.my-pods.demo.svc "SELECT @@server_uuid")
# my-0 must not be the primary when it leaves: the primary moves to my-1 first.
[[ $(sql my-0.my-pods.demo.svc "SELECT MEMBER_ROLE FROM performance_schema.replication_group_members WHERE MEMBER_ID = @@server_uuid") != PRIMARY ]] \
  || sql my-0.my-pods.demo.svc "SELECT group_replication_set_as_primary('$UUID1')" > /dev/null
sql my-0.my-pods.demo.svc "STOP GROUP_REPLICATION"
WRITER=$(sql my-1.my-pods.demo.svc "SELECT SUBSTRING_INDEX(MEMBER_HOST, '.', 1) FROM performance_schema.replication_group_members WHERE MEMBER_ROLE = 'PRIMARY'")
for n in $(seq 1 10); do sql "$WRITER.my-pods.demo.svc" "INSERT INTO app.t VALUES ($((ROWS + n)), 'my-0 misses this')"; done
ROWS=$((ROWS + 10))
expect "^$((ROWS - 10))\$" sql my-0.my-pods.demo.svc "SELECT COUNT(*) FROM app.t"
OLD_UIDS=$("$K" get pods my-0 my-1 my-2 -n demo -o 'jsonpath={.items[*].metadata.uid}')
expect 'deleted' "$K" delete pod my-0 my-1 my-2 -n demo
# new_and_ready: three pods, none of the old ones, every one Ready.
new_and_ready() {
  local out
  out=$("$K" get pods my-0 my-1 my-2 -n demo -o json 2>/dev/null) || return 1
  jq -e --arg old "$OLD_UIDS" '(.items | length) == 3 and all(.items[]; (.metadata.uid as $u | ($old | split(" ") | index($u)) == null)
      and any(.status.conditions[]?; .type == "Ready" and .status == "True"))' <<<"$out" > /dev/null
}
for _ in $(seq 1 240); do new_and_ready && break; sleep 0.5; done
new_and_ready || fail "the three pods were not back and Ready within 120 s"
expect 'scaled' "$K" scale deployment/mysqlop-mysqlop-community -n mysqlop --replicas=1
BOOT=""
for _ in $(seq 1 300); do
  if oplog mysqlop-community | grep -q '"action":"bootstrap"'; then BOOT=$(oplog mysqlop-community | grep '"action":"bootstrap"' | head -1); break; fi
  sleep 0.2
done
[[ -n "$BOOT" ]] || fail "the restarted operator never bootstrapped the group"
grep -q '"pod":"my-0"' <<<"$BOOT" && fail "the group was bootstrapped from my-0, which is behind: $BOOT"
# Restarted at once, in the middle of it: the next operator must not make a second group.
OPPOD=$("$K" get pods -n mysqlop -l app.kubernetes.io/name=mysqlop-community -o 'jsonpath={.items[0].metadata.name}')
T_DEL=$(now_ms)
"$K" delete pod "$OPPOD" -n mysqlop --wait=false > /dev/null
for _ in $(seq 1 600); do "$K" get pod "$OPPOD" -n mysqlop > /dev/null 2>&1 || break; sleep 0.1; done
echo "the operator pod $OPPOD was gone $(( $(now_ms) - T_DEL )) ms after its deletion" >&2
# The status the operators left before the restart says nothing now: the members are asked.
all_online() {
  local i
  for i in 0 1 2; do
    [[ $(sql "my-$i.my-pods.demo.svc" "SELECT COUNT(*) FROM performance_schema.replication_group_members WHERE MEMBER_STATE='ONLINE'" 2>/dev/null) == 3 ]] || return 1
  done
}
for _ in $(seq 1 120); do all_online && break; sleep 1; done
all_online || fail "the group was not whole again within 120 s of the full restart"
eventually_long() { local i; for i in $(seq 1 60); do "$@" > /dev/null 2>&1 && return 0; sleep 1; done; return 1; }
eventually_long bash -c "[[ \$('$K' get my my -n demo -o 'jsonpath={.status.group.online}') == 3 ]]" \
  || fail "status.group does not show the three members ONLINE"
expect 'True' "$K" get my my -n demo -o 'jsonpath={.status.conditions[?(@.type=="GroupReplicationOnline")].status}'
expect 'condition met' "$K" wait --for=condition=Ready my/my -n demo --timeout=60s
for i in 0 1 2; do
  h=my-$i.my-pods.demo.svc
  expect "^$GROUP\$" sql "$h" "SELECT @@group_replication_group_name"
  expect '^3$' sql "$h" "SELECT COUNT(*) FROM performance_schema.replication_group_members WHERE MEMBER_STATE='ONLINE'"
  expect '^1$' sql "$h" "SELECT COUNT(*) FROM performance_schema.replication_group_members WHERE MEMBER_ROLE='PRIMARY'"
  expect "^$ROWS\$" sql "$h" "SELECT COUNT(*) FROM app.t"
done
if [[ $FAILED -ne 0 ]]; then
  "$K" get pods -A -o wide >&2
  "$K" get my my -n demo -o jsonpath='{.status}' >&2; echo >&2
  tail -60 "$WORK/kubelet.log" | cut -c1-300 >&2
  oplog mysqlop-community | tail -30 | cut -c1-400 >&2
fi

finish
