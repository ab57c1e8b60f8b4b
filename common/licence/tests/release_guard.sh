#!/usr/bin/env bash
# A Release build must be given the vendor's licence CA: configuring one without
# MYSQLOP_LICENCE_CA_CERT fails, saying so, and with one it configures (and generates no CA).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FAILED=0; fail() { echo "FAIL: $*" >&2; FAILED=1; }
if OUT=$(cmake -S "$ROOT" -B "$WORK/no-ca" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DMYSQLOP_PRODUCT_ONLY=ON 2>&1); then
  fail "a Release build configured without a licence CA: $OUT"
fi
grep -q 'a Release build needs the vendor.s licence CA certificate' <<<"$OUT" || fail "no clear message: $OUT"
[[ ! -e "$WORK/no-ca/licence-ca/ca.key" ]] || fail "a Release configure generated a licence CA key"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/vendor.key" -out "$WORK/vendor.crt" \
  -days 1 -subj /CN=vendor 2> /dev/null
OUT=$(cmake -S "$ROOT" -B "$WORK/with-ca" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DMYSQLOP_PRODUCT_ONLY=ON \
  -DMYSQLOP_LICENCE_CA_CERT="$WORK/vendor.crt" 2>&1) || fail "a Release build with a licence CA did not configure: $OUT"
grep -q 'false' "$WORK/with-ca/common/licence/embedded_ca.cpp" || fail "the vendor's CA is not marked as a release CA"
[[ $FAILED -eq 0 ]] && echo PASS
exit $FAILED
