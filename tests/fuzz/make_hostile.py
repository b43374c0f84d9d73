#!/usr/bin/python3
"""make_hostile: writes the hostile-input fixtures of issue 7 under tests/fixtures/events.

usage: make_hostile.py FIXTURESDIR CREDSYNCCTL

Each case is built from a valid event by one hostile change and names the reject reason it
must get (None: the event stays valid, e.g. SQL text in a free-text field, which must then be
stored verbatim). The detail line of each error file is taken from `credsyncctl check-event`
only when its reason is the one named here; any other verdict is reported and nothing of that
case is written, so the file never just records what the code happens to do.
"""

import json
import os
import subprocess
import sys
import tempfile

SQLI = "x'); DROP TABLE credsync.records; --"
SQLI_OR = "' OR '1'='1"

PENALTY = {
    "schema": "credsync.event/1",
    "event_id": "7e0a8f52-1c3b-4d6e-9f70-8a1b2c3d4e01",
    "type": "penalty.issued",
    "producer": "nm-tax",
    "occurred_at": "2024-05-06T10:15:00+08:00",
    "subject": {"uscc": "91150102MA0N123408", "name": "呼和浩特某某商贸有限公司"},
    "record": {
        "decision_no": "呼税罚〔2024〕12号",
        "decided_on": "2024-05-06",
        "categories": ["fine"],
        "fine_yuan": "20000.00",
        "field": "other",
        "severity": "general",
        "issuer": {"name": "国家税务总局呼和浩特市税务局", "uscc": "11150100MB0123456P"},
    },
}
LIST_ADDED = {
    "schema": "credsync.event/1",
    "event_id": "7e0a8f52-1c3b-4d6e-9f70-8a1b2c3d4e02",
    "type": "list.added",
    "producer": "nm-samr",
    "occurred_at": "2024-09-13T15:00:00+08:00",
    "subject": {"uscc": "91150105MA13XY2002", "name": "包头某某科技有限公司"},
    "record": {
        "list": "abnormal-enterprise",
        "decision_no": "呼市监异〔2024〕88号",
        "listed_on": "2024-03-01",
        "reason": "通过登记的住所或者经营场所无法联系",
    },
}
REPAIRED = {
    "schema": "credsync.event/1",
    "event_id": "7e0a8f52-1c3b-4d6e-9f70-8a1b2c3d4e03",
    "type": "penalty.repaired",
    "producer": "creditchina",
    "occurred_at": "2024-09-13T15:00:00+08:00",
    "subject": {"uscc": "91150102MA0N123408", "name": "呼和浩特某某商贸有限公司"},
    "record": {
        "decision_no": "呼税罚〔2024〕12号",
        "repaired_on": "2024-09-13",
        "repair_decision_no": "内信修〔2024〕0913号",
    },
}
APPLIED = {
    "schema": "credsync.event/1",
    "event_id": "7e0a8f52-1c3b-4d6e-9f70-8a1b2c3d4e04",
    "type": "repair.applied",
    "producer": "creditchina",
    "occurred_at": "2024-09-13T15:00:00+08:00",
    "subject": {"uscc": "91150102MA0N123408", "name": "呼和浩特某某商贸有限公司"},
    "record": {
        "decision_no": "呼税罚〔2024〕12号",
        "application_no": "XF2024091300017",
        "applied_at": "2024-09-13T09:30:00+08:00",
    },
}


def put(base, path, value):
    """A deep copy of base with the member at path ("record.issuer.name") set to value."""
    doc = json.loads(json.dumps(base))
    *parents, last = path.split(".")
    obj = doc
    for p in parents:
        obj = obj[p]
    if isinstance(obj.get(last), list) and not isinstance(value, list):
        obj[last] = [value]
    else:
        obj[last] = value
    return doc


def dump(doc):
    return json.dumps(doc, ensure_ascii=False, indent=1).encode() + b"\n"


def cases():
    """(name, bytes, topic or None, reason or None for valid)."""
    # SQL injection text in every string field. Codes, dates, UUIDs and enums refuse it;
    # names, numbers of decisions and applications and reasons are text and keep it.
    sqli = [
        (PENALTY, "schema", "unsupported_schema"),
        (PENALTY, "event_id", "invalid_field"),
        (PENALTY, "type", "unknown_type"),
        (PENALTY, "producer", "invalid_field"),
        (PENALTY, "occurred_at", "invalid_field"),
        (PENALTY, "subject.uscc", "invalid_uscc"),
        (PENALTY, "subject.name", None),
        (PENALTY, "record.decision_no", None),
        (PENALTY, "record.decided_on", "invalid_field"),
        (PENALTY, "record.categories", "invalid_field"),
        (PENALTY, "record.fine_yuan", "invalid_field"),
        (PENALTY, "record.field", "invalid_field"),
        (PENALTY, "record.severity", "invalid_field"),
        (PENALTY, "record.issuer.name", None),
        (PENALTY, "record.issuer.uscc", "invalid_uscc"),
        (LIST_ADDED, "record.list", "unknown_list"),
        (LIST_ADDED, "record.listed_on", "invalid_field"),
        (LIST_ADDED, "record.reason", None),
        (REPAIRED, "record.repaired_on", "invalid_field"),
        (REPAIRED, "record.repair_decision_no", None),
        (APPLIED, "record.application_no", None),
        (APPLIED, "record.applied_at", "invalid_field"),
    ]
    for base, path, reason in sqli:
        name = "hostile-sqli-" + path.replace("record.", "").replace(".", "-").replace("_", "-")
        yield name, dump(put(base, path, SQLI)), None, reason
    yield "hostile-sqli-or-subject-name", dump(put(PENALTY, "subject.name", SQLI_OR)), None, None
    yield "hostile-sqli-member-name", dump(dict(PENALTY, **{SQLI: SQLI})), None, None
    # A forged producer: the field names another authority than the topic it came on.
    yield ("hostile-forged-producer-samr-on-tax", dump(put(PENALTY, "producer", "nm-samr")),
           "credit.in.nm-tax", "producer_mismatch")
    yield ("hostile-forged-producer-creditchina", dump(REPAIRED), "credit.in.nm-tax",
           "producer_mismatch")

    # NUL bytes: escaped (a C string cannot hold one) and raw, in and after a string.
    good = dump(PENALTY)
    name_at = good.index("呼和浩特某某".encode())
    yield ("hostile-nul-escaped-in-name", dump(put(PENALTY, "subject.name", "a\0b")), None,
           "malformed_json")
    yield ("hostile-nul-escaped-in-event-id",
           dump(put(PENALTY, "event_id", "7e0a8f52-1c3b-4d6e-9f70-8a1b2c3d4e01\0")), None,
           "malformed_json")
    yield ("hostile-nul-raw-in-name", good[:name_at] + b"\0" + good[name_at:], None,
           "malformed_json")
    yield "hostile-nul-raw-after-object", good + b"\0", None, "malformed_json"
    yield "hostile-nul-raw-before-object", b"\0" + good, None, "malformed_json"

    # Numbers out of range.
    yield ("hostile-number-integer-too-big",
           dump(put(PENALTY, "record.decision_no", 10**30)).replace(
               b"1000000000000000000000000000000", b"123456789012345678901234567890"),
           None, "malformed_json")
    yield ("hostile-number-real-overflow", good.replace(b'"20000.00"', b"1e400"), None,
           "malformed_json")
    yield "hostile-fine-too-big", dump(put(PENALTY, "record.fine_yuan",
                                           "9223372036854775808.00")), None, "invalid_field"
    yield ("hostile-occurred-at-offset-out-of-range",
           dump(put(PENALTY, "occurred_at", "2024-05-06T10:15:00+24:00")), None, "invalid_field")
    yield ("hostile-occurred-at-hour-24",
           dump(put(PENALTY, "occurred_at", "2024-05-06T24:00:00+08:00")), None, "invalid_field")
    yield ("hostile-decided-on-month-13", dump(put(PENALTY, "record.decided_on", "2024-13-01")),
           None, "invalid_field")
    yield ("hostile-decided-on-day-0", dump(put(PENALTY, "record.decided_on", "2024-05-00")),
           None, "invalid_field")

    # Times without offsets, dates that do not exist.
    yield ("hostile-applied-at-no-offset",
           dump(put(APPLIED, "record.applied_at", "2024-09-13T09:30:00")), None, "invalid_field")
    yield ("hostile-occurred-at-date-only", dump(put(PENALTY, "occurred_at", "2024-05-06")), None,
           "invalid_field")
    yield ("hostile-decided-on-2026-02-29", dump(put(PENALTY, "record.decided_on", "2026-02-29")),
           None, "invalid_field")
    yield ("hostile-listed-on-2026-02-29", dump(put(LIST_ADDED, "record.listed_on", "2026-02-29")),
           None, "invalid_field")
    yield ("hostile-repaired-on-april-31", dump(put(REPAIRED, "record.repaired_on", "2025-04-31")),
           None, "invalid_field")
    yield ("hostile-occurred-at-2026-02-29",
           dump(put(PENALTY, "occurred_at", "2026-02-29T10:15:00+08:00")), None, "invalid_field")

    # Deep nesting: past jansson's own limit (2048) inside an unknown member, and objects.
    deep = b'{"schema": "credsync.event/1", "x": ' + b"[" * 20000 + b"]" * 20000 + b"}"
    yield "hostile-nesting-20000-arrays", deep, None, "malformed_json"
    inner = {}
    for _ in range(9):
        inner = {"a": inner}
    yield "hostile-nesting-objects-in-record", dump(put(PENALTY, "record.x", inner)), None, \
        "malformed_json"

    # Duplicate keys: nested, and spelled differently but equal after unescaping.
    text = good.decode()
    yield ("hostile-duplicate-key-nested",
           text.replace('"decided_on": "2024-05-06"',
                        '"decided_on": "2024-05-06", "decided_on": "2020-01-01"').encode(),
           None, "malformed_json")
    yield ("hostile-duplicate-key-escaped",
           text.replace('"producer": "nm-tax"',
                        '"producer": "nm-tax", "\\u0070roducer": "nm-samr"').encode(),
           None, "malformed_json")
    yield ("hostile-duplicate-key-subject-uscc",
           text.replace('"uscc": "91150102MA0N123408"',
                        '"uscc": "91150102MA0N123408", "uscc": "91150105MA13XY2002"').encode(),
           None, "malformed_json")

    # Invalid UTF-8 of several kinds, in a value and in a key.
    name = "呼和浩特某某".encode()
    for label, bad in [("overlong", b"\xc0\xaf"), ("surrogate", b"\xed\xa0\x80"),
                       ("five-byte", b"\xf8\x88\x80\x80\x80"), ("ff", b"\xff"),
                       ("truncated", b"\xe5\x91"), ("above-10ffff", b"\xf4\x90\x80\x80")]:
        yield (f"hostile-utf8-{label}", good.replace(name, name + bad, 1), None, "malformed_json")
    yield ("hostile-utf8-in-key", good.replace(b'"field"', b'"fi\xc3eld"', 1), None,
           "malformed_json")


def main(argv):
    fixtures, ctl = argv[1], argv[2]
    bad = 0
    for name, data, topic, reason in cases():
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()
            cmd = [ctl, "check-event", "--json"] + (["--topic", topic] if topic else []) + [f.name]
            run = subprocess.run(cmd, capture_output=True)
        answer = json.loads(run.stdout)
        got = None if answer["ok"] else answer["reason"]
        if got != reason:
            print(f"MISMATCH {name}: expected {reason}, got {got}: {answer}")
            bad += 1
            continue
        folder = os.path.join(fixtures, "events", "valid" if reason is None else "invalid", name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "input"), "wb") as f:
            f.write(data)
        if topic:
            with open(os.path.join(folder, "topic"), "w") as f:
                f.write(topic + "\n")
        if reason:
            with open(os.path.join(folder, "error"), "w") as f:
                f.write(f"{reason}: {answer['detail']}\n")
        print(f"ok {name}: {reason or 'valid'}" + (f": {answer['detail']}" if reason else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
