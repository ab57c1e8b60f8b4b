#!/usr/bin/env bash
# The sandbox's StatefulSet and Deployment controllers through real kubectl (issue 9, first part):
# ordered pods and their PVCs, readiness gating, rolling and OnDelete updates, scale-down, status,
# a Deployment rollout that `kubectl rollout status` accepts, and garbage collection. Pods are made
# Ready here by writing their status, as the pod runner will.
source "$(dirname "$0")/../../apiserver/tests/lib.sh"
KUBELET=${KUBELET:?path of the sandbox-kubelet binary}
K=/usr/lib/google-cloud-sdk/bin/kubectl.1.33
KPID=""
trap '[[ -n "$KPID" ]] && kill -TERM "$KPID" 2>/dev/null && wait "$KPID"; cleanup' EXIT
start_apiserver
"$KUBELET" --kubeconfig "$KUBECONFIG" 2> "$WORK/kubelet.log" & KPID=$!
"$K" create namespace demo > /dev/null
names() { "$K" get "$1" -n demo ${2:+-l "$2"} -o 'jsonpath={.items[*].metadata.name}' 2>&1; }
ready() {  # ready POD...: report them Ready, as the pod runner will
  for p in "$@"; do
    "$K" patch pod "$p" -n demo --subresource=status --type=merge \
      -p '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}' > /dev/null
  done
}
sts_status() { "$K" get sts db -n demo -o 'jsonpath={.status.replicas} {.status.readyReplicas} {.status.updatedReplicas} {.status.observedGeneration}' 2>&1; }

"$K" apply -f - > /dev/null <<'YAML'
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: demo}
spec:
  replicas: 3
  serviceName: db-pods
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: mysql, image: "mysql:8.4.3"}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 2Gi}}}
YAML
eventually '^db-0$' names pods app=db
sleep 0.5
expect '^db-0$' names pods app=db                   # OrderedReady: db-1 waits for db-0
expect '^data-db-0$' names pvc
expect '^Bound 2Gi$' "$K" get pvc data-db-0 -n demo -o 'jsonpath={.status.phase} {.status.capacity.storage}'
expect '^db-0 db-pods data-db-0 StatefulSet$' "$K" get pod db-0 -n demo \
  -o 'jsonpath={.spec.hostname} {.spec.subdomain} {.spec.volumes[?(@.name=="data")].persistentVolumeClaim.claimName} {.metadata.ownerReferences[0].kind}'
ready db-0; eventually '^db-0 db-1$' names pods app=db
ready db-1; eventually '^db-0 db-1 db-2$' names pods app=db
ready db-2; eventually '^3 3 3 1$' sts_status
expect '^data-db-0 data-db-1 data-db-2$' names pvc
REV1=$("$K" get sts db -n demo -o 'jsonpath={.status.updateRevision}')
# A template change rolls from the top, one Ready pod at a time.
"$K" patch sts db -n demo --type=json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"mysql:9.1.0"}]' > /dev/null
eventually 'mysql:9.1.0' "$K" get pod db-2 -n demo -o 'jsonpath={.spec.containers[0].image}'
expect 'mysql:8.4.3' "$K" get pod db-1 -n demo -o 'jsonpath={.spec.containers[0].image}'
ready db-2; eventually 'mysql:9.1.0' "$K" get pod db-1 -n demo -o 'jsonpath={.spec.containers[0].image}'
ready db-1; eventually 'mysql:9.1.0' "$K" get pod db-0 -n demo -o 'jsonpath={.spec.containers[0].image}'
ready db-0; eventually '^3 3 3 2$' sts_status
REV2=$("$K" get sts db -n demo -o 'jsonpath={.status.currentRevision}')
[[ "$REV2" != "$REV1" ]] || fail "the current revision must move to the new template's"
# OnDelete: nothing moves until a pod is deleted.
"$K" patch sts db -n demo --type=merge -p '{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}' > /dev/null
"$K" patch sts db -n demo --type=json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"mysql:9.0.1"}]' > /dev/null
sleep 1
expect '^mysql:9.1.0 mysql:9.1.0 mysql:9.1.0$' "$K" get pods -n demo -l app=db -o 'jsonpath={.items[*].spec.containers[0].image}'
"$K" delete pod db-1 -n demo > /dev/null
eventually 'mysql:9.0.1' "$K" get pod db-1 -n demo -o 'jsonpath={.spec.containers[0].image}'
# Scale down from the top; PVCs stay.
expect 'statefulset.apps/db scaled' "$K" scale sts db -n demo --replicas=1
eventually '^db-0$' names pods app=db
expect '^1$' "$K" get sts db -n demo -o 'jsonpath={.spec.replicas}' 
expect '^data-db-0 data-db-1 data-db-2$' names pvc
# Deleting the StatefulSet collects its pods, not its PVCs (upstream's default retention).
"$K" delete sts db -n demo > /dev/null
eventually '^$' names pods app=db
expect '^data-db-0 data-db-1 data-db-2$' names pvc

# --- a Deployment and kubectl rollout status ---------------------------------------------------
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: op, namespace: demo}
spec:
  replicas: 2
  selector: {matchLabels: {app: op}}
  template:
    metadata: {labels: {app: op}}
    spec: {containers: [{name: community-operator, image: "mysqlop/community-operator:0.1.0"}]}
YAML
eventually '^op-[a-z0-9]+-[a-z0-9]{5} op-[a-z0-9]+-[a-z0-9]{5}$' names pods app=op
expect_fail 'timed out|exceeded' "$K" rollout status deployment/op -n demo --timeout=2s
ready $(names pods app=op)
expect 'successfully rolled out' "$K" rollout status deployment/op -n demo --timeout=20s
OLD=$(names pods app=op)
"$K" set image deployment/op -n demo community-operator=mysqlop/community-operator:0.2.0 > /dev/null
eventually '^([^ ]+ ){3}[^ ]+$' names pods app=op          # two new ones beside the two old
sleep 0.5
for p in $OLD; do expect "$p" names pods app=op; done       # the old ones stay until the new are Ready
NEW=$(for p in $(names pods app=op); do grep -qw "$p" <<<"$OLD" || echo "$p"; done)
ready $NEW
expect 'successfully rolled out' "$K" rollout status deployment/op -n demo --timeout=20s
eventually "^$(echo $NEW | tr '\n' ' ' | sed 's/ $//')\$" names pods app=op
expect '^2 2 2 2$' "$K" get deployment op -n demo -o 'jsonpath={.status.replicas} {.status.updatedReplicas} {.status.readyReplicas} {.status.availableReplicas}'

# --- the scale subresource: kubectl scale, its precondition, the Scale object, bad input -------
expect_fail 'Expected replicas to be 5, was 2' "$K" scale deployment op -n demo --current-replicas=5 --replicas=3
expect 'deployment.apps/op scaled' "$K" scale deployment op -n demo --current-replicas=2 --replicas=3
eventually '^([^ ]+ ){2}[^ ]+$' names pods app=op
expect '^3$' "$K" get deployment op -n demo -o 'jsonpath={.spec.replicas}'
SCALE=$("$K" get --raw /apis/apps/v1/namespaces/demo/deployments/op/scale)
expect '^autoscaling/v1 Scale 3 app=op$' jq -r '"\(.apiVersion) \(.kind) \(.spec.replicas) \(.status.selector)"' <<<"$SCALE"
expect_fail 'spec.replicas: Invalid value: -1: must be greater than or equal to 0' \
  "$K" patch deployment op -n demo --subresource=scale --type=merge -p '{"spec":{"replicas":-1}}'
expect 'deployment.apps/op scaled' "$K" scale deployment op -n demo --replicas=1
eventually '^[^ ]+$' names pods app=op
finish
