// ajv_verdicts.js: the verdicts of ajv 8 (draft 2020-12, strict mode, ajv-formats) for
// agreement.py, which runs it beside python3-jsonschema.
//
//   node ajv_verdicts.js NODE_MODULES SCHEMADIR < requests > answers
//
// Every SCHEMADIR/*.schema.json must compile in strict mode (else exit 1 naming it). Each
// request line is {"schema": "event", "doc": <the message as I-JSON read it>}; each answer
// line is {"valid": bool, "why": "..."}, in order.
"use strict";
const fs = require("fs");
const path = require("path");
const readline = require("readline");

const [modules, schemadir] = process.argv.slice(2);
if (!modules || !schemadir) {
  console.error("usage: node ajv_verdicts.js NODE_MODULES SCHEMADIR");
  process.exit(2);
}
const Ajv2020 = require(path.join(modules, "ajv/dist/2020")).default;
const addFormats = require(path.join(modules, "ajv-formats"));

const ajv = new Ajv2020({ strict: true, allErrors: false });
addFormats(ajv);
const validators = {};
for (const file of fs.readdirSync(schemadir).sort()) {
  if (!file.endsWith(".schema.json")) continue;
  const name = file.slice(0, -".schema.json".length);
  try {
    validators[name] = ajv.compile(JSON.parse(fs.readFileSync(path.join(schemadir, file), "utf8")));
  } catch (e) {
    console.error(`${file}: ajv strict mode refuses it: ${e.message}`);
    process.exit(1);
  }
}

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const req = JSON.parse(line);
  const v = validators[req.schema];
  if (!v) {
    console.error(`no schema ${req.schema}`);
    process.exit(1);
  }
  const ok = v(JSON.parse(req.text));
  const e = ok ? null : v.errors[0];
  process.stdout.write(
    JSON.stringify({ valid: ok, why: ok ? "valid" : `${e.instancePath || "(message)"}: ${e.message}` }) + "\n"
  );
});
