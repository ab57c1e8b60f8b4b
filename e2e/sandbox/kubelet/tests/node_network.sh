#!/usr/bin/env bash
# The sandbox node network (issue 9): a bridge, two pods in their own network namespaces with
# their own addresses, TCP between pods and from the node, and clean removal — inside private
# network and mount namespaces, so nothing touches the machine's own network. Needs root.
set -euo pipefail
if [[ -z "${MYSQLOP_PRIVATE_NS:-}" ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "FAIL: needs root (network namespaces)" >&2; exit 1; }
  exec unshare --mount --net env MYSQLOP_PRIVATE_NS=1 bash "$0" "$@"
fi
KUBELET=${KUBELET:?path of the sandbox-kubelet binary}
mount -t tmpfs sandbox-run /run   # `ip netns` keeps its files here: private to this test
ip link set lo up
FAILED=0; fail() { echo "FAIL: $*" >&2; FAILED=1; }
net() { "$KUBELET" net "$@" --bridge sbxt0 --cidr 10.99.0.0/24; }

[[ "$(net up)" == "10.99.0.1" ]] || fail "up must report the node address"
[[ "$(net up)" == "10.99.0.1" ]] || fail "up twice must be harmless"
ip -4 addr show dev sbxt0 | grep -q 'inet 10.99.0.1/24' || fail "the bridge lacks 10.99.0.1/24"
A=$(net add aaaaaaaaaaaa-pod) || fail "add pod a"
[[ "$A" == "10.99.0.2" ]] || fail "the first pod must get .2, got $A"
ip netns list | grep -q '^sbx-aaaaaaaaaaaa' || fail "no namespace for pod a"
ip -n sbx-aaaaaaaaaaaa -4 addr show dev eth0 | grep -q 'inet 10.99.0.2/24' || fail "pod a has no 10.99.0.2 on eth0"
ip -n sbx-aaaaaaaaaaaa route | grep -q 'default' && fail "pod a must have no default route (nothing leaves the machine)"
# An address outside the pod CIDR (TEST-NET-1) is unreachable from the pod: refused locally, no packet sent.
ip netns exec sbx-aaaaaaaaaaaa python3 -c 'import socket
try:
    socket.create_connection(("192.0.2.1", 80), 1); print("connected")
except OSError as e:
    print(e.strerror)' | grep -qx 'Network is unreachable' || fail "pod a must not reach addresses off the sandbox"
# Pod b by hand, through the same steps (the `net` command keeps no address table between runs;
# the kubelet process does).
ip netns add sbx-bbbbbbbbbbbb
ip link add vsbx3 type veth peer name eth0 netns sbx-bbbbbbbbbbbb
ip link set vsbx3 master sbxt0 up
ip -n sbx-bbbbbbbbbbbb addr add 10.99.0.3/24 dev eth0; ip -n sbx-bbbbbbbbbbbb link set eth0 up
ip netns exec sbx-aaaaaaaaaaaa python3 -c 'import socket
s=socket.socket(); s.bind(("0.0.0.0", 3306)); s.listen()
for _ in range(2):
    c, a = s.accept(); c.send(("hello " + a[0]).encode()); c.close()' &
SERVER=$!
# The server may take a moment to listen: connect with retries.
connect='import socket, time
for _ in range(100):
    try:
        print(socket.create_connection(("10.99.0.2", 3306), 3).recv(64).decode()); break
    except ConnectionRefusedError:
        time.sleep(0.1)'
GOT=$(ip netns exec sbx-bbbbbbbbbbbb python3 -c "$connect")
[[ "$GOT" == "hello 10.99.0.3" ]] || fail "pod b → pod a: $GOT"
GOT=$(python3 -c "$connect")
[[ "$GOT" == "hello 10.99.0.1" ]] || fail "node → pod a: $GOT"
wait "$SERVER" || true
net remove aaaaaaaaaaaa-pod > /dev/null || fail "remove pod a"
ip netns list | grep -q 'sbx-aaaaaaaaaaaa' && fail "pod a's namespace survived"
ip link show vsbx2 > /dev/null 2>&1 && fail "pod a's veth survived"
ip netns del sbx-bbbbbbbbbbbb
net down > /dev/null || fail "down"
ip link show sbxt0 > /dev/null 2>&1 && fail "the bridge survived down"
[[ $FAILED -eq 0 ]] && echo PASS || exit 1
