#!/usr/bin/python3
"""demo: play a realistic scenario through a running credsyncd and show what both sites got.

Usage: demo.py BOOTSTRAP PGCONNINFO
Produces events with kcat on the producers' topics, runs two simulated disclosure sites
(each consumes credit.out.<site> and acknowledges every message on credit.ack.<site>),
waits until every obligation is acknowledged, then prints an account per site and checks
that both sites show the same records."""

import json
import subprocess
import sys
import threading
import time
import uuid

BOOT, CONNINFO = sys.argv[1], sys.argv[2]
NS = uuid.UUID("8d7f7f0e-3b1c-4c55-9f3e-2a1f0c9b7d61")  # the demo's own event ids


def eid(name):
    return str(uuid.uuid5(NS, name))


A = ("91150102MA0N123408", "呼和浩特某某商贸有限公司")
B = ("91150105MA0Q7K3D2H", "包头某某食品有限公司")
C = ("91150203MA0R5T8L6F", "鄂尔多斯某某煤业有限公司")
D = ("92150602MA0P3W9X1U", "赤峰市某某便利店")
E = ("91150702MA0N8H2C4Q", "呼伦贝尔某某建设有限公司")
F = ("91150402MA0M6F1B9H", "乌海某某化工有限公司")


def event(name, typ, producer, subject, record, occurred):
    return {"schema": "credsync.event/1", "event_id": eid(name), "type": typ,
            "producer": producer, "occurred_at": occurred,
            "subject": {"uscc": subject[0], "name": subject[1]}, "record": record}


def penalty(no, decided, cats, fine, field, issuer):
    r = {"decision_no": no, "decided_on": decided, "categories": cats, "field": field,
         "issuer": {"name": issuer, "uscc": "11150100MB0123456P"}}
    if fine:
        r["fine_yuan"] = fine
    return r


# (topic producer, what a person would call it, the message: a dict, or raw text)
SCENARIO = [
    ("nm-tax", "tax bureau fines A", event("a-issued", "penalty.issued", "nm-tax", A,
        penalty("呼税罚〔2026〕12号", "2026-05-06", ["fine"], "200000.00", "other", "国家税务总局呼和浩特市税务局"),
        "2026-05-06T10:15:00+08:00")),
    ("nm-samr", "market regulation fines B and confiscates", event("b-issued", "penalty.issued", "nm-samr", B,
        penalty("包市监罚〔2025〕7号", "2025-06-10", ["fine", "confiscation"], "50000.00", "food", "包头市市场监督管理局"),
        "2025-06-10T09:00:00+08:00")),
    ("nm-emergency", "emergency management penalises C (work safety)", event("c-issued", "penalty.issued", "nm-emergency", C,
        penalty("鄂应急罚〔2026〕3号", "2026-03-02", ["fine", "production_suspension"], "80000.00", "work_safety", "鄂尔多斯市应急管理局"),
        "2026-03-02T11:00:00+08:00")),
    ("nm-transport", "a public criticism of F from June arrives late: its 3 months are over",
        event("f-criticised", "penalty.issued", "nm-transport", F,
              penalty("内交罚〔2026〕9号", "2026-06-01", ["criticism"], None, "other", "内蒙古自治区交通运输厅"),
              "2026-06-01T10:00:00+08:00")),
    ("nm-samr", "D goes on the abnormal-operation list", event("d-listed", "list.added", "nm-samr", D,
        {"list": "abnormal-enterprise", "decision_no": "赤市监异〔2026〕21号", "listed_on": "2026-04-02",
         "reason": "未按期公示年度报告"}, "2026-04-02T10:00:00+08:00")),
    ("nm-court", "E goes on the court's dishonest-debtor list", event("e-listed", "list.added", "nm-court", E,
        {"list": "b1-01", "decision_no": "(2026)内07执45号", "listed_on": "2026-02-20"}, "2026-02-20T15:00:00+08:00")),
    ("nm-tax", "F's removal from the tax list arrives before its listing", event("f-removed", "list.removed", "nm-tax", F,
        {"list": "b1-04", "decision_no": "乌税重〔2026〕2号", "removed_on": "2026-08-03"}, "2026-08-03T10:00:00+08:00")),
    ("nm-tax", "...and then F's listing arrives, late", event("f-listed", "list.added", "nm-tax", F,
        {"list": "b1-04", "decision_no": "乌税重〔2026〕2号", "listed_on": "2026-03-16"}, "2026-03-16T10:00:00+08:00")),
    ("gsxt", "GSXT repairs B's SAMR penalty", event("b-repaired", "penalty.repaired", "gsxt", B,
        {"decision_no": "包市监罚〔2025〕7号", "repaired_on": "2026-11-16", "repair_decision_no": "包市监修〔2026〕4号"},
        "2026-11-16T10:00:00+08:00")),
    ("creditchina", "Credit China repairs A's tax penalty", event("a-repaired", "penalty.repaired", "creditchina", A,
        {"decision_no": "呼税罚〔2026〕12号", "repaired_on": "2026-11-20", "repair_decision_no": "信修〔2026〕88号"},
        "2026-11-20T15:00:00+08:00")),
    ("nm-samr", "D leaves the abnormal-operation list", event("d-removed", "list.removed", "nm-samr", D,
        {"list": "abnormal-enterprise", "decision_no": "赤市监异〔2026〕21号", "removed_on": "2026-10-09"},
        "2026-10-09T09:30:00+08:00")),
    ("nm-court", "E leaves the dishonest-debtor list", event("e-removed", "list.removed", "nm-court", E,
        {"list": "b1-01", "decision_no": "(2026)内07执45号", "removed_on": "2026-11-05"}, "2026-11-05T16:00:00+08:00")),
    ("nm-tax", "the tax bureau's system sends A's penalty again (duplicate)", event("a-issued", "penalty.issued", "nm-tax", A,
        penalty("呼税罚〔2026〕12号", "2026-05-06", ["fine"], "200000.00", "other", "国家税务总局呼和浩特市税务局"),
        "2026-05-06T10:15:00+08:00")),
    ("nm-tax", "someone on the tax topic claims to be market regulation (forged producer)",
        event("forged", "list.added", "nm-samr", C,
              {"list": "abnormal-enterprise", "decision_no": "伪〔2024〕1号", "listed_on": "2024-05-01"},
              "2024-05-01T10:00:00+08:00")),
    ("gsxt", "GSXT tries to repair a tax penalty (wrong channel)", event("c-wrong", "penalty.repaired", "gsxt", C,
        {"decision_no": "鄂应急罚〔2026〕3号", "repaired_on": "2026-11-10"}, "2026-11-10T10:00:00+08:00")),
    ("nm-hrss", "a malformed message", '{"schema": "credsync.event/1", "event_id": '),
]

SITES = ("creditchina", "gsxt")
received = {s: [] for s in SITES}
consumers = []
lock = threading.Lock()


def site(name):
    """A simulated disclosure site: applies each out message, then acknowledges it."""
    cons = subprocess.Popen(["kcat", "-b", BOOT, "-C", "-t", "credit.out." + name, "-o", "beginning",
                             "-u", "-q", "-f", "%s\\n"], stdout=subprocess.PIPE, text=True)
    consumers.append(cons)
    for line in cons.stdout:
        msg = json.loads(line)
        if "record" not in msg:
            continue  # a daily_summary (after midnight Beijing): nothing to apply or acknowledge
        with lock:
            received[name].append(msg)
        ack = {"schema": "credsync.ack/1", "id": msg["id"], "site": name,
               "done_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())}
        # kcat -P sends on end of input only, so one kcat per acknowledgement
        produce_raw("credit.ack." + name, msg["record"]["uscc"], json.dumps(ack))


def produce_raw(topic, key, text):
    subprocess.run(["kcat", "-b", BOOT, "-P", "-t", topic, "-K", "\t"],
                   input=key + "\t" + text + "\n", text=True, check=True)


def produce(topic_producer, key, payload):
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    produce_raw("credit.in." + topic_producer, key, text)


def psql(sql):
    out = subprocess.run(["psql", CONNINFO, "-XAtq", "-F", "\t", "-c", sql], capture_output=True,
                         text=True, check=True)
    return [l.split("\t") for l in out.stdout.splitlines() if l]


def wait_for(sql, want, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if int(psql(sql)[0][0]) >= want:
                return
        except subprocess.CalledProcessError:
            pass  # the schema is created when credsyncd has started
        time.sleep(0.2)
    print(f"demo: timed out waiting for {sql} to reach {want}", file=sys.stderr)
    sys.exit(1)


def main():
    for s in SITES:
        threading.Thread(target=site, args=(s,), daemon=True).start()

    print("== the scenario: what the producers send")
    for n, (producer, what, msg) in enumerate(SCENARIO):
        key = msg["subject"]["uscc"] if isinstance(msg, dict) else ""
        print(f"  credit.in.{producer:<13} {what}")
        produce(producer, key, msg)
        # Each step waits for the one before it, as in life, where a repair comes months
        # after its penalty: events about one record on two producers' topics have no order
        # between them, and an end that arrives before its add means "never shown".
        wait_for(f"SELECT count(*) FROM credsync.inbound WHERE topic LIKE 'credit.in.%'", n + 1)

    deadline = time.time() + 90
    while time.time() < deadline:
        rows = psql("SELECT count(*) FILTER (WHERE acked_at IS NULL), count(*) FROM credsync.obligations")
        consumed = psql("SELECT count(*) FROM credsync.inbound WHERE topic LIKE 'credit.in.%'")
        if rows and int(rows[0][1]) > 0 and int(rows[0][0]) == 0 and int(consumed[0][0]) >= len(SCENARIO):
            break
        time.sleep(0.5)
    else:
        print("demo: timed out waiting for every obligation to be acknowledged", file=sys.stderr)
        sys.exit(1)

    for s in SITES:
        print(f"\n== what {s} was told ({len(received[s])} messages, all acknowledged)")
        for m in received[s]:
            rec = m["record"]
            what = m["type"] + ("/" + m["reason"] if m.get("reason") else "")
            extra = ""
            if m["type"] == "disclose":
                extra = f" until {m.get('disclose_until') or '(listed)'}"
            if m["type"] == "mutual_recognition":
                r = m["recognises"]
                extra = f" (repair {r.get('repair_decision_no')} decided by {r['system']})"
            print(f"  {what:<28} {rec['uscc']} {rec.get('list', rec['kind']):<20} {rec['decision_no']}{extra}  due {m['due_date']}")

    print("\n== what credsync refused (credit.reject.*)")
    for row in psql("SELECT topic, reason, detail FROM credsync.inbound WHERE outcome = 'rejected' ORDER BY topic, partition, \"offset\""):
        print(f"  {row[0]:<24} {row[1]:<20} {row[2]}")
    for row in psql("SELECT outcome, count(*) FROM credsync.inbound WHERE topic LIKE 'credit.in.%' GROUP BY 1 ORDER BY 1"):
        print(f"  inbound outcome {row[0]:<10} {row[1]}")

    shown = {}
    for s in SITES:
        live = {}
        for m in received[s]:
            rec = m["record"]
            k = (rec["uscc"], rec.get("list", ""), rec["decision_no"])
            live[k] = m["type"] == "disclose"
        shown[s] = {k for k, v in live.items() if v}
    print("\n== in step?")
    for s in SITES:
        print(f"  {s:<12} shows {len(shown[s])} record(s): " + ", ".join(sorted(k[0] + ' ' + k[2] for k in shown[s])))
    never = psql("SELECT uscc, coalesce(nullif(list, ''), kind), decision_no, coalesce(end_reason, '') "
                 "FROM credsync.records WHERE status = 'never' ORDER BY uscc")
    for row in never:
        print(f"  never shown: {row[0]} {row[1]} {row[2]} ({row[3]})")
    for c in consumers:
        c.terminate()
    if shown["creditchina"] == shown["gsxt"]:
        print("  both sites show the same records, and every takedown reached both: offline together")
    else:
        print("  MISMATCH between the sites", file=sys.stderr)
        sys.exit(1)


main()
