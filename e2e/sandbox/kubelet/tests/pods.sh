#!/usr/bin/env bash
# The pod runner end to end (issue 9): in private network and mount namespaces, a sandbox-apiserver
# listening for pods on the node address, and sandbox-kubelet --run-pods. Pods get addresses on
# the bridge and Ready from their probes; a Service name resolves in another pod; the
# service-account volume and KUBERNETES_SERVICE_HOST reach the API server over verified TLS; a
# failing container restarts with backoff; mounted Secrets follow their source atomically while
# the pod runs; deleting a pod stops its process and removes its namespace. Needs root.
set -euo pipefail
if [[ -z "${MYSQLOP_PRIVATE_NS:-}" ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "FAIL: needs root (network and mount namespaces)" >&2; exit 1; }
  # The images the pods run (the build reaches the Debian mirror: before the private network).
  "$(dirname "$0")/../../images/build" || { echo "FAIL: the sandbox's images could not be built" >&2; exit 1; }
  exec unshare --mount --net env MYSQLOP_PRIVATE_NS=1 bash "$0" "$@"
fi
mount -t tmpfs pods-test-run /run   # `ip netns` files stay private to this test
ip link set lo up
source "$(dirname "$0")/../../apiserver/tests/lib.sh"
KUBELET=${KUBELET:?path of the sandbox-kubelet binary}
K=/usr/lib/google-cloud-sdk/bin/kubectl.1.33
KPID=""
trap '[[ -n "$KPID" ]] && kill -TERM "$KPID" 2>/dev/null && wait "$KPID"; cleanup' EXIT

NODE=10.96.0.1
# The node address exists before the API server binds to it (the kubelet reuses the bridge).
"$KUBELET" net up --bridge sbxp0 --cidr 10.96.0.0/24 > /dev/null
start_apiserver --bind "$NODE" --pod-logs-dir "$WORK/node"   # kubectl logs reads the kubelet's files
"$KUBELET" --kubeconfig "$KUBECONFIG" --run-pods --node-dir "$WORK/node" --bridge sbxp0 --pod-cidr 10.96.0.0/24 \
  --image-store "${SANDBOX_IMAGES:-/var/lib/mysqlop-sandbox/images}" --sync-frequency 1 2> "$WORK/kubelet.log" & KPID=$!
for _ in $(seq 1 100); do ip link show sbxp0 > /dev/null 2>&1 && break; sleep 0.1; done
"$K" create namespace demo > /dev/null
podfield() { "$K" get pod "$1" -n demo -o "jsonpath=$2" 2>&1; }

"$K" apply -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: demo, labels: {app: web}}
spec:
  containers:
  - name: http
    image: python:3.11-slim
    command: [python3, -m, http.server, "8080"]
    ports: [{name: http, containerPort: 8080}]
    readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: demo}
spec: {selector: {app: web}, ports: [{port: 8080}]}
YAML
expect 'condition met' "$K" wait --for=condition=Ready pod/web -n demo --timeout=30s
expect '^Running 10\.96\.0\.[0-9]+ true$' podfield web '{.status.phase} {.status.podIP} {.status.containerStatuses[0].ready}'
WEB_IP=$(podfield web '{.status.podIP}')
expect '^web +1/1 +Running' "$K" get pod web -n demo
# The container ran from its image in the node's store: its ID is the store's, and its root is the
# image's, not the machine's.
STORE=${SANDBOX_IMAGES:-/var/lib/mysqlop-sandbox/images}
PY_ID=$(jq -r '."docker.io/library/python:3.11-slim"' "$STORE/index.json")
expect "^docker.io/library/python:3.11-slim sha256:$PY_ID\$" podfield web '{.status.containerStatuses[0].image} {.status.containerStatuses[0].imageID}'
expect "^$(cat "$STORE/$PY_ID/rootfs/etc/debian_version")\$" "$K" exec -n demo web -- cat /etc/debian_version

# An image the store does not hold: ErrImagePull, then ImagePullBackOff, in a kubelet's words; the
# pod stays Pending and nothing runs.
"$K" run nopull -n demo --image=mysql:8.0.35 --restart=Never > /dev/null
eventually '^Pending ErrImagePull .*failed to pull and unpack image "docker.io/library/mysql:8.0.35".*not found' \
  podfield nopull '{.status.phase} {.status.containerStatuses[0].state.waiting.reason} {.status.containerStatuses[0].state.waiting.message}'
eventually '^ImagePullBackOff Back-off pulling image "mysql:8.0.35"$' \
  podfield nopull '{.status.containerStatuses[0].state.waiting.reason} {.status.containerStatuses[0].state.waiting.message}'
expect 'ImagePullBackOff' "$K" get pod nopull -n demo
EV=$("$K" get events -n demo --field-selector involvedObject.name=nopull 2>&1)
for want in 'Failed +pod/nopull +Failed to pull image "mysql:8.0.35": .*not found' 'Failed +pod/nopull +Error: ErrImagePull' \
            'BackOff +pod/nopull +Back-off pulling image "mysql:8.0.35"' 'Failed +pod/nopull +Error: ImagePullBackOff'; do
  grep -qE "$want" <<<"$EV" || fail "no Event /$want/: $EV"
done
"$K" delete pod nopull -n demo --wait=false > /dev/null

"$K" apply -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: demo}
spec:
  containers:
  - name: main
    image: python:3.11-slim
    env:
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: POD_UID, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}
    command:
    - /bin/sh
    - -c
    - |
      echo "me=$POD_NAME@$POD_IP host=$(hostname)"
      python3 -c 'import urllib.request; print("web", urllib.request.urlopen("http://web:8080/").status)'
      python3 -c 'import urllib.request; print("fqdn", urllib.request.urlopen("http://web.demo.svc.cluster.local:8080/").status)'
      SA=/var/run/secrets/kubernetes.io/serviceaccount
      echo "ns=$(cat $SA/namespace)"
      python3 - <<'PY'
      import os, ssl, urllib.request, urllib.error
      sa = "/var/run/secrets/kubernetes.io/serviceaccount"
      ctx = ssl.create_default_context(cafile=sa + "/ca.crt")
      req = urllib.request.Request("https://%s:%s/api/v1/namespaces/demo/pods" % (os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"]),
                                   headers={"Authorization": "Bearer " + open(sa + "/token").read()})
      try:
          urllib.request.urlopen(req, context=ctx); print("api 200")
      except urllib.error.HTTPError as e:
          print("api", e.code)
      PY
      python3 -c 'import time; time.sleep(3600)' "$POD_UID"   # a child that only the container's end may stop
YAML
expect 'condition met' "$K" wait --for=condition=Ready pod/client -n demo --timeout=30s
eventually 'api [0-9]+' "$K" logs client -n demo
LOG=$("$K" logs client -n demo)
grep -qE "^me=client@10\.96\.0\.[0-9]+ host=client$" <<<"$LOG" || fail "env/hostname: $LOG"
grep -q '^web 200$' <<<"$LOG" || fail "the Service's short name did not resolve to the web pod: $LOG"
grep -q '^fqdn 200$' <<<"$LOG" || fail "the Service's FQDN did not resolve: $LOG"
grep -q '^ns=demo$' <<<"$LOG" || fail "the service-account volume lacks the namespace: $LOG"
# Authenticated over verified TLS: the default ServiceAccount may not list pods (403), which
# proves the token and the CA both worked.
grep -q '^api 403$' <<<"$LOG" || fail "in-cluster API access: $LOG"

# A failing container restarts with backoff.
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: crash, namespace: demo}
spec:
  containers: [{name: main, image: python:3.11-slim, command: [/bin/sh, -c, "echo started; exit 3"]}]
YAML
eventually '^[2-9] 3$' podfield crash '{.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].lastState.terminated.exitCode}'

# kubectl logs: a container by name, the default one, --tail, --limit-bytes, -f, and errors.
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: talk, namespace: demo}
spec:
  containers:
  - {name: a, image: python:3.11-slim, command: [/bin/sh, -c, "echo a starts; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done"]}
  - {name: b, image: python:3.11-slim, command: [/bin/sh, -c, "echo b says hi; sleep 3600"]}
YAML
eventually '^tick 3$' "$K" logs talk -n demo -c a
expect '^b says hi$' "$K" logs talk -n demo -c b
expect 'a starts' "$K" logs talk -n demo                 # kubectl picks the first container
expect '^tick [0-9]+$' bash -c "'$K' logs talk -n demo -c a --tail=1 | wc -l | grep -qx 1 && '$K' logs talk -n demo -c a --tail=1"
expect '^a st$' "$K" logs talk -n demo -c a --limit-bytes=4
expect_fail 'container nope is not valid for pod talk' "$K" logs talk -n demo -c nope
expect_fail 'pods "ghost" not found' "$K" logs ghost -n demo
# -f streams what the container writes after the call: the last tick seen grows while it runs.
BEFORE=$("$K" logs talk -n demo -c a --tail=1 | awk '{print $2}')
FOLLOWED=$(timeout 2 "$K" logs -f talk -n demo -c a || true)
AFTER=$(tail -1 <<<"$FOLLOWED" | awk '{print $2}')
[[ "$AFTER" =~ ^[0-9]+$ && "$AFTER" -ge $((BEFORE + 3)) ]] || fail "kubectl logs -f did not follow (tick $BEFORE before, then: ${FOLLOWED: -80})"
"$K" delete pod talk -n demo --wait=false > /dev/null

# A mounted Secret follows its source while the pod runs (the kubelet's atomic writer, every
# --sync-frequency): a reader resolving ..data once per round never sees a mix of versions, the
# user-visible names and a projected volume change too, and the container is not restarted.
"$K" create secret generic pair -n demo --from-literal=a=v0 --from-literal=b=v0 > /dev/null
"$K" apply -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: watcher, namespace: demo}
spec:
  volumes:
  - {name: pair, secret: {secretName: pair}}
  - {name: proj, projected: {sources: [{secret: {name: pair, items: [{key: a, path: certs/a.txt}]}}]}}
  containers:
  - name: main
    image: python:3.11-slim
    volumeMounts: [{name: pair, mountPath: /etc/pair}, {name: proj, mountPath: /etc/proj}]
    command:
    - /bin/sh
    - -c
    - |
      last=""
      while true; do
        d=$(readlink /etc/pair/..data) || continue
        a=$(cat "/etc/pair/$d/a" 2>/dev/null) || continue   # that version went meanwhile
        b=$(cat "/etc/pair/$d/b" 2>/dev/null) || continue
        [ "$a" = "$b" ] || echo "MIX $a $b"
        # The two volumes are swapped each on its own: say every combination seen.
        now="$a $(cat /etc/pair/a) $(cat /etc/proj/certs/a.txt)"
        if [ "$now" != "$last" ]; then echo "seen $now"; last=$now; fi
      done
YAML
expect 'condition met' "$K" wait --for=condition=Ready pod/watcher -n demo --timeout=30s
eventually '^seen v0 v0 v0$' "$K" logs watcher -n demo
for v in 1 2 3 4 5; do
  T0=$(date +%s%N)
  "$K" create secret generic pair -n demo --from-literal=a=v$v --from-literal=b=v$v --dry-run=client -o yaml \
    | "$K" apply -f - > /dev/null
  eventually "^seen v$v v$v v$v\$" "$K" logs watcher -n demo
  echo "  secret version $v reached the running container in $(( ($(date +%s%N) - T0) / 1000000 )) ms (sync frequency 1 s)"
done
LOG=$("$K" logs watcher -n demo)
grep -q '^MIX' <<<"$LOG" && fail "a reader saw a mix of two versions: $(grep -m3 '^MIX' <<<"$LOG")"
expect '^0$' podfield watcher '{.status.containerStatuses[0].restartCount}'

# Deleting a pod stops its process and removes its namespace.
WEB_UID=$(podfield web '{.metadata.uid}')
ip netns list | grep -q "sbx-${WEB_UID:0:12}" || fail "no namespace for the web pod"
"$K" delete pod web -n demo --wait=false > /dev/null
for _ in $(seq 1 100); do ip netns list | grep -q "sbx-${WEB_UID:0:12}" || break; sleep 0.1; done
ip netns list | grep -q "sbx-${WEB_UID:0:12}" && fail "the web pod's namespace survived its deletion"
pgrep -f "http.server 8080" > /dev/null && fail "the web pod's process survived its deletion"

CLIENT_UID=$(podfield client '{.metadata.uid}')
pgrep -f "$CLIENT_UID" > /dev/null || fail "the client pod's child process is not running"
kill -TERM "$KPID"; wait "$KPID" || true; KPID=""
ip link show sbxp0 > /dev/null 2>&1 && fail "the bridge survived the kubelet's shutdown"
pgrep -f "$CLIENT_UID" > /dev/null && fail "a pod's process survived the kubelet's shutdown"
if [[ $FAILED -ne 0 ]]; then echo "--- kubelet log (tail)" >&2; tail -20 "$WORK/kubelet.log" >&2; fi
finish
