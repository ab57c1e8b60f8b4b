// The CRDs' CEL rules (x-kubernetes-validations), run with @bufbuild/cel (a CEL implementation
// checked against the cel-spec conformance suite) on the objects of cases.yaml — the sandbox API
// server does not evaluate CEL, so without this nothing would ever run these rules.
//
//   node cel.mjs CEL_MODULE_DIR < input.json
//     input.json: {"crds": [CRD…], "cases": [{name, crd, object, refused: [message…]}…]}
//
// Values reach CEL as the API server hands them over: objects as maps (has() asks for a key),
// integers as int, other numbers as double. For each case, every rule on the path of the object's
// version is run; the messages of those that refuse must be exactly the case's `refused`. Every
// rule must admit one case and refuse another. Prints one line per rule; exit 1 on any mismatch.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const require = createRequire(path.join(process.argv[2], "noop.js"));
const { run } = require("@bufbuild/cel");

function toCel(v) {
  if (Array.isArray(v)) return v.map(toCel);
  if (v !== null && typeof v === "object") return new Map(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  return v;
}

// Every rule of a schema: [{path: ["spec"], rule, message}], through properties only (a rule
// under an array or a map of values would need per-element evaluation: refused here, loudly).
function rulesOf(schema, at = []) {
  const out = [];
  for (const r of schema["x-kubernetes-validations"] ?? []) {
    out.push({ path: at, rule: r.rule, message: r.message ?? r.messageExpression ?? r.rule });
  }
  for (const [k, sub] of Object.entries(schema.properties ?? {})) out.push(...rulesOf(sub, [...at, k]));
  for (const k of ["items", "additionalProperties"]) {
    if (schema[k] && typeof schema[k] === "object" && rulesOf(schema[k]).length > 0) {
      throw new Error(`a rule under ${[...at, k].join(".")}: this test does not evaluate per element yet`);
    }
  }
  return out;
}

const input = JSON.parse(readFileSync(0, "utf8"));
const rules = [];  // {crd, version, path, rule, message, admitted, refused}
for (const crd of input.crds) {
  const group = crd.spec.group;
  for (const v of crd.spec.versions) {
    for (const r of rulesOf(v.schema.openAPIV3Schema)) {
      rules.push({ crd: crd.metadata.name, apiVersion: `${group}/${v.name}`, ...r, admitted: 0, refused: 0 });
    }
  }
}

let failed = false;
const fail = (msg) => { console.log(`FAIL: ${msg}`); failed = true; };
for (const c of input.cases) {
  const mine = rules.filter((r) => r.crd === c.crd && r.apiVersion === c.object.apiVersion);
  if (mine.length === 0) fail(`case "${c.name}": no rule applies to ${c.crd} ${c.object.apiVersion}`);
  const refusedBy = [];
  for (const r of mine) {
    let self = c.object;
    for (const p of r.path) self = self?.[p];
    if (self === undefined) continue;  // an absent field: its rules do not run
    let verdict;
    try {
      verdict = run(r.rule, { self: toCel(self) });
    } catch (e) {
      fail(`rule ${JSON.stringify(r.rule)} on case "${c.name}": ${e.message}`);
      continue;
    }
    if (verdict !== true && verdict !== false) {
      fail(`rule ${JSON.stringify(r.rule)} on case "${c.name}" gave ${String(verdict)}, not a bool`);
      continue;
    }
    if (verdict) r.admitted++;
    else {
      r.refused++;
      refusedBy.push(r.message);
    }
  }
  const want = [...(c.refused ?? [])].sort(), got = [...refusedBy].sort();
  if (JSON.stringify(want) !== JSON.stringify(got)) {
    fail(`case "${c.name}": refused by ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  }
}
for (const r of rules) {
  console.log(`${r.crd} ${r.apiVersion} ${r.path.join(".") || "(root)"}: ${r.rule} — admitted ${r.admitted}, refused ${r.refused}`);
  if (r.admitted === 0 || r.refused === 0) fail(`rule ${JSON.stringify(r.rule)} needs a case it admits and one it refuses`);
}
if (rules.length === 0) fail("no CEL rule found in the CRDs");
process.exit(failed ? 1 : 0);
