#!/usr/bin/env bash
# Upgrading mysqlop itself (issue 20), as a user would on the sandbox: `helm install` of the
# umbrella chart (both editions), two TLS-only MySQLs holding a row, then `helm upgrade` to the
# next chart — version 0.2.0: the operators' image tag, a MySQLVersion catalog whose 9.7.4 runs a
# new image (every database's pod template changes) and a MySQLVersion CRD with a new field,
# spec.updateConstraints — while new TLS MySQLs keep coming. Checked: the old and new operator
# pods of each edition overlap but never both write (the sandbox's request log, by pod address),
# the Lease passes once; the CRD follows the chart and keeps the new field; no database pod
# restarts and each MySQL says PodTemplateOutdated with what differs; a Restart request then
# brings the new template, the row still there over verified TLS. `helm rollback` brings the old
# operators back: the newer CRD and the field are kept, the databases stay up and say again that
# their template differs. After `helm uninstall` the CRDs and the databases remain. (The new
# field is in the catalog's CRD: the operators upgraded to are this build's, and they refuse MySQL
# spec fields they do not implement, as they should.) Needs root.
# The next chart's images on the sandbox: the operators' new tag and the catalog's new MySQL image
# name this build's images (tagged so before the test; the node pulls from no registry).
NEXT=0.2.0
VERSION=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$(dirname "$0")/../../charts/mysqlop-community/Chart.yaml")
export E2E_IMAGE_TAGS="docker.io/library/mysql:9.7.4-1=docker.io/library/mysql:9.7.4
  docker.io/mysqlop/community-operator:$NEXT=docker.io/mysqlop/community-operator:$VERSION
  docker.io/mysqlop/enterprise-operator:$NEXT=docker.io/mysqlop/enterprise-operator:$VERSION"
source "$(dirname "$0")/lib.sh" sbxu0 10.99.0.0/24
start_sandbox
"$K" create namespace mysqlop > /dev/null
LICENCE=$(licence_file)
# The values of every install, upgrade and rollback (what a user keeps in a values file).
VALUES=(--set enterprise.enabled=true --set-file global.license="$LICENCE" --set mysqlop-community.healthCheckInterval=1)
expect 'STATUS: deployed' "$HELM" install mysqlop "$ROOT/charts/mysqlop" -n mysqlop "${VALUES[@]}"
rolled_out() {
  expect 'successfully rolled out' "$K" rollout status deployment/mysqlop-mysqlop-community -n mysqlop --timeout=90s
  expect 'successfully rolled out' "$K" rollout status deployment/mysqlop-mysqlop-enterprise -n mysqlop --timeout=90s
}
rolled_out
jp() { "$K" get "$@" 2>&1; }

step "two TLS-only databases holding a row"
"$K" create namespace demo > /dev/null
seed_ca demo
"$K" create secret generic trust -n demo --from-file=ca.crt="$WORK/ca.crt" > /dev/null
for db in a b; do
  "$K" apply -f - > /dev/null <<YAML
apiVersion: kubedb.com/v1
kind: MySQL
metadata: {name: $db, namespace: demo}
spec:
  version: "9.7.4"
  storageType: Durable
  storage: {resources: {requests: {storage: 1Gi}}}
  requireSSL: true
  deletionPolicy: WipeOut
  tls:
    issuerRef: {apiGroup: cert-manager.io, kind: Issuer, name: mysql-ca}
YAML
done
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: demo}
spec:
  volumes: [{name: trust, secret: {secretName: trust}}]
  containers:
  - name: main
    image: mysql:9.7.4
    volumeMounts: [{name: trust, mountPath: /trust}]
    command: [/bin/sh, -c, "sleep 3600"]
YAML
for db in a b; do expect 'condition met' "$K" wait --for=condition=Ready "my/$db" -n demo --timeout=180s; done
expect 'condition met' "$K" wait --for=condition=Ready pod/client -n demo --timeout=30s
# sql DB QUERY: over TLS, the server verified against the CA (requireSSL refuses anything else).
sql() {
  PW=$("$K" get secret "$1-auth" -n demo -o 'jsonpath={.data.password}' | base64 -d) in_client sh -c \
    "mysql -h $1.demo.svc -uroot --ssl-ca=/trust/ca.crt --ssl-mode=VERIFY_IDENTITY -N -e '$2' 2>&1"
}
for db in a b; do sql "$db" "CREATE DATABASE d; CREATE TABLE d.t (v VARCHAR(16)); INSERT INTO d.t VALUES (\"row-of-$db\")" > /dev/null; done
for db in a b; do expect "^row-of-$db\$" sql "$db" 'SELECT v FROM d.t'; done
pod_uid() { jp pod "$1-0" -n demo -o 'jsonpath={.metadata.uid}'; }
image_of() { jp pod "$1-0" -n demo -o 'jsonpath={.spec.containers[?(@.name=="mysql")].image}'; }
declare -A UID0
for db in a b; do UID0[$db]=$(pod_uid "$db" || true); done
expect '^mysql:9.7.4$' image_of a
# A catalog entry of the user's own, with the field the next chart's CRD brings: unknown today
# (kubectl says so; nothing of it is kept).
site_version() {  # ALLOWED: the site's MySQLVersion, allowing updates to ALLOWED
  printf 'apiVersion: catalog.kubedb.com/v1alpha1\nkind: MySQLVersion\nmetadata: {name: "9.7.4-site"}\nspec:\n  version: "9.7.4"\n  db: {image: "mysql:9.7.4"}\n  exporter: {image: "prom/mysqld-exporter:v0.14.0"}\n  updateConstraints: {allowlist: ["%s"]}\n' "$1" \
    | "$K" apply -f - 2>&1
}
allowlist() { "$K" get mysqlversion 9.7.4-site --ignore-not-found -o 'jsonpath={.spec.updateConstraints.allowlist[*]}' 2>&1; }
OUT=$(site_version 9.7.4 || true)
# (kubectl's strict field validation: refused, naming the field.)
grep -qE 'unknown field "spec.updateConstraints"|\.spec\.updateConstraints: field not declared in schema' <<<"$OUT" || fail "the field should be unknown before the upgrade: $OUT"
expect '^$' allowlist
# Each release's Lease is named after it (the chart's --leader-election-id).
lease() { jp lease "mysqlop-mysqlop-$1" -n mysqlop -o "jsonpath={.spec.$2}"; }
declare -A HOLDER0 TRANSITIONS0 OLDIP
for e in community enterprise; do
  HOLDER0[$e]=$(lease "$e" holderIdentity || true)
  TRANSITIONS0[$e]=$(lease "$e" leaseTransitions || true)
  OLDIP[$e]=$(jp pods -n mysqlop -l "app.kubernetes.io/name=mysqlop-$e" -o 'jsonpath={.items[0].status.podIP}')
  [[ "${HOLDER0[$e]}" == mysqlop-mysqlop-$e-* ]] || fail "the $e operator's single replica does not hold the Lease: '${HOLDER0[$e]}'"
done

step "the next chart: $NEXT, a new 9.7.4 image in the catalog, spec.updateConstraints in the MySQLVersion CRD"
cp -rL "$ROOT/charts" "$WORK/charts"
sed -i "s/0\.1\.0/$NEXT/g" "$WORK"/charts/*/Chart.yaml "$WORK"/charts/*/charts/*/Chart.yaml
sed -i 's/image: "mysql:9.7.4"/image: "mysql:9.7.4-1"/' "$WORK/charts/mysqlop-community/templates/mysqlversions.yaml" \
  "$WORK/charts/mysqlop/charts/mysqlop-community/templates/mysqlversions.yaml"
for crd in "$WORK"/charts/{,mysqlop/charts/}mysqlop-community/crds/mysqlversions.catalog.kubedb.com.yaml; do
  # Into the properties of spec.
  awk '!done && /^          spec:$/ {inspec = 1}
       {print}
       inspec && !done && /^            properties:$/ {
         print "              updateConstraints:"
         print "                type: object"
         print "                properties:"
         print "                  allowlist: {type: array, items: {type: string}}"
         print "                  denylist: {type: array, items: {type: string}}"
         done = 1}' "$crd" > "$crd.new" && mv "$crd.new" "$crd"
  grep -q '  updateConstraints:' "$crd" || fail "the next chart's CRD did not gain the field"
  # and a column renamed: the older chart's CRD is no longer a part of the newer one.
  sed -i 's/- name: DB_IMAGE/- name: IMAGE/' "$crd"
done
grep -q "mysql:9.7.4-1" "$WORK/charts/mysqlop/charts/mysqlop-community/templates/mysqlversions.yaml" || fail "the next chart's catalog did not change"

step "helm upgrade, while new TLS databases keep coming"
api DELETE /__sandbox/requests > /dev/null
# Work for both the old and the new operators during the rollout: a TLS MySQL every half second
# (each takes several reconciles, waiting for its certificates), so that two operators working at
# once would both write.
new_dbs() {
  local i
  for i in 1 2 3 4 5 6 7 8; do
    printf 'apiVersion: kubedb.com/v1\nkind: MySQL\nmetadata: {name: c%s, namespace: demo}\nspec:\n  version: "9.7.4"\n  storageType: Ephemeral\n  requireSSL: true\n  deletionPolicy: WipeOut\n  tls: {issuerRef: {apiGroup: cert-manager.io, kind: Issuer, name: mysql-ca}}\n' "$i" \
      | "$K" apply -f - > /dev/null
    sleep 0.5
  done
}
new_dbs & NEW_DBS=$!
T0=$SECONDS
expect 'has been upgraded' "$HELM" upgrade mysqlop "$WORK/charts/mysqlop" -n mysqlop "${VALUES[@]}"
rolled_out
echo "  helm upgrade to both operators rolled out: $((SECONDS - T0)) s" >&2
wait "$NEW_DBS"
for i in 1 2 3 4 5 6 7 8; do expect 'condition met' "$K" wait --for=condition=TLSCertificatesReady "my/c$i" -n demo --timeout=60s; done
for e in community enterprise; do
  expect ":$NEXT\$" jp deployment "mysqlop-mysqlop-$e" -n mysqlop -o 'jsonpath={.spec.template.spec.containers[0].image}'
done
# The CRD follows the chart (the new community leader updated it) and keeps what is set in the new field.
# The rollout is complete only once the new pod has brought the CRD in: no waiting needed.
crd_has_field() { [[ -n "$(jp crd mysqlversions.catalog.kubedb.com -o 'jsonpath={.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.updateConstraints.type}')" ]]; }
crd_has_field || fail "the MySQLVersion CRD did not follow the chart: $(oplog mysqlop-community | grep -i crd | tail -3)"
expect "^$NEXT\$" jp crd mysqlversions.catalog.kubedb.com -o 'jsonpath={.metadata.annotations.mysqlop\.io/chart-version}'
expect 'updated the CRD to this chart' oplog mysqlop-community
expect 'configured|created' site_version 9.7.4
expect '^9.7.4$' allowlist
# Each edition's Lease passed once, from the old pod to the new one.
for e in community enterprise; do
  expect "^mysqlop-mysqlop-$e-" lease "$e" holderIdentity
  [[ "$(lease "$e" holderIdentity || true)" != "${HOLDER0[$e]}" ]] || fail "the $e Lease still names the old pod"
  expect "^$((TRANSITIONS0[$e] + 1))\$" lease "$e" leaseTransitions
done

step "two operators of an edition never wrote at once"
api GET /__sandbox/requests > "$WORK/requests.json"
# Per edition and pod address: when it was first and last heard, when it first and last wrote
# (Leases aside, and the CRDs a new pod brings in as it starts, by design before it leads), and
# what it wrote.
by_pod() {
  jq --arg ua "$1-operator/" '[.requests[] | select(.userAgent | startswith($ua))] | group_by(.remoteAddr)
    | map({addr: .[0].remoteAddr, first: (map(.time) | min), last: (map(.time) | max),
           w: [.[] | select(.verb | IN("create", "update", "patch", "delete")) | select(.path | test("/leases/|/customresourcedefinitions/") | not)]}
          | {addr, first, last, firstWrite: (.w | map(.time) | min), lastWrite: (.w | map(.time) | max),
             objects: (.w | map(.path | sub("\\?.*$"; "")) | unique)})' "$WORK/requests.json"
}
for e in community enterprise; do
  P=$(by_pod "$e")
  OLD=$(jq --arg ip "${OLDIP[$e]}" '.[] | select(.addr == $ip)' <<<"$P")
  NEW=$(jq --arg ip "${OLDIP[$e]}" '.[] | select(.addr != $ip)' <<<"$P")
  [[ $(jq length <<<"$P") -eq 2 && -n "$OLD" && -n "$NEW" ]] || { fail "$e: expected the old and the new pod in the request log: $P"; continue; }
  # They ran side by side (the new one was heard before the old one's last word) ...
  [[ "$(jq -r .first <<<"$NEW")" < "$(jq -r .last <<<"$OLD")" ]] || fail "$e: the old and new pods did not overlap: $P"
  # ... yet all the old one wrote came before the first thing the new one wrote, and no object was
  # written by both.
  ow=$(jq -r '.lastWrite // ""' <<<"$OLD"); nw=$(jq -r '.firstWrite // ""' <<<"$NEW")
  [[ -z "$ow" || -z "$nw" || "$ow" < "$nw" ]] || fail "$e: both pods wrote at once (old last $ow, new first $nw): $P"
  echo "  $e: the old pod wrote until ${ow:-never} ($(jq -c .objects <<<"$OLD")), the new one from ${nw:-never} ($(jq -c .objects <<<"$NEW"))" >&2
done

"$K" delete my c1 c2 c3 c4 c5 c6 c7 c8 -n demo --wait=false > /dev/null

step "no database restarted; each says its template is outdated, and what differs"
for db in a b; do
  expect "^${UID0[$db]}\$" pod_uid "$db"
  expect '^mysql:9.7.4$' image_of "$db"
  eventually '^mysql:9.7.4-1$' jp sts "$db" -n demo -o 'jsonpath={.spec.template.spec.containers[?(@.name=="mysql")].image}'
  eventually '^True$' jp my "$db" -n demo -o 'jsonpath={.status.conditions[?(@.type=="PodTemplateOutdated")].status}'
  expect "$db-0 \(container mysql image mysql:9.7.4 -> mysql:9.7.4-1\)" \
    jp my "$db" -n demo -o 'jsonpath={.status.conditions[?(@.type=="PodTemplateOutdated")].message}'
  expect "^row-of-$db\$" sql "$db" 'SELECT v FROM d.t'
done

step "a Restart request per database brings the new template, the rows intact"
restart() {
  printf 'apiVersion: ops.kubedb.com/v1alpha1\nkind: MySQLOpsRequest\nmetadata: {name: %s, namespace: demo}\nspec:\n  type: Restart\n  databaseRef: {name: %s}\n' \
    "$1" "$2" | "$K" apply -f - > /dev/null
}
phase() { jp myops "$1" -n demo -o 'jsonpath={.status.phase}'; }
is_done() { [[ "$(phase "$1")" =~ ^(Successful|Failed|Skipped)$ ]]; }
restart restart-a a
restart restart-b b
T0=$SECONDS
for db in a b; do
  for ((i = 0; i < 900; i++)); do is_done "restart-$db" && break; sleep 0.2; done
  expect '^Successful$' phase "restart-$db"
done
if [[ $FAILED -ne 0 ]]; then
  jp myops -n demo -o yaml >&2
  oplog mysqlop-enterprise | grep -v '"level":"debug"' | tail -20 >&2
  finish
fi
echo "  both Restarts: $((SECONDS - T0)) s" >&2
declare -A UID1
for db in a b; do
  UID1[$db]=$(pod_uid "$db" || true)
  [[ "${UID1[$db]}" != "${UID0[$db]}" ]] || fail "$db-0 was not restarted"
  expect '^mysql:9.7.4-1$' image_of "$db"
  eventually '^$' jp my "$db" -n demo -o 'jsonpath={.status.conditions[?(@.type=="PodTemplateOutdated")].status}'
  expect "^row-of-$db\$" sql "$db" 'SELECT v FROM d.t'
done

step "helm rollback: the old operators, the newer CRD kept, no database restarted"
api DELETE /__sandbox/requests > /dev/null
expect 'Rollback was a success' "$HELM" rollback mysqlop 1 -n mysqlop
rolled_out
for e in community enterprise; do
  expect ':0.1.0$' jp deployment "mysqlop-mysqlop-$e" -n mysqlop -o 'jsonpath={.spec.template.spec.containers[0].image}'
done
# The old community operator leads again with its own chart's CRDs at hand, and leaves the newer ones.
eventually '"became leader"' oplog mysqlop-community
expect "^$NEXT\$" jp crd mysqlversions.catalog.kubedb.com -o 'jsonpath={.metadata.annotations.mysqlop\.io/chart-version}'
crd_has_field || fail "the rollback took the new field out of the CRD"
expect '^Version IMAGE ' jp crd mysqlversions.catalog.kubedb.com -o 'jsonpath={.spec.versions[0].additionalPrinterColumns[*].name}'
expect "newer than this chart's; kept" oplog mysqlop-community
expect '^9.7.4$' allowlist
expect 'configured' site_version 8.4.4
expect '^8.4.4$' allowlist
for db in a b; do
  eventually '^mysql:9.7.4$' jp sts "$db" -n demo -o 'jsonpath={.spec.template.spec.containers[?(@.name=="mysql")].image}'
  eventually '^True$' jp my "$db" -n demo -o 'jsonpath={.status.conditions[?(@.type=="PodTemplateOutdated")].status}'
  expect "^${UID1[$db]}\$" pod_uid "$db"
  expect "^row-of-$db\$" sql "$db" 'SELECT v FROM d.t'
done
api GET /__sandbox/requests > "$WORK/requests.json"
for e in community enterprise; do
  n=$(by_pod "$e" | jq 'length')
  [[ "$n" -eq 2 ]] || fail "$e: expected the rolled-back and the outgoing pod in the request log, saw $n addresses"
done

step "helm uninstall: the CRDs and the databases stay"
expect 'uninstalled' "$HELM" uninstall mysqlop -n mysqlop
for crd in mysqls.kubedb.com mysqlversions.catalog.kubedb.com mysqlopsrequests.ops.kubedb.com; do
  expect "^$crd\$" jp crd "$crd" -o 'jsonpath={.metadata.name}'
done
expect '^a b$' jp my -n demo -o 'jsonpath={.items[*].metadata.name}'
for db in a b; do expect "^row-of-$db\$" sql "$db" 'SELECT v FROM d.t'; done
show_logs_on_failure
finish
