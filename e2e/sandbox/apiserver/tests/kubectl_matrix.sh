#!/usr/bin/env bash
# The kubectl command matrix of issue "Sandbox apiserver" against a private sandbox-apiserver.
#   APISERVER=build/.../sandbox-apiserver kubectl_matrix.sh KUBECTL [--minor N]
# KUBECTL is kubectl.1.27, kubectl.1.33 or the /usr/bin/kubectl dispatcher (which picks the
# client matching the server's /version minor).
source "$(dirname "$0")/lib.sh"
K=$1; shift
start_apiserver "$@"
cd "$WORK"

cat > crd.yaml <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, minimum: 1}
              color: {type: string, default: red}
              tls:
                type: object
                description: TLS settings of the widget.
                properties:
                  issuerName: {type: string, description: The issuer that signs the widget's certificate.}
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
YAML
cat > w.yaml <<'YAML'
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1}
spec: {size: 2}
YAML

expect 'default +Active' "$K" get ns
expect 'kube-system' "$K" get ns kube-system
expect 'created' "$K" apply -f crd.yaml
expect 'condition met' "$K" wait --for=condition=Established crd/widgets.example.com --timeout=20s

# Client-side apply: create, then update from the same file changed.
expect 'widget.example.com/w1 created' "$K" apply -f w.yaml
sed -i 's/size: 2/size: 3/' w.yaml
expect 'widget.example.com/w1 configured' "$K" apply -f w.yaml
expect '^3 red 2$' "$K" get widget w1 -o 'jsonpath={.spec.size} {.spec.color} {.metadata.generation}'

# Server-side apply: create, update, a conflict between two managers, --force-conflicts.
printf 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {size: 5}\n' > w2.yaml
expect 'w2 serverside-applied' "$K" apply --server-side -f w2.yaml
sed -i 's/size: 5/size: 6/' w2.yaml
expect 'w2 serverside-applied' "$K" apply --server-side -f w2.yaml
printf 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {size: 9}\n' > w2-other.yaml
expect_fail 'conflict with "kubectl".*\.spec\.size' "$K" apply --server-side --field-manager=other -f w2-other.yaml
expect 'w2 serverside-applied' "$K" apply --server-side --field-manager=other --force-conflicts -f w2-other.yaml
expect '^9$' "$K" get widget w2 -o 'jsonpath={.spec.size}'
expect 'manager: other' "$K" get widget w2 -o yaml --show-managed-fields

# Output formats: YAML, the CRD's printer columns, jsonpath.
expect 'kind: Widget' "$K" get widget w1 -o yaml
expect '^NAME +SIZE +READY +AGE' "$K" get widgets
expect '^w1 +3 ' "$K" get wd
expect '^w1$' "$K" get widget w1 -o 'jsonpath={.metadata.name}'

# get -w shows a later change; wait --for=condition=Ready is satisfied by a status update.
"$K" get widgets -w > watch.out 2>&1 & WATCH=$!
( "$K" wait --for=condition=Ready widget/w1 --timeout=20s > wait.out 2>&1; echo "rc=$?" >> wait.out ) & WAIT=$!
sleep 1.5
"$K" patch widget w2 --type merge -p '{"spec":{"size":11}}' > /dev/null
api PATCH /apis/example.com/v1/namespaces/default/widgets/w1/status \
  '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}' application/merge-patch+json > /dev/null
wait "$WAIT" || true
eventually '^w2 +11 ' cat watch.out
kill "$WATCH" 2>/dev/null || true
wait "$WATCH" 2>/dev/null || true
expect 'condition met' cat wait.out
expect 'rc=0' cat wait.out

# delete -f waits for a finalizer that another client removes later.
"$K" patch widget w1 --type json -p '[{"op":"add","path":"/metadata/finalizers","value":["example.com/hold"]}]' > /dev/null
( "$K" delete -f w.yaml --timeout=30s > delete.out 2>&1; echo "rc=$?" >> delete.out ) & DEL=$!
eventually '[0-9]{4}-' "$K" get widget w1 -o 'jsonpath={.metadata.deletionTimestamp}'
if grep -q 'rc=' delete.out; then fail "delete returned before the finalizer was removed"; fi
api PATCH /apis/example.com/v1/namespaces/default/widgets/w1 '[{"op":"remove","path":"/metadata/finalizers"}]' application/json-patch+json > /dev/null
wait "$DEL" || true
expect 'widget.example.com "w1" deleted' cat delete.out
expect 'rc=0' cat delete.out
expect_fail 'NotFound.*"w1" not found' "$K" get widget w1

# Generators (kubectl >= 1.32 sends these as protobuf).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -out tls.crt \
  -days 1 -subj /CN=sandbox-test 2>/dev/null
expect 'namespace/demo created' "$K" create namespace demo
expect 'secret/tls1 created' "$K" create secret tls tls1 --cert=tls.crt --key=tls.key -n demo
expect '^kubernetes.io/tls LS0t' "$K" get secret tls1 -n demo -o 'jsonpath={.type} {.data.tls\.crt}'
expect 'configmap/cm1 created' "$K" create configmap cm1 --from-literal=a=b -n demo

# label, annotate, patch (merge and JSON).
expect 'labeled' "$K" label configmap cm1 -n demo tier=db
expect 'annotated?' "$K" annotate configmap cm1 -n demo note=hello
expect 'patched' "$K" patch configmap cm1 -n demo --type merge -p '{"data":{"c":"d"}}'
expect 'patched' "$K" patch configmap cm1 -n demo --type json -p '[{"op":"add","path":"/data/e","value":"f"}]'
expect '^db hello b d f$' "$K" get configmap cm1 -n demo -o 'jsonpath={.metadata.labels.tier} {.metadata.annotations.note} {.data.a} {.data.c} {.data.e}'
expect '^cm1 ' "$K" get configmap -n demo -l tier=db

# explain from the CRD's schema; describe with Events.
expect 'The issuer that signs' "$K" explain widget.spec.tls
UID2=$("$K" get widget w2 -o 'jsonpath={.metadata.uid}')
cat > event.yaml <<YAML
apiVersion: v1
kind: Event
metadata: {name: w2.0001, namespace: default}
involvedObject: {apiVersion: example.com/v1, kind: Widget, name: w2, namespace: default, uid: "$UID2"}
reason: Provisioned
message: the widget is ready
type: Normal
count: 1
source: {component: widget-operator}
YAML
expect 'event/w2.0001 created' "$K" create -f event.yaml
expect 'Provisioned +[^ ]+ +widget-operator +the widget is ready' "$K" describe widget w2

# auth can-i and create token, then RBAC for that ServiceAccount.
expect '^yes' "$K" auth can-i create secrets
expect 'serviceaccount/bot created' "$K" create serviceaccount bot -n demo
SA_TOKEN=$("$K" create token bot -n demo)
[[ -n "$SA_TOKEN" ]] || fail "create token printed nothing"
expect_fail '^no' "$K" --token="$SA_TOKEN" auth can-i list secrets -n demo
expect_fail 'secrets is forbidden: User "system:serviceaccount:demo:bot" cannot list resource "secrets" in API group "" in the namespace "demo"' \
  "$K" --token="$SA_TOKEN" get secrets -n demo
expect 'created' "$K" create role reader --verb=get,list --resource=secrets -n demo
expect 'created' "$K" create rolebinding bot-reader --role=reader --serviceaccount=demo:bot -n demo
expect '^yes' "$K" --token="$SA_TOKEN" auth can-i list secrets -n demo
expect 'tls1' "$K" --token="$SA_TOKEN" get secrets -n demo

# RBAC escalation prevention: who may write Roles and RoleBindings grants only what they hold,
# unless they may `escalate` (roles) or `bind` (the role bound).
expect 'created' "$K" create role rbac-writer --verb=create,update,patch,get --resource=roles,rolebindings -n demo
expect 'created' "$K" create rolebinding bot-rbac-writer --role=rbac-writer --serviceaccount=demo:bot -n demo
expect 'role.rbac.authorization.k8s.io/held created' "$K" --token="$SA_TOKEN" create role held --verb=get --resource=secrets -n demo
GROUPS_Q='\(groups=\["system:serviceaccounts" "system:serviceaccounts:demo" "system:authenticated"\]\)'
expect_fail "roles.rbac.authorization.k8s.io \"wider\" is forbidden: user \"system:serviceaccount:demo:bot\" $GROUPS_Q is attempting to grant RBAC permissions not currently held:" \
  "$K" --token="$SA_TOKEN" create role wider --verb=get,delete --resource=secrets,pods -n demo
OUT=$("$K" --token="$SA_TOKEN" create role wider --verb=get,delete --resource=secrets,pods -n demo 2>&1 || true)
grep -qxF '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}' <<<"$OUT" || fail "each permission not held is listed: $OUT"
grep -qxF '{APIGroups:[""], Resources:["pods"], Verbs:["get"]}' <<<"$OUT" || fail "each permission not held is listed: $OUT"
grep -qxF '{APIGroups:[""], Resources:["secrets"], Verbs:["delete"]}' <<<"$OUT" || fail "each permission not held is listed: $OUT"
grep -qF 'Resources:["secrets"], Verbs:["get"]' <<<"$OUT" && fail "a permission held is not listed: $OUT"
expect_fail 'is attempting to grant RBAC permissions not currently held:' \
  "$K" --token="$SA_TOKEN" patch role held -n demo --type=json -p '[{"op":"add","path":"/rules/0/verbs/-","value":"delete"}]'
# A binding to a role holding more than the requester: refused, until `bind` on that role.
expect 'created' "$K" create role deleter --verb=delete --resource=secrets -n demo
expect 'created' "$K" --token="$SA_TOKEN" create rolebinding bot-held --role=held --serviceaccount=demo:bot -n demo
expect_fail 'rolebindings.rbac.authorization.k8s.io "bot-deleter" is forbidden: user "system:serviceaccount:demo:bot" .* is attempting to grant RBAC permissions not currently held:' \
  "$K" --token="$SA_TOKEN" create rolebinding bot-deleter --role=deleter --serviceaccount=demo:bot -n demo
expect 'created' "$K" create clusterrole pod-deleter --verb=delete --resource=pods
expect_fail 'is attempting to grant RBAC permissions not currently held:' \
  "$K" --token="$SA_TOKEN" create rolebinding bot-pods --clusterrole=pod-deleter --serviceaccount=demo:bot -n demo
expect 'created' "$K" create role binder --verb=bind --resource=roles --resource-name=deleter -n demo
expect 'created' "$K" create rolebinding bot-binder --role=binder --serviceaccount=demo:bot -n demo
expect 'rolebinding.rbac.authorization.k8s.io/bot-deleter created' \
  "$K" --token="$SA_TOKEN" create rolebinding bot-deleter --role=deleter --serviceaccount=demo:bot -n demo
# `escalate` on roles: any rules.
expect 'created' "$K" create role escalator --verb=escalate --resource=roles -n demo
expect 'created' "$K" create rolebinding bot-escalator --role=escalator --serviceaccount=demo:bot -n demo
expect 'role.rbac.authorization.k8s.io/wider created' "$K" --token="$SA_TOKEN" create role wider --verb=get,delete --resource=secrets,pods -n demo

finish
