#!/usr/bin/env python3
"""gen: a deterministic stream of credsync events for the fault run, as kcat input files.

Writes OUT/1/<topic>.tsv and OUT/2/<topic>.tsv, lines "key<TAB>json" (key: the subject's
USCC) for `kcat -P -K '\\t' -l`. Phase 1 holds adds, ends by the same producer (list removals,
revocations) and exact resends; phase 2 the repairs, which come on the systems' topics and so
must follow their adds (an end racing its add on another topic decides by timing, by rule).
Every subject belongs to one producer, so all its phase-1 events are in one partition, in order.
Same seed, same date: same files."""
import argparse
import datetime
import json
import os
import random
import uuid

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# producer -> (what it sends, the list it owns or None for penalties, repair channel)
PRODUCERS = [
    ("nm-tax", "penalty", None, "creditchina"),
    ("nm-samr", "penalty", None, "gsxt"),
    ("nm-samr", "list", "abnormal-enterprise", None),
    ("nm-court", "list", "b1-01", None),
    ("nm-hrss", "list", "b1-02", None),
    ("nm-stats", "list", "b1-05", None),
    ("nm-emergency", "list", "b1-07", None),
]

NAMES = ["呼和浩特某某商贸有限公司", "包头市某某建材有限公司", "鄂尔多斯某某煤业有限公司",
         "赤峰某某农牧科技有限公司", "通辽某某物流有限公司"]


def uscc(rng):
    body = "911501" + rng.choice(["02", "03", "05"]) + "MA" + "".join(
        rng.choice(ALPHABET) for _ in range(7))
    total, weight = 0, 1
    for ch in body:
        total += ALPHABET.index(ch) * weight
        weight = weight * 3 % 31
    return body + ALPHABET[(31 - total % 31) % 31]


def beijing_days_ago(n):
    today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date()
    return (today - datetime.timedelta(days=n)).isoformat()


def event(rng, typ, producer, code, name, record, when):
    return {
        "schema": "credsync.event/1",
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "type": typ,
        "producer": producer,
        "occurred_at": when,
        "subject": {"uscc": code, "name": name},
        "record": record,
    }


def generate(seed, events):
    """Returns [phase1, phase2], each a list of (topic, key, json text) in production order."""
    rng = random.Random(seed)
    phase1, phase2 = [], []
    decided = beijing_days_ago(200)
    repaired = beijing_days_ago(10)
    n = 0
    rec = 0
    while n < events:
        producer, what, lst, channel = rng.choice(PRODUCERS)
        code = uscc(rng)
        name = rng.choice(NAMES)
        topic = "credit.in." + producer
        # a subject with one to three records, some ended, some sent twice
        for _ in range(rng.randint(1, 3)):
            rec += 1
            if what == "penalty":
                dec = "罚〔2024〕%d号" % rec
                add = event(rng, "penalty.issued", producer, code, name, {
                    "decision_no": dec, "decided_on": decided,
                    "categories": rng.choice([["fine"], ["fine", "confiscation"], ["warning"]]),
                    "fine_yuan": "%d.00" % rng.choice([5000, 200000, 1500000]),
                    "field": "other",
                    "issuer": {"name": "某局", "uscc": "11150100MB0123456P"}},
                    "2024-05-06T10:15:00+08:00")
            else:
                dec = "列〔2024〕%d号" % rec
                add = event(rng, "list.added", producer, code, name, {
                    "list": lst, "decision_no": dec, "listed_on": "2024-04-02"},
                    "2024-04-02T10:00:00+08:00")
            msgs = [add]
            r = rng.random()
            if what == "list" and r < 0.35:
                msgs.append(event(rng, "list.removed", producer, code, name, {
                    "list": lst, "decision_no": dec, "removed_on": "2024-10-09"},
                    "2024-10-09T10:00:00+08:00"))
            elif what == "penalty" and r < 0.10:
                msgs.append(event(rng, "penalty.revoked", producer, code, name, {
                    "decision_no": dec, "revoked_on": "2024-06-01"},
                    "2024-06-01T10:00:00+08:00"))
            elif what == "penalty" and r < 0.40:
                rep = event(rng, "penalty.repaired", channel, code, name, {
                    "decision_no": dec, "repaired_on": repaired,
                    "repair_decision_no": "修〔2024〕%d号" % rec},
                    "2024-10-08T10:00:00+08:00")
                phase2.append(("credit.in." + channel, code, json.dumps(rep, ensure_ascii=False, separators=(",", ":"))))
                n += 1
            if rng.random() < 0.05:
                msgs.append(msgs[-1])  # an exact resend: a duplicate by event_id
            for m in msgs:
                phase1.append((topic, code, json.dumps(m, ensure_ascii=False, separators=(",", ":"))))
                n += 1
    return [phase1, phase2]


def write(phases, out):
    for i, phase in enumerate(phases, 1):
        d = os.path.join(out, str(i))
        os.makedirs(d, exist_ok=True)
        files = {}
        for topic, key, text in phase:
            if topic not in files:
                files[topic] = open(os.path.join(d, topic + ".tsv"), "w", encoding="utf-8")
            files[topic].write(key + "\t" + text + "\n")
        for f in files.values():
            f.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--events", type=int, default=100000)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    phases = generate(a.seed, a.events)
    write(phases, a.out)
    print("gen: %d + %d events in %s" % (len(phases[0]), len(phases[1]), a.out))


if __name__ == "__main__":
    main()
