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
// rule must admit one case and refuse another, name only fields its schema declares, and give a
// bool on an object with every declared field. Prints one line per rule; exit 1 on any mismatch.
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

// The schema at a path of properties.
function schemaAt(schema, path) {
  for (const p of path) schema = schema?.properties?.[p];
  return schema;
}

// An object with every property the schema declares, each a value of its type (as deep as the
// schema goes): a rule that would not type-check against the schema fails on it.
function sampleOf(schema, depth = 0) {
  if (!schema || depth > 8) return null;
  if (schema.enum?.length) return schema.enum[0];
  switch (schema.type) {
    case "string": return "x";
    case "integer": return 1;
    case "number": return 1.5;
    case "boolean": return true;
    case "array": return [sampleOf(schema.items, depth + 1)].filter((v) => v !== null);
    case "object":
    default: {
      const o = {};
      for (const [k, sub] of Object.entries(schema.properties ?? {})) {
        const v = sampleOf(sub, depth + 1);
        if (v !== null) o[k] = v;
      }
      return o;
    }
  }
}

let failed = false;
const fail = (msg) => { console.log(`FAIL: ${msg}`); failed = true; };

const input = JSON.parse(readFileSync(0, "utf8"));
const rules = [];  // {crd, version, path, rule, message, admitted, refused}
for (const crd of input.crds) {
  const group = crd.spec.group;
  for (const v of crd.spec.versions) {
    const root = v.schema.openAPIV3Schema;
    for (const r of rulesOf(root)) {
      const at = schemaAt(root, r.path);
      // Compiled against the schema: every field the rule names is one the schema declares there
      // (kube-apiserver refuses the CRD otherwise: "undefined field"), and on an object holding
      // every declared field the rule gives a bool without a type error.
      for (const [, field] of r.rule.matchAll(/\bself\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
        if (!at?.properties?.[field] && !at?.["x-kubernetes-preserve-unknown-fields"]) {
          fail(`${crd.metadata.name} ${v.name} ${r.path.join(".")}: rule ${JSON.stringify(r.rule)} names self.${field}, which the schema does not declare`);
        }
      }
      try {
        const verdict = run(r.rule, { self: toCel(sampleOf(at)) });
        if (verdict !== true && verdict !== false) fail(`rule ${JSON.stringify(r.rule)} gives ${String(verdict)} on a full object, not a bool`);
      } catch (e) {
        fail(`rule ${JSON.stringify(r.rule)} does not evaluate on an object of its schema: ${e.message}`);
      }
      rules.push({ crd: crd.metadata.name, apiVersion: `${group}/${v.name}`, ...r, admitted: 0, refused: 0 });
    }
  }
}
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
