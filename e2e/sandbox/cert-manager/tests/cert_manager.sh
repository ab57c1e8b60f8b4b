#!/usr/bin/env bash
# The sandbox cert-manager through real kubectl and openssl (issue 6): the documented CA
# bootstrap, a selfSigned → CA → leaf chain, exactly-what-was-asked certificates, key
# encodings, renewal by moving the apiserver's clock, re-issuance triggers, a missing issuer,
# invalid Certificates, and upstream's printer columns.
source "$(dirname "$0")/../../apiserver/tests/lib.sh"
CERT_MANAGER=${CERT_MANAGER:?path of the sandbox-cert-manager binary}
K=/usr/lib/google-cloud-sdk/bin/kubectl.1.33
PK='PRIVATE'' KEY'   # split, so that no file in the repository looks like it holds a key
CRDS="$(cd "$(dirname "$0")/../crds" && pwd)"
CM_PID=""
trap '[[ -n "$CM_PID" ]] && kill -TERM "$CM_PID" 2>/dev/null && wait "$CM_PID"; cleanup' EXIT

start_apiserver
"$K" apply -f "$CRDS" > /dev/null
"$K" wait --for=condition=Established crd/certificates.cert-manager.io crd/issuers.cert-manager.io \
  crd/clusterissuers.cert-manager.io crd/certificaterequests.cert-manager.io --timeout=20s > /dev/null
"$K" create namespace demo > /dev/null
"$K" create namespace cert-manager > /dev/null
"$CERT_MANAGER" --kubeconfig "$KUBECONFIG" --issuance-backoff 2 2> "$WORK/cm.log" &
CM_PID=$!

cond() { "$K" get "$1" -n "${3:-demo}" -o "jsonpath={.status.conditions[?(@.type==\"$2\")].status} {.status.conditions[?(@.type==\"$2\")].reason}" 2>&1; }
field() { "$K" get "$1" -n "${3:-demo}" -o "jsonpath=$2" 2>&1; }
secret_file() { "$K" get secret "$1" -n "${3:-demo}" -o "jsonpath={.data.${2//./\\.}}" | base64 -d > "$WORK/$1.$2"; }
apply() { "$K" apply -f - > /dev/null; }

# --- the documented bootstrap: openssl CA → kubectl create secret tls → Issuer --------------
make_ca /CN=demo-ca/O=mysqlop
"$K" create secret tls ca-key-pair -n demo --cert "$WORK/ca.crt" --key "$WORK/ca.key" > /dev/null
apply <<'YAML'
apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: ca, namespace: demo}
spec: {ca: {secretName: ca-key-pair}}
YAML
expect 'condition met' "$K" wait --for=condition=Ready issuer/ca -n demo --timeout=20s
expect '^True KeyPairVerified$' cond issuer/ca Ready
expect '^Signing CA verified$' field issuer/ca '{.status.conditions[0].message}'
# A ClusterIssuer reads its Secret from the cluster resource namespace.
"$K" create secret tls ca-key-pair -n cert-manager --cert "$WORK/ca.crt" --key "$WORK/ca.key" > /dev/null
printf 'apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: corp-ca}\nspec: {ca: {secretName: ca-key-pair}}\n' | apply
expect 'condition met' "$K" wait --for=condition=Ready clusterissuer/corp-ca --timeout=20s
# A ca Issuer over a missing Secret is not Ready, and becomes Ready when the Secret appears.
printf 'apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: {name: late, namespace: demo}\nspec: {ca: {secretName: late-ca}}\n' | apply
eventually '^False ErrGetKeyPair$' cond issuer/late Ready
expect 'secrets "late-ca" not found' field issuer/late '{.status.conditions[0].message}'
"$K" create secret tls late-ca -n demo --cert "$WORK/ca.crt" --key "$WORK/ca.key" > /dev/null
eventually '^True KeyPairVerified$' cond issuer/late Ready

# --- selfSigned ClusterIssuer → isCA Certificate → ca ClusterIssuer → leaf -------------------
apply <<'YAML'
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: selfsigned}
spec: {selfSigned: {}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: root-ca, namespace: cert-manager}
spec:
  isCA: true
  commonName: sandbox-root
  secretName: root-ca
  privateKey: {algorithm: ECDSA, size: 256}
  issuerRef: {name: selfsigned, kind: ClusterIssuer, group: cert-manager.io}
---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: root-ca}
spec: {ca: {secretName: root-ca}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: chained, namespace: demo}
spec:
  commonName: chained.demo.svc
  secretName: chained-tls
  issuerRef: {name: root-ca, kind: ClusterIssuer}
YAML
expect 'condition met' "$K" wait --for=condition=Ready certificate/root-ca -n cert-manager --timeout=20s
expect 'condition met' "$K" wait --for=condition=Ready clusterissuer/root-ca --timeout=20s
expect 'condition met' "$K" wait --for=condition=Ready certificate/chained -n demo --timeout=20s
secret_file root-ca tls.crt cert-manager; secret_file root-ca ca.crt cert-manager
cmp -s "$WORK/root-ca.tls.crt" "$WORK/root-ca.ca.crt" || fail "a selfSigned certificate's ca.crt must be itself"
expect 'CA:TRUE' openssl x509 -in "$WORK/root-ca.tls.crt" -noout -text
secret_file chained-tls tls.crt; secret_file chained-tls ca.crt
expect 'OK$' openssl verify -CAfile "$WORK/chained-tls.ca.crt" "$WORK/chained-tls.tls.crt"
expect 'subject=CN ?= ?sandbox-root' openssl x509 -in "$WORK/chained-tls.ca.crt" -noout -subject

# --- a Certificate gets exactly what it asks for -----------------------------------------
apply <<'YAML'
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: server, namespace: demo}
spec:
  secretName: server-tls
  commonName: my.demo.svc
  dnsNames: [my, my.demo.svc, "*.my-pods.demo.svc"]
  ipAddresses: [127.0.0.1, "2001:db8::1"]
  uris: ["spiffe://cluster.local/ns/demo/sa/my"]
  emailAddresses: [dba@example.com]
  subject: {organizations: [kubedb], organizationalUnits: [db], countries: [DE], localities: [Berlin], provinces: [Berlin], postalCodes: ["10115"], streetAddresses: [Main St 1], serialNumber: "42"}
  usages: [digital signature, key encipherment, server auth, client auth]
  duration: 720h
  privateKey: {algorithm: ECDSA, size: 384, encoding: PKCS8}
  secretTemplate: {labels: {app.kubernetes.io/instance: my}, annotations: {team: db}}
  issuerRef: {name: ca, kind: Issuer, group: cert-manager.io}
YAML
expect 'condition met' "$K" wait --for=condition=Ready certificate/server -n demo --timeout=20s
secret_file server-tls tls.crt; secret_file server-tls tls.key; secret_file server-tls ca.crt
expect 'OK$' openssl verify -CAfile "$WORK/server-tls.ca.crt" "$WORK/server-tls.tls.crt"
cmp -s "$WORK/server-tls.ca.crt" "$WORK/ca.crt" || fail "ca.crt must be the issuer's CA"
TEXT=$(openssl x509 -in "$WORK/server-tls.tls.crt" -noout -text)
for want in 'Subject: C ?= ?DE, ST ?= ?Berlin, L ?= ?Berlin, street ?= ?Main St 1, postalCode ?= ?10115, O ?= ?kubedb, OU ?= ?db, serialNumber ?= ?42, CN ?= ?my.demo.svc' \
            'Issuer: CN ?= ?demo-ca, O ?= ?mysqlop' \
            'DNS:my, DNS:my.demo.svc, DNS:\*.my-pods.demo.svc, IP Address:127.0.0.1, IP Address:2001:DB8:0:0:0:0:0:1, URI:spiffe://cluster.local/ns/demo/sa/my, email:dba@example.com' \
            'X509v3 Key Usage: critical' 'Digital Signature, Key Encipherment' 'TLS Web Server Authentication, TLS Web Client Authentication' \
            'Public-Key: \(384 bit\)' 'CA:FALSE'; do
  grep -qE -- "$want" <<<"$TEXT" || fail "openssl x509 -text lacks /$want/"
done
NB=$(date -d "$(openssl x509 -in "$WORK/server-tls.tls.crt" -noout -startdate | cut -d= -f2)" +%s)
NA=$(date -d "$(openssl x509 -in "$WORK/server-tls.tls.crt" -noout -enddate | cut -d= -f2)" +%s)
[[ $((NA - NB)) -eq $((720 * 3600)) ]] || fail "validity is $((NA - NB)) s, not 720h"
[[ $(openssl x509 -in "$WORK/server-tls.tls.crt" -noout -serial | cut -d= -f2 | wc -c) -gt 17 ]] || fail "serial shorter than 64 bits"
expect "^-----BEGIN $PK-----" head -1 "$WORK/server-tls.tls.key"
expect '^kubernetes.io/tls$' field secret/server-tls '{.type}'
expect '^true my$' field secret/server-tls '{.metadata.labels.controller\.cert-manager\.io/fao} {.metadata.labels.app\.kubernetes\.io/instance}'
expect '^server ca Issuer cert-manager.io my.demo.svc my,my.demo.svc,\*.my-pods.demo.svc 127.0.0.1,2001:db8::1 db$' field secret/server-tls \
  '{.metadata.annotations.cert-manager\.io/certificate-name} {.metadata.annotations.cert-manager\.io/issuer-name} {.metadata.annotations.cert-manager\.io/issuer-kind} {.metadata.annotations.cert-manager\.io/issuer-group} {.metadata.annotations.cert-manager\.io/common-name} {.metadata.annotations.cert-manager\.io/alt-names} {.metadata.annotations.cert-manager\.io/ip-sans} {.metadata.annotations.team}'
expect '^$' field secret/server-tls '{.metadata.ownerReferences}'
expect '^1 ' field certificate/server '{.status.revision} {.status.notAfter} {.status.renewalTime}'
expect 'The certificate has been successfully issued' "$K" get events -n demo --field-selector involvedObject.name=server
# PKCS1 (the default) for RSA, and Ed25519 (always PKCS8).
printf 'apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: rsa, namespace: demo}\nspec: {secretName: rsa-tls, commonName: rsa, issuerRef: {name: ca}}\n' | apply
printf 'apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: ed, namespace: demo}\nspec: {secretName: ed-tls, commonName: ed, privateKey: {algorithm: Ed25519}, issuerRef: {name: ca}}\n' | apply
expect 'condition met' "$K" wait --for=condition=Ready certificate/rsa certificate/ed -n demo --timeout=20s
secret_file rsa-tls tls.key; secret_file rsa-tls tls.crt; secret_file ed-tls tls.key
expect "^-----BEGIN RSA $PK-----" head -1 "$WORK/rsa-tls.tls.key"
expect 'Public-Key: \(2048 bit\)' openssl x509 -in "$WORK/rsa-tls.tls.crt" -noout -text
expect "^-----BEGIN $PK-----" head -1 "$WORK/ed-tls.tls.key"
expect 'ED25519' openssl pkey -in "$WORK/ed-tls.tls.key" -noout -text

# --- printer columns ------------------------------------------------------------------------
expect '^NAME +READY +SECRET +AGE' "$K" get certificate -n demo
expect '^server +True +server-tls ' "$K" get certificate -n demo
expect '^NAME +READY +SECRET +ISSUER +STATUS +EXPIRATION +AGE' "$K" get certificate -n demo -o wide
expect '^server +True +server-tls +ca +Certificate is up to date and has not expired +20[0-9]{2}-[0-9]{2}-[0-9]{2}T' "$K" get certificate -n demo -o wide
expect '^ca +True ' "$K" get issuer -n demo

# --- a missing issuer: waits, then proceeds -----------------------------------------------
printf 'apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: waiting, namespace: demo}\nspec: {secretName: waiting-tls, commonName: w, issuerRef: {name: later}}\n' | apply
eventually '^False DoesNotExist$' cond certificate/waiting Ready
expect 'waiting for the issuer: Issuer "later" not found' field certificate/waiting '{.status.conditions[?(@.type=="Issuing")].message}'
expect_fail 'NotFound' "$K" get secret waiting-tls -n demo
printf 'apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: {name: later, namespace: demo}\nspec: {selfSigned: {}}\n' | apply
expect 'condition met' "$K" wait --for=condition=Ready certificate/waiting -n demo --timeout=20s

# --- invalid Certificates: Ready=False with the reason, no Secret -------------------------
while IFS='|' read -r name spec want; do
  printf 'apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: %s, namespace: demo}\nspec: %s\n' "$name" "$spec" | apply
  eventually '^False BadConfig$' cond "certificate/$name" Ready
  expect "$want" field "certificate/$name" '{.status.conditions[?(@.type=="Ready")].message}'
  expect_fail 'NotFound' "$K" get secret "$name-tls" -n demo
done <<'TABLE'
bad-identity|{secretName: bad-identity-tls, issuerRef: {name: ca}}|at least one of commonName
bad-duration|{secretName: bad-duration-tls, commonName: x, duration: 30m, issuerRef: {name: ca}}|spec.duration: Invalid value: "30m0s": certificate duration must be greater than 1h0m0s
bad-renew|{secretName: bad-renew-tls, commonName: x, duration: 2h, renewBefore: 3h, issuerRef: {name: ca}}|certificate duration 2h0m0s must be greater than renewBefore 3h0m0s
bad-keystore|{secretName: bad-keystore-tls, commonName: x, keystores: {pkcs12: {create: true}}, issuerRef: {name: ca}}|spec.keystores: Forbidden
TABLE
expect 'BadConfig' "$K" get events -n demo --field-selector involvedObject.name=bad-duration,type=Warning

# --- a failed issuance is recorded and retried with backoff (an immutable Secret refuses it) ---
printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: frozen-tls, namespace: demo}\nimmutable: true\ndata: {tls.crt: eA==}\n' | apply
printf 'apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: frozen, namespace: demo}\nspec: {secretName: frozen-tls, commonName: f, issuerRef: {name: ca}}\n' | apply
eventually '^False Failed$' cond certificate/frozen Issuing
expect 'Failed to write the Secret "frozen-tls".*immutable' field certificate/frozen '{.status.conditions[?(@.type=="Issuing")].message}'
expect '^False MissingData$' cond certificate/frozen Ready
expect '^1 20' field certificate/frozen '{.status.failedIssuanceAttempts} {.status.lastFailureTime}'
eventually '^2$' field certificate/frozen '{.status.failedIssuanceAttempts}'   # after the 2 s backoff
"$K" delete secret frozen-tls -n demo > /dev/null
expect 'condition met' "$K" wait --for=condition=Ready certificate/frozen -n demo --timeout=20s
expect '^$' field certificate/frozen '{.status.failedIssuanceAttempts}{.status.lastFailureTime}'

# --- re-issuance: Issuing=True, Secret deleted, dnsNames changed; secretTemplate alone does not ---
rev() { field certificate/server '{.status.revision}'; }
serial() { "$K" get secret server-tls -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d | openssl x509 -noout -serial; }
S1=$(serial)
"$K" patch certificate server -n demo --subresource=status --type=json \
  -p '[{"op":"add","path":"/status/conditions/-","value":{"type":"Issuing","status":"True","reason":"ManuallyTriggered","message":"Certificate re-issuance manually triggered"}}]' > /dev/null
eventually '^2$' rev
[[ "$(serial)" != "$S1" ]] || fail "Issuing=True did not produce a new certificate"
"$K" delete secret server-tls -n demo > /dev/null
eventually '^3$' rev
expect 'server-tls' field secret/server-tls '{.metadata.name}'
"$K" patch secret server-tls -n demo --type=merge -p '{"data":{"tls.key":"'"$(printf 'not a key' | base64)"'"}}' > /dev/null
eventually '^4$' rev   # a corrupted Secret is re-issued
"$K" patch certificate server -n demo --type=json -p '[{"op":"add","path":"/spec/dnsNames/-","value":"extra.demo.svc"}]' > /dev/null
eventually '^5$' rev
expect 'DNS:extra.demo.svc' bash -c "'$K' get secret server-tls -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d | openssl x509 -noout -ext subjectAltName"
"$K" patch certificate server -n demo --type=merge -p '{"spec":{"secretTemplate":{"labels":{"team":"db"}}}}' > /dev/null
eventually '^db$' field secret/server-tls '{.metadata.labels.team}'
sleep 1
expect '^5$' rev

# --- renewal: move the apiserver's clock past renewalTime ----------------------------------
apply <<'YAML'
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: short, namespace: demo}
spec: {secretName: short-tls, commonName: short, duration: 2h, issuerRef: {name: ca}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: keep, namespace: demo}
spec: {secretName: keep-tls, commonName: keep, duration: 2h, renewBefore: 30m, privateKey: {rotationPolicy: Never}, issuerRef: {name: ca}}
YAML
expect 'condition met' "$K" wait --for=condition=Ready certificate/short certificate/keep -n demo --timeout=20s
expect "^$(field certificate/short '{.status.notAfter}' | xargs -I{} date -u -d '{} - 40 minutes' +%Y-%m-%dT%H:%M:%SZ)$" \
  field certificate/short '{.status.renewalTime}'
SHORT_SERIAL=$("$K" get secret short-tls -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d | openssl x509 -noout -serial)
SHORT_KEY=$("$K" get secret short-tls -n demo -o 'jsonpath={.data.tls\.key}')
SHORT_UID=$(field secret/short-tls '{.metadata.uid}')
KEEP_KEY=$("$K" get secret keep-tls -n demo -o 'jsonpath={.data.tls\.key}')
api POST /__sandbox/clock '{"advanceSeconds": 5400}' > /dev/null   # 1h30m: past both renewal times
NOT_READY=0
for _ in $(seq 1 100); do
  [[ "$(cond certificate/short Ready)" == True* ]] || NOT_READY=1
  [[ "$(field certificate/short '{.status.revision}')" == 2 && "$(field certificate/keep '{.status.revision}')" == 2 ]] && break
  sleep 0.1
done
expect '^2 2$' bash -c "echo \$('$K' get certificate short -n demo -o jsonpath='{.status.revision}') \$('$K' get certificate keep -n demo -o jsonpath='{.status.revision}')"
[[ $NOT_READY -eq 0 ]] || fail "Ready left True while the certificate was renewed"
[[ "$("$K" get secret short-tls -n demo -o 'jsonpath={.data.tls\.crt}' | base64 -d | openssl x509 -noout -serial)" != "$SHORT_SERIAL" ]] \
  || fail "renewal kept the serial"
[[ "$(field secret/short-tls '{.metadata.uid}')" == "$SHORT_UID" ]] || fail "renewal replaced the Secret instead of updating it"
[[ "$("$K" get secret short-tls -n demo -o 'jsonpath={.data.tls\.key}')" != "$SHORT_KEY" ]] || fail "rotationPolicy Always kept the key"
[[ "$("$K" get secret keep-tls -n demo -o 'jsonpath={.data.tls\.key}')" == "$KEEP_KEY" ]] || fail "rotationPolicy Never changed the key"
expect 'Renewing certificate as renewal was scheduled at' "$K" get events -n demo --field-selector involvedObject.name=short

grep -q "$PK" "$WORK/cm.log" && fail "a private key reached the cert-manager's log"
if [[ $FAILED -ne 0 ]]; then echo "--- cert-manager log (tail)" >&2; tail -30 "$WORK/cm.log" >&2; fi
finish
