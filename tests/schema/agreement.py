#!/usr/bin/python3
"""agreement: the JSON Schemas of schemas/json, credsync's C validator and the contract agree.

usage: agreement.py SCHEMADIR FIXTURESDIR CREDSYNCCTL CONTRACT NODE_MODULES

For every fixture under FIXTURESDIR/events/{valid,invalid} the verdict of event.schema.json
(valid or not) must equal the verdict of `CREDSYNCCTL check-event --json FILE` (exit 0 accepted,
1 rejected), and both must match the folder. Some rejects need what a schema cannot know (the
message's size, data files, the topic, a check character, bytes rather than characters): those
fixtures are listed in SCHEMA_CANNOT_SEE, and for them the schema must say VALID while the C
validator rejects, so that the list stays honest. Ack fixtures (FIXTURESDIR/acks) are checked
against ack.schema.json and their folder; encoder outputs (FIXTURESDIR/encoded/<schema>-*.json,
compared byte for byte with the encoders by test_event) must be valid by their schema.

A schema is applied to the message as I-JSON (RFC 7493) would read it: UTF-8 only, no
duplicate member names, no lone surrogates, no NaN or Infinity; a message failing that is
schema-invalid, as it is malformed_json to credsyncd.

Beside python3-jsonschema, ajv 8 (the validator of the JavaScript world, in strict mode, with
ajv-formats; NODE_MODULES is where scripts/bootstrap installed it) judges every fixture the
I-JSON reading accepts (ajv_verdicts.js), and must give jsonschema's verdict: producers using
either see the same contract. Every schema must compile in ajv's strict mode.

The contract document CONTRACT (docs/CONTRACT.md) lists the codes in markdown tables whose
first header cell names them (CONTRACT_TABLES below: "reject reason", "event type", ...), one
backticked code at the start of each row. Each table must name exactly the values of its schema
enums, both ways: a code gained by the document or by a schema fails.

Prints one line per fixture and table and ends with "N passed, N failed"; exits 1 on any
disagreement.
"""

import json
import os
import re
import subprocess
import sys

import jsonschema
from jsonschema import Draft202012Validator, validators

FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER


def when_unchecked(fmt):
    """A reason that holds only when this jsonschema cannot check the format `fmt`."""
    def applies():
        return fmt not in FORMAT_CHECKER.checkers
    applies.format = fmt  # ajv-formats checks it: there ajv must give the folder's verdict
    return applies


def always():
    return True


# fixture path -> (why a schema cannot see the problem, whether that applies here)
SCHEMA_CANNOT_SEE = {
    "events/invalid/too-large": ("more than 65536 bytes: a limit on the message, not on its JSON", always),
    "events/invalid/malformed-json-too-deep": ("nesting deeper than 8 inside an unknown member, which may hold anything", always),
    "events/invalid/invalid-subject-name-too-many-bytes": ("400 bytes of UTF-8 is the limit; maxLength counts characters", always),
    "events/invalid/invalid-uscc-check-character": ("the USCC check character is arithmetic", always),
    "events/invalid/interface-example": ("the issuer's USCC check character is arithmetic", always),
    "events/invalid/producer-mismatch": ("the producer must match the topic, which is not in the message", always),
    "events/invalid/unknown-list": ("list codes are data (lists.tsv)", always),
    "events/invalid/not-list-owner-add": ("list owners are data (lists.tsv)", always),
    "events/invalid/not-list-owner-remove": ("list owners are data (lists.tsv)", always),
    "events/invalid/wrong-channel-repaired-by-authority": ("disclosure systems are data (authorities.tsv)", always),
    "events/invalid/wrong-channel-repair-applied-by-authority": ("disclosure systems are data (authorities.tsv)", always),
    "events/invalid/wrong-channel-penalty-issued-by-system": ("disclosure systems are data (authorities.tsv)", always),
    "events/invalid/invalid-occurred-at-nonexistent": ("a date-time on a day that does not exist, without a date-time format checker", when_unchecked("date-time")),
    "events/invalid/invalid-decided-on-nonexistent": ("a date that does not exist, without a date format checker", when_unchecked("date")),
    "events/invalid/list-added-invalid-listed-on": ("a date that does not exist, without a date format checker", when_unchecked("date")),
    "events/invalid/hostile-forged-producer-creditchina": ("the producer must match the topic, which is not in the message", always),
    "events/invalid/hostile-forged-producer-samr-on-tax": ("the producer must match the topic, which is not in the message", always),
    "events/invalid/hostile-nesting-objects-in-record": ("nesting deeper than 8 inside an unknown member, which may hold anything", always),
    "events/invalid/hostile-occurred-at-2026-02-29": ("a date-time on a day that does not exist, without a date-time format checker", when_unchecked("date-time")),
    "events/invalid/hostile-sqli-list": ("list codes are data (lists.tsv)", always),
    "acks/invalid/hostile-done-at-2026-02-29": ("a date-time on a day that does not exist, without a date-time format checker", when_unchecked("date-time")),
    "acks/invalid/site-mismatch": ("the site must match the topic, which is not in the message", always),
}


# first header cell of a table in the contract -> where its values are in the schemas:
# (schema name, JSON pointer to an "enum" or a "const"); the values of all places together.
CONTRACT_TABLES = {
    "schema": [(name, "/properties/schema/const")
               for name in ("event", "out", "daily_summary", "ack", "reject")],
    "event type": [("event", "/properties/type/enum")],
    "message type": [("out", "/properties/type/enum"), ("daily_summary", "/properties/type/const")],
    "takedown reason": [("out", "/properties/reason/enum")],
    "record kind": [("out", "/properties/record/properties/kind/enum")],
    "site": [("out", "/$defs/site/enum"), ("ack", "/properties/site/enum"),
             ("daily_summary", "/properties/site/enum")],
    "reject reason": [("reject", "/properties/reason/enum")],
    "penalty category": [("event", "/$defs/record_penalty_issued/properties/categories/items/enum")],
    "field": [("event", "/$defs/record_penalty_issued/properties/field/enum")],
    "severity": [("event", "/$defs/record_penalty_issued/properties/severity/enum")],
}


def pointer(doc, path):
    """The value at a JSON pointer (RFC 6901) of doc; KeyError when there is none."""
    for part in path.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def schema_values(schemas, places):
    """The strings of the enums and consts at places (null, which means absent, left out)."""
    values = set()
    for name, path in places:
        v = pointer(schemas[name], path)
        values.update(x for x in (v if path.endswith("/enum") else [v]) if x is not None)
    return values


ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|")


def contract_tables(text):
    """{first header cell (lower case): [the backticked code opening each row]} of every
    markdown table of text, and the header cells seen more than once."""
    tables, twice, lines, i = {}, set(), text.splitlines(), 0
    while i < len(lines):
        if (lines[i].startswith("|") and i + 1 < len(lines)
                and re.match(r"^\|[-|: ]+\|\s*$", lines[i + 1])):
            head = lines[i].strip("|").split("|")[0].strip().lower()
            rows, i = [], i + 2
            while i < len(lines) and lines[i].startswith("|"):
                m = ROW.match(lines[i])
                rows.append(m.group(1) if m else None)
                i += 1
            if head in tables:
                twice.add(head)
            tables[head] = rows
        else:
            i += 1
    return tables, twice


def check_contract(path, schemadir, report):
    """Every CONTRACT_TABLES table of the document equals its schema values, both ways."""
    schemas = {}
    for name in ("event", "out", "daily_summary", "ack", "reject"):
        with open(os.path.join(schemadir, f"{name}.schema.json"), encoding="utf-8") as f:
            schemas[name] = json.load(f)
    with open(path, encoding="utf-8") as f:
        tables, twice = contract_tables(f.read())
    for head, places in CONTRACT_TABLES.items():
        name = f"contract/{head.replace(' ', '-')}"
        if head not in tables:
            report(False, name, f"no table whose first header cell is {head!r} in {path}")
            continue
        rows = tables[head]
        if head in twice:
            report(False, name, f"more than one table {head!r} in {path}")
            continue
        if None in rows or not rows:
            report(False, name, f"a row of table {head!r} does not open with a `code`")
            continue
        doc, want = set(rows), schema_values(schemas, places)
        dups = sorted({r for r in rows if rows.count(r) > 1})
        only_doc, only_schema = sorted(doc - want), sorted(want - doc)
        if only_doc or only_schema or dups:
            report(False, name, f"document only: {only_doc}; schemas only: {only_schema}; "
                   f"listed twice: {dups}")
        else:
            report(True, name, f"{len(doc)} codes, the same in the document and the schemas")


def ecma_pattern(validator, pattern, instance, schema):
    """JSON Schema patterns are ECMA-262 regular expressions, where "$" matches only at the
    end; Python's "$" also matches before a final newline, so "^[0-9]{4}$" would accept
    "2024\\n". Anchor ends with \\Z instead."""
    if not validator.is_type(instance, "string"):
        return
    python = re.sub(r"(?<!\\)\$$", r"\\Z", pattern)
    if not re.search(python, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


Validator = validators.extend(Draft202012Validator, {"pattern": ecma_pattern})


class NotIJSON(Exception):
    pass


def no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise NotIJSON(f"duplicate member {key!r}")
        seen[key] = value
    return seen


def no_constant(name):
    raise NotIJSON(f"{name} is not JSON")


def check_strings(value):
    if isinstance(value, str):
        if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise NotIJSON("lone surrogate")
    elif isinstance(value, dict):
        for k, v in value.items():
            check_strings(k)
            check_strings(v)
    elif isinstance(value, list):
        for v in value:
            check_strings(v)


def load_ijson(data):
    """The message as I-JSON, or raises NotIJSON / ValueError."""
    text = data.decode("utf-8")  # strict: invalid UTF-8 raises
    doc = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)
    check_strings(doc)
    return doc


# (name, schema, the message's text, jsonschema's verdict) for ajv_verdicts.js, filled by schema_verdict.
AJV_QUEUE = []


def schema_verdict(validator, data, name=None, schema=None):
    """(valid, why) by the schema; queues the document for ajv when name is given."""
    try:
        doc = load_ijson(data)
    except (NotIJSON, ValueError) as e:
        return False, f"not I-JSON: {e}"
    except RecursionError:
        # Python's parser stops at its recursion limit; credsyncd refuses far less deep.
        return False, "not loadable: nested deeper than Python's recursion limit"
    valid = jsonschema.exceptions.best_match(validator.iter_errors(doc)) is None
    if name is not None:
        AJV_QUEUE.append((name, schema, data.decode("utf-8"), valid))
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is None:
        return True, "valid"
    where = "/".join(str(p) for p in error.absolute_path) or "(message)"
    return False, f"{where}: {error.message}"[:160]


def c_verdict(ctl, path, topic):
    """(accepted, text) from credsyncctl check-event, or (None, problem)."""
    cmd = [ctl, "check-event", "--json"]
    if topic:
        cmd += ["--topic", topic]
    cmd.append(path)
    try:
        run = subprocess.run(cmd, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"could not run {ctl}: {e}"
    if run.returncode not in (0, 1):
        return None, f"exit {run.returncode}: {run.stderr.decode(errors='replace').strip()}"
    try:
        answer = json.loads(run.stdout)
    except ValueError:
        return None, f"exit {run.returncode} but output is not JSON: {run.stdout[:200]!r}"
    if answer.get("ok") is not (run.returncode == 0):
        return None, f"exit {run.returncode} disagrees with its output {answer}"
    if answer["ok"]:
        return True, "ok"
    return False, f"{answer.get('reason')}: {answer.get('detail')}"


def ajv_verdicts(modules, schemadir):
    """ajv's (valid, why) for each queued document, in order; raises RuntimeError."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ajv_verdicts.js")
    if not os.path.isdir(os.path.join(modules, "ajv")):
        raise RuntimeError(f"no ajv in {modules}: run scripts/bootstrap")
    requests = "".join(json.dumps({"schema": s, "text": t}) + "\n" for _, s, t, _ in AJV_QUEUE)
    run = subprocess.run(["node", script, modules, schemadir], input=requests.encode(),
                         capture_output=True, timeout=300)
    if run.returncode != 0:
        raise RuntimeError(f"ajv: {run.stderr.decode(errors='replace').strip()}")
    answers = [json.loads(line) for line in run.stdout.decode().splitlines()]
    if len(answers) != len(AJV_QUEUE):
        raise RuntimeError(f"ajv answered {len(answers)} of {len(AJV_QUEUE)}")
    return [(a["valid"], a["why"]) for a in answers]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def cases(fixtures, kind):
    """(name, folder) of each case of FIXTURESDIR/<kind>/{valid,invalid}, sorted."""
    for verdict in ("valid", "invalid"):
        top = os.path.join(fixtures, kind, verdict)
        if not os.path.isdir(top):
            continue
        for name in sorted(os.listdir(top)):
            if not name.startswith("."):
                yield f"{kind}/{verdict}/{name}", os.path.join(top, name)


def topic_of(folder):
    path = os.path.join(folder, "topic")
    return read(path).decode().strip() if os.path.exists(path) else None


def main(argv):
    if len(argv) != 6:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    schemadir, fixtures, ctl, contract, modules = argv[1:]

    def validator(name):
        with open(os.path.join(schemadir, f"{name}.schema.json"), encoding="utf-8") as f:
            schema = json.load(f)
        Validator.check_schema(schema)
        return Validator(schema, format_checker=FORMAT_CHECKER)

    event_v, ack_v = validator("event"), validator("ack")
    passed = failed = 0
    seen = set()

    def report(ok, name, text):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {text}")

    for name, folder in cases(fixtures, "events"):
        seen.add(name)
        data = read(os.path.join(folder, "input"))
        want = "/valid/" in name
        s_ok, s_why = schema_verdict(event_v, data, name, "event")
        c_ok, c_why = c_verdict(ctl, os.path.join(folder, "input"), topic_of(folder))
        blind = SCHEMA_CANNOT_SEE.get(name)
        if c_ok is None:
            report(False, name, f"credsyncctl: {c_why}")
        elif c_ok != want:
            report(False, name, f"credsyncctl says {c_why!r} for a fixture that is {'valid' if want else 'invalid'}")
        elif blind and blind[1]():
            report(s_ok, name, f"schema cannot see this ({blind[0]}): schema {s_why}; credsyncctl {c_why}")
        elif s_ok != c_ok:
            report(False, name, f"disagree: schema {s_why}; credsyncctl {c_why}")
        else:
            report(True, name, f"both {'accept' if c_ok else 'reject'}" + ("" if c_ok else f" ({c_why})"))

    for name, folder in cases(fixtures, "acks"):
        seen.add(name)
        want = "/valid/" in name
        s_ok, s_why = schema_verdict(ack_v, read(os.path.join(folder, "input")), name, "ack")
        blind = SCHEMA_CANNOT_SEE.get(name)
        if blind and blind[1]():
            report(s_ok, name, f"schema cannot see this ({blind[0]}): schema {s_why}")
        else:
            report(s_ok == want, name, f"schema {s_why}")

    encoded = os.path.join(fixtures, "encoded")
    for file in sorted(os.listdir(encoded)) if os.path.isdir(encoded) else []:
        if not file.endswith(".json"):
            continue
        name = f"encoded/{file}"
        schema = file.split("-")[0].removesuffix(".json")
        s_ok, s_why = schema_verdict(validator(schema), read(os.path.join(encoded, file)), name,
                                     schema)
        report(s_ok, name, f"{schema}.schema.json: {s_why}")

    try:
        verdicts = ajv_verdicts(modules, schemadir)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        report(False, "ajv", str(e))
        verdicts = []
    for (name, schema, _, py_ok), (a_ok, a_why) in zip(AJV_QUEUE, verdicts):
        blind = SCHEMA_CANNOT_SEE.get(name)
        if blind and hasattr(blind[1], "format") and blind[1]():
            # this jsonschema lacks the format checker that ajv-formats has
            want = "/valid/" in name
            report(a_ok == want, f"ajv {name}",
                   f"ajv checks format {blind[1].format}: {a_why}")
            continue
        report(a_ok == py_ok, f"ajv {name}",
               f"both {'accept' if a_ok else 'reject'}" if a_ok == py_ok else
               f"disagree: jsonschema {'accepts' if py_ok else 'rejects'}; ajv {a_why}")

    check_contract(contract, schemadir, report)

    for name in sorted(set(SCHEMA_CANNOT_SEE) - seen):
        report(False, name, "listed in SCHEMA_CANNOT_SEE but there is no such fixture")

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
