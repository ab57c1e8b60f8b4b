#!/usr/bin/env bash
# The `license` tool end to end (issue 7): licences it issues and licences made with openssl,
# verified against the CA compiled into this build; each failure prints its exact message.
set -euo pipefail
LICENSE=${LICENSE:?path of the license binary}
CA=${LICENCE_CA_DIR:?directory of this build licence CA (ca.crt, ca.key)}
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
FAILED=0
fail() { echo "FAIL: $*" >&2; FAILED=1; }
CLUSTER=7d0c5b8e-3f2a-4c1d-9e8f-0a1b2c3d4e5f
verdict() {  # verdict FILE EXPECTED-LINE [extra verify flags]
  local file=$1 want=$2; shift 2
  local got; got=$("$LICENSE" verify "$file" --cluster-id "$CLUSTER" "$@" 2>&1) || true
  [[ "$got" == "$want" ]] || fail "$file: expected '$want', got '$got'"
}
issue() { "$LICENSE" issue --ca-cert "$CA/ca.crt" --ca-key "$CA/ca.key" --licensee "Acme Corp" "$@"; }

issue --cluster-id "$CLUSTER" --days 365 --out "$WORK/good.pem" 2> /dev/null
UNTIL=$("$LICENSE" inspect "$WORK/good.pem" | sed -n 's/^valid to: *//p')
verdict "$WORK/good.pem" "valid: licensed to Acme Corp for cluster $CLUSTER until $UNTIL"
"$LICENSE" verify "$WORK/good.pem" --cluster-id "$CLUSTER" > /dev/null || fail "a valid licence must exit 0"
INSPECT=$("$LICENSE" inspect "$WORK/good.pem")
for want in "licensee:   Acme Corp" "cluster ID: $CLUSTER" "features:   mysqlop-enterprise" "issuer:     O=mysqlop,CN=mysqlop development licence CA"; do
  grep -qF -- "$want" <<<"$INSPECT" || fail "inspect lacks '$want'"
done

issue --cluster-id "$CLUSTER" --not-before 2020-01-01T00:00:00Z --days 30 > "$WORK/expired.pem"
verdict "$WORK/expired.pem" "invalid: expired on 2020-01-31T00:00:00Z"
"$LICENSE" verify "$WORK/expired.pem" --cluster-id "$CLUSTER" > /dev/null && fail "an invalid licence must exit non-zero"
issue --cluster-id "$CLUSTER" --not-before 2099-01-01T00:00:00Z --days 30 > "$WORK/future.pem"
verdict "$WORK/future.pem" "invalid: not yet valid: valid from 2099-01-01T00:00:00Z"
issue --cluster-id 00000000-1111-2222-3333-444444444444 --days 30 > "$WORK/other-cluster.pem"
verdict "$WORK/other-cluster.pem" "invalid: issued for cluster 00000000-1111-2222-3333-444444444444 but this is cluster $CLUSTER"
issue --cluster-id "$CLUSTER" --days 30 --features mysqlop-community,backup > "$WORK/no-feature.pem"
verdict "$WORK/no-feature.pem" 'invalid: feature "mysqlop-enterprise" missing (the licence grants: "mysqlop-community", "backup")'
echo "hello" > "$WORK/garbage.pem"
verdict "$WORK/garbage.pem" "invalid: not a PEM certificate"

# Licences made with openssl: by the real licence CA (accepted) and by a rogue CA (refused).
openssl_licence() {  # openssl_licence CA-CERT CA-KEY OUT
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/lk.pem" -out "$WORK/l.csr" \
    -subj "/O=mysqlop-enterprise/CN=Acme Corp" 2> /dev/null
  openssl x509 -req -in "$WORK/l.csr" -CA "$1" -CAkey "$2" -CAcreateserial -days 10 -out "$3" \
    -extfile <(printf 'subjectAltName=DNS:%s\n' "$CLUSTER") 2> /dev/null
}
openssl_licence "$CA/ca.crt" "$CA/ca.key" "$WORK/openssl-good.pem"
verdict "$WORK/openssl-good.pem" "valid: licensed to Acme Corp for cluster $CLUSTER until $("$LICENSE" inspect "$WORK/openssl-good.pem" | sed -n 's/^valid to: *//p')"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/rogue.key" -out "$WORK/rogue.crt" \
  -subj "/CN=rogue CA" -days 10 2> /dev/null
openssl_licence "$WORK/rogue.crt" "$WORK/rogue.key" "$WORK/rogue.pem"
verdict "$WORK/rogue.pem" 'invalid: not signed by the licence CA (issuer "CN=rogue CA")'
# With that CA named explicitly it verifies: the CA is what decides.
verdict "$WORK/rogue.pem" "valid: licensed to Acme Corp for cluster $CLUSTER until $("$LICENSE" inspect "$WORK/rogue.pem" | sed -n 's/^valid to: *//p')" \
  --ca-cert "$WORK/rogue.crt"

# Tampered bytes: one letter of the licensee changed inside the signed part.
openssl x509 -in "$WORK/good.pem" -outform DER | perl -pe 's/Acme Corp/Acne Corp/' | openssl x509 -inform DER > "$WORK/tampered.pem"
grep -q "Acne" <(openssl x509 -in "$WORK/tampered.pem" -noout -subject) || fail "the tampering did not take"
verdict "$WORK/tampered.pem" 'invalid: not signed by the licence CA (issuer "O=mysqlop,CN=mysqlop development licence CA")'

# Usage errors are clear.
USAGE=$("$LICENSE" issue --ca-cert "$CA/ca.crt" 2>&1) && fail "issue without --ca-key must fail"
grep -q -- '--ca-key is required' <<<"$USAGE" || fail "missing flags must be named: $USAGE"
[[ $FAILED -eq 0 ]] && echo PASS || exit 1
