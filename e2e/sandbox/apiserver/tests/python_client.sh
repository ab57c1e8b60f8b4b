#!/usr/bin/env bash
# The official Python client (Debian's python3-kubernetes) against a private sandbox-apiserver:
# it sends boolean query parameters as Python prints them (`watch=True`), which kube-apiserver
# reads with Go's strconv.ParseBool. A list, a watch that sees an ADDED and a MODIFIED event,
# and a watch resumed from a resourceVersion that sees only what came after.
source "$(dirname "$0")/lib.sh"
start_apiserver
OUT=$(/usr/bin/python3 - <<'PY' 2>&1
import threading, time
from kubernetes import client, config, watch
config.load_kube_config()
v1 = client.CoreV1Api()
v1.create_namespaced_config_map("default", {"metadata": {"name": "one"}, "data": {"k": "1"}})
listed = v1.list_namespaced_config_map("default")
print("list", sorted(i.metadata.name for i in listed.items if i.metadata.name == "one"))
rv = listed.metadata.resource_version

def later():
    time.sleep(0.5)
    v1.patch_namespaced_config_map("one", "default", {"data": {"k": "2"}})
    v1.create_namespaced_config_map("default", {"metadata": {"name": "two"}})
threading.Thread(target=later).start()
w = watch.Watch()
seen = []
for ev in w.stream(v1.list_namespaced_config_map, "default", timeout_seconds=5):
    if ev["object"].metadata.name not in ("one", "two"):
        continue  # kube-root-ca.crt
    seen.append((ev["type"], ev["object"].metadata.name))
    if len(seen) == 3:
        w.stop()
print("watch", seen)
w = watch.Watch()
resumed = []
for ev in w.stream(v1.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=5):
    if ev["object"].metadata.name not in ("one", "two"):
        continue
    resumed.append((ev["type"], ev["object"].metadata.name))
    if len(resumed) == 2:
        w.stop()
print("resumed", resumed)
PY
)
grep -qx "list \['one'\]" <<<"$OUT" || fail "list: $OUT"
grep -qx "watch \[('ADDED', 'one'), ('MODIFIED', 'one'), ('ADDED', 'two')\]" <<<"$OUT" || fail "watch: $OUT"
grep -qx "resumed \[('MODIFIED', 'one'), ('ADDED', 'two')\]" <<<"$OUT" || fail "resumed watch: $OUT"
finish
