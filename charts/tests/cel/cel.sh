#!/usr/bin/env bash
# The CRDs' CEL rules, evaluated (issue 16): every x-kubernetes-validations rule of the charts'
# CRDs runs with @bufbuild/cel (installed by scripts/setup in .tools/cel) on the objects of
# cases.yaml; each must admit one and refuse another, and each case is refused by exactly the
# rules it names. See cel.mjs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
modules="$root/.tools/cel/node_modules"
[[ -d "$modules/@bufbuild/cel" ]] || { echo "FAIL: $modules/@bufbuild/cel is missing: run scripts/setup" >&2; exit 1; }
/usr/bin/python3 - "$root" "$here/cases.yaml" <<'PY' | node "$here/cel.mjs" "$modules"
import glob, json, sys, yaml
root, cases = sys.argv[1], sys.argv[2]
crds = [yaml.safe_load(open(f)) for f in sorted(glob.glob(root + "/charts/*/crds/*.yaml"))]
print(json.dumps({"crds": crds, "cases": yaml.safe_load(open(cases))}))
PY
