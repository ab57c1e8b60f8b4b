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
# kubectl get my -o wide: the topology, its primary and how many members are ONLINE.
expect '^my +9\.7\.4 +Ready +\S+ +\S* *GroupReplication +my-[012] +3$' bash -c "'$K' get my my -n demo -o wide | tail -1"

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

# majority_sampler FILE: every 0.5 s, the most members ONLINE that an answering member sees.
majority_sampler() {
  local i n best
  while :; do
    best=0
    for i in 0 1 2; do
      n=$(sql "my-$i.my-pods.demo.svc" "SELECT COUNT(*) FROM performance_schema.replication_group_members WHERE MEMBER_STATE='ONLINE'" 2>/dev/null || true)
      [[ "$n" =~ ^[0-9]+$ ]] && (( n > best )) && best=$n
    done
    echo "$best" >> "$1"
    sleep 0.5
  done
}
# writer TABLE FILE: a row a time through my.demo.svc (verified); committed ids to FILE, failures to FILE.errors.
writer() {
  local n=0 out
  sql my.demo.svc "CREATE TABLE app.$1 (id INT PRIMARY KEY)"
  while :; do
    n=$((n + 1))
    if out=$(sql my.demo.svc "INSERT INTO app.$1 VALUES ($n)" 2>&1); then echo "$n" >> "$2"; else echo "$n ${out%%$'\n'*}" >> "$2.errors"; fi
    sleep 0.2
  done
}
# load_start NAME: a majority sampler and a write loop (table app.NAME) in the background.
load_start() {
  : > "$WORK/$1.samples"; : > "$WORK/$1.committed"; : > "$WORK/$1.committed.errors"
  majority_sampler "$WORK/$1.samples" & LOAD_PIDS="$!"
  writer "${1//-/_}" "$WORK/$1.committed" & LOAD_PIDS="$LOAD_PIDS $!"
  LOAD_T0=$SECONDS
}
# load_end NAME WHAT: stops them; prints the figures; a majority ONLINE at every sample and every
# committed write on every member. Each write is a new verified connection: a failed one is a
# failed reconnect, counted with its error.
load_end() {
  local name=$1 samples low committed errors i
  sleep 2
  # shellcheck disable=SC2086
  kill $LOAD_PIDS 2>/dev/null; wait $LOAD_PIDS 2>/dev/null || true
  samples=$(wc -l < "$WORK/$name.samples"); low=$(sort -n "$WORK/$name.samples" | head -1)
  committed=$(wc -l < "$WORK/$name.committed"); errors=$(wc -l < "$WORK/$name.committed.errors")
  echo "$name: $2 after $((SECONDS - LOAD_T0)) s; $samples samples, fewest ONLINE $low; $committed writes committed, $errors failed" >&2
  cut -d' ' -f2- "$WORK/$name.committed.errors" | sort | uniq -c | sort -rn | head -3 >&2
  [[ "$low" -ge 2 ]] || fail "$name: a sample saw $low members ONLINE (no majority of 3)"
  (( committed > 0 )) || { fail "$name: the write loop committed nothing"; return 0; }
  for i in 0 1 2; do
    expect "^$committed\$" sql "my-$i.my-pods.demo.svc" "SELECT COUNT(*) FROM app.${name//-/_} WHERE id IN ($(paste -sd, "$WORK/$name.committed"))"
  done
}
# group_op NAME SPEC: a MySQLOpsRequest on the group under a write loop and a majority sampler;
# Successful, a majority ONLINE at every sample, every committed write on every member.
group_op() {
  local name=$1 spec=$2 p=""
  load_start "$name"
  printf 'apiVersion: ops.kubedb.com/v1alpha1\nkind: MySQLOpsRequest\nmetadata: {name: %s, namespace: demo}\nspec:\n  databaseRef: {name: my}\n%s\n' \
    "$name" "$spec" | "$K" apply -f - > /dev/null
  for _ in $(seq 1 600); do
    p=$("$K" get myops "$name" -n demo -o 'jsonpath={.status.phase}')
    [[ "$p" == Successful || "$p" == Failed || "$p" == Skipped ]] && break
    sleep 0.5
  done
  load_end "$name" "$p"
  [[ "$p" == Successful ]] || fail "$name ended '$p': $("$K" get myops "$name" -n demo -o jsonpath='{.status.conditions}')"
}
# presented PORT: the serial each member presents on PORT (3306: STARTTLS as a MySQL client; the
# group port 33061: TLS at once), read from the client pod, one line per member.
presented() {
  local i starttls=""
  [[ $1 == 3306 ]] && starttls="-starttls mysql"
  for i in 0 1 2; do
    # shellcheck disable=SC2086
    in_client sh -c "openssl s_client $starttls -connect my-$i.my-pods.demo.svc:$1 </dev/null 2>/dev/null | openssl x509 -noout -serial"
  done
}
# every_port_presents SERIAL: both ports of every member present it.
every_port_presents() {
  [[ $(presented 3306 | sort -u) == "$1" && $(presented 33061 | sort -u) == "$1" ]]
}
secret_serial() { "$K" get secret my-server-cert -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d | openssl x509 -noout -serial; }

step "a renewal by cert-manager under a write loop: both ports of every member present it, no pod restarted, the majority kept"
S_OLD=$(secret_serial)
every_port_presents "$S_OLD" || fail "before the renewal, not every port presents $S_OLD: group $(presented 33061 | paste -sd' ')"
RESTARTS_BEFORE=$("$K" get pods my-0 my-1 my-2 -n demo -o 'jsonpath={.items[*].metadata.uid} {.items[*].status.containerStatuses[?(@.name=="mysql")].restartCount}')
load_start renewal
# What `cmctl renew` does: an Issuing condition on the Certificate.
"$K" patch certificate my-server-cert -n demo --subresource=status --type=json \
  -p '[{"op":"add","path":"/status/conditions/-","value":{"type":"Issuing","status":"True","reason":"ManuallyTriggered","message":"Certificate re-issuance manually triggered"}}]' > /dev/null
T_RENEW=$SECONDS
for _ in $(seq 1 120); do [[ $(secret_serial) != "$S_OLD" ]] && break; sleep 0.5; done
S_NEW=$(secret_serial)
[[ "$S_NEW" != "$S_OLD" ]] || fail "cert-manager did not renew the server certificate"
for _ in $(seq 1 180); do every_port_presents "$S_NEW" && break; sleep 1; done
echo "renewal: every member's client and group ports present $S_NEW $((SECONDS - T_RENEW)) s after the renewal was asked" >&2
every_port_presents "$S_NEW" || fail "not every port presents the renewed certificate $S_NEW: client $(presented 3306 | paste -sd' '), group $(presented 33061 | paste -sd' ')"
load_end renewal "both ports renewed"
[[ $("$K" get pods my-0 my-1 my-2 -n demo -o 'jsonpath={.items[*].metadata.uid} {.items[*].status.containerStatuses[?(@.name=="mysql")].restartCount}') == "$RESTARTS_BEFORE" ]] \
  || fail "a pod was restarted or recreated by the renewal"
# status.group says which certificate each group channel presents (the serial without openssl's prefix).
group_channels() { "$K" get my my -n demo -o 'jsonpath={.status.group.members[*].groupChannelSerial}'; }
for _ in $(seq 1 60); do [[ $(group_channels) =~ ^(${S_NEW#serial=} ?){3}$ ]] && break; sleep 0.5; done
[[ $(group_channels) =~ ^(${S_NEW#serial=} ?){3}$ ]] || fail "status.group.members[].groupChannelSerial: '$(group_channels)', not ${S_NEW#serial=} three times"
oplog mysqlop-community | grep -E '"action":"(restart|switch primary)"' | sed -E 's/.*"pod":"([^"]*)".*"action":"([^"]*)".*/  \2 \1/' >&2

eventually_long() { local i; for i in $(seq 1 60); do "$@" > /dev/null 2>&1 && return 0; sleep 1; done; return 1; }

step "a Restart request on the group: one member at a time, the primary last, the majority kept"
UIDS_BEFORE=$("$K" get pods my-0 my-1 my-2 -n demo -o 'jsonpath={.items[*].metadata.uid}')
group_op restart-group "  type: Restart"
for u in $UIDS_BEFORE; do
  "$K" get pods -n demo -o 'jsonpath={.items[*].metadata.uid}' | grep -q "$u" && fail "a pod was not restarted (uid $u still there)"
done
expect 'Restarting Pod: demo/my-' "$K" describe myops restart-group -n demo

step "a ReconfigureTLS rotation on the group: every member serves the new certificate, the majority kept"
OLD_SERIAL=$(secret_serial)
group_op rotate-group "  type: ReconfigureTLS
  tls: {rotateCertificates: true}"
NEW_SERIAL=$(secret_serial)
[[ "$NEW_SERIAL" != "$OLD_SERIAL" ]] || fail "the rotation did not re-issue the server certificate"
# Successful means both ports of every member present it (the request verifies the group port too).
every_port_presents "$NEW_SERIAL" || fail "after the rotation, not every port presents $NEW_SERIAL: client $(presented 3306 | paste -sd' '), group $(presented 33061 | paste -sd' ')"

step "a member whose certificate comes from another CA is refused by the group"
# It trusts the group's CA, runs the members' own arguments, names itself rogue.my-pods.demo.svc,
# and presents a server certificate (CN my.demo.svc, the group's names) signed by another CA.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign -keyout "$WORK/other.key" -out "$WORK/other.crt" 2> /dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=my.demo.svc -keyout "$WORK/rogue.key" -out "$WORK/rogue.csr" 2> /dev/null
printf 'subjectAltName=DNS:rogue.my-pods.demo.svc,DNS:*.my-pods.demo.svc\nextendedKeyUsage=serverAuth,clientAuth\n' > "$WORK/rogue.ext"
openssl x509 -req -in "$WORK/rogue.csr" -CA "$WORK/other.crt" -CAkey "$WORK/other.key" -CAcreateserial -days 2 \
  -extfile "$WORK/rogue.ext" -out "$WORK/rogue.crt" 2> /dev/null
# It trusts both CAs (its own too: a member first connects to itself), so only the others' checks can stop it.
"$K" get secret my-server-cert -n demo -o 'jsonpath={.data.ca\.crt}' | base64 -d > "$WORK/group-ca.crt"
cat "$WORK/other.crt" >> "$WORK/group-ca.crt"
"$K" create secret generic rogue-tls -n demo --from-file=ca.crt="$WORK/group-ca.crt" --from-file=server.crt="$WORK/rogue.crt" \
  --from-file=server.key="$WORK/rogue.key" --from-file=client.crt="$WORK/rogue.crt" --from-file=client.key="$WORK/rogue.key" > /dev/null
"$K" get statefulset my -n demo -o json | jq '.spec.template.spec.containers[0] as $c | {apiVersion: "v1", kind: "Pod",
  metadata: {name: "rogue", namespace: "demo"},
  spec: {hostname: "rogue", subdomain: "my-pods", containers: [{name: "mysql", image: $c.image,
    args: (($c.args | map(gsub("\\$\\(POD_NAME\\)"; "rogue"))) + ["--server-id=99"]),
    env: [{name: "MYSQL_ROOT_PASSWORD", value: "rogue-pw"}],
    volumeMounts: [{name: "certs", mountPath: "/etc/mysql/certs"}, {name: "data", mountPath: "/var/lib/mysql"}]}],
    volumes: [{name: "certs", secret: {secretName: "rogue-tls"}}, {name: "data", emptyDir: {}}]}}' | "$K" apply -f - > /dev/null
expect 'condition met' "$K" wait --for=condition=Ready pod/rogue -n demo --timeout=120s
in_rogue() {
  local uid
  uid=$("$K" get pod rogue -n demo -o jsonpath='{.metadata.uid}')
  nsenter -t "$(cat "$WORK/node/pods/$uid/mysql.pid")" -m -n -u -- env MYSQL_PWD=rogue-pw "$@"
}
# Its first start initialises its data directory (networking off meanwhile).
for _ in $(seq 1 90); do in_rogue mysql -uroot -h 127.0.0.1 --ssl-mode=REQUIRED -e 'SELECT 1' > /dev/null 2>&1 && break; sleep 1; done
in_rogue mysql -uroot -h 127.0.0.1 --ssl-mode=REQUIRED -e "CHANGE REPLICATION SOURCE TO SOURCE_USER = 'mysqlop_repl', SOURCE_PASSWORD = '' FOR CHANNEL 'group_replication_recovery'" \
  || fail "the rogue member could not be set up"
ROGUE=$(in_rogue mysql -uroot -h 127.0.0.1 --ssl-mode=REQUIRED --connect-timeout=5 -e "START GROUP_REPLICATION" 2>&1 || true)
echo "rogue member: START GROUP_REPLICATION said: ${ROGUE:-nothing}" >&2
sleep 5
expect '^(OFFLINE|ERROR|)$' in_rogue mysql -uroot -h 127.0.0.1 --ssl-mode=REQUIRED -N -B -e \
  "SELECT MEMBER_STATE FROM performance_schema.replication_group_members WHERE MEMBER_ID = @@server_uuid"
for i in 0 1 2; do
  expect '^0$' sql "my-$i.my-pods.demo.svc" "SELECT COUNT(*) FROM performance_schema.replication_group_members WHERE MEMBER_HOST LIKE 'rogue%'"
  expect '^3$' sql "my-$i.my-pods.demo.svc" "SELECT COUNT(*) FROM performance_schema.replication_group_members WHERE MEMBER_STATE='ONLINE'"
done
"$K" logs rogue -n demo 2>&1 | grep -E 'MY-0113|MY-0117|GCS|group_replication' | grep -vE 'System|Note' | tail -4 | cut -c1-300 >&2 || true
"$K" delete pod rogue -n demo --wait=false > /dev/null

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
