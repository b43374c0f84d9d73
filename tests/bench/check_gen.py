#!/usr/bin/python3
"""check_gen: credsync-gen's output is what the benchmark and the fault tests rely on.

usage: check_gen.py CREDSYNC_GEN CREDSYNCCTL SCHEMADIR

Generates a stream twice with one seed (the bytes must be equal) and once with another (they
must differ); checks the manifest against the files (messages per topic, in total, with the
asked rates of duplicates and invalid messages), that every line is "<subject uscc>\\t<json>"
of the file's producer, and that credsyncctl check-event accepts every message the generator
meant to be valid and rejects every invalid one with one of the manifest's reasons.
Prints one line per failed check and "N passed, N failed"; exits 1 on any failure.
"""

import collections
import filecmp
import json
import os
import subprocess
import sys
import tempfile

# Stateless rejects that check-event sees and the generator writes on purpose.
INTENDED_STATELESS = {"not_list_owner"}


def main():
    gen, ctl, schemas = sys.argv[1:4]
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL: " + what)

    with tempfile.TemporaryDirectory(prefix="check-gen.") as tmp:
        dirs = {}
        for name, seed in (("a", 7), ("b", 7), ("c", 8)):
            dirs[name] = os.path.join(tmp, name)
            subprocess.run([gen, "--seed", str(seed), "--events", "4000", "--out", dirs[name],
                            "--schemas", schemas], check=True)
        files = sorted(os.listdir(dirs["a"]))
        cmp = filecmp.cmpfiles(dirs["a"], dirs["b"], files, shallow=False)
        check(cmp[0] == files, "the same seed gave different files: %s" % (cmp[1] + cmp[2]))
        cmp = filecmp.cmpfiles(dirs["a"], dirs["c"], files, shallow=False)
        check(len(cmp[0]) < len(files), "another seed gave the same files")

        d = dirs["a"]
        m = json.load(open(os.path.join(d, "manifest.json")))
        check(m["messages"] == 4000, "manifest messages %d, not 4000" % m["messages"])
        check(30 <= m["duplicates"] <= 50, "duplicates %d, not about 1%%" % m["duplicates"])
        check(15 <= m["invalid"] <= 25, "invalid %d, not about 0.5%%" % m["invalid"])
        check(sum(m["invalid_by_reason"].values()) == m["invalid"], "invalid reasons do not add up")
        check(sum(m["by_type"].values()) == m["messages"] - m["duplicates"] - m["invalid"],
              "types do not add up")
        check(all(v > 0 for v in m["by_type"].values()), "a type is missing: %s" % m["by_type"])
        total = 0
        seen_ids = collections.Counter()
        verdicts = collections.Counter()
        for topic, count in m["topics"].items():
            path = os.path.join(d, topic + ".tsv")
            lines = open(path, encoding="utf-8").read().splitlines()
            total += len(lines)
            check(len(lines) == count, "%s: %d lines, manifest %d" % (topic, len(lines), count))
            producer = topic[len("credit.in."):]
            for i, line in enumerate(lines):
                key, _, payload = line.partition("\t")
                try:
                    ev = json.loads(payload)
                except ValueError:
                    verdicts["malformed"] += 1
                    continue
                seen_ids[ev.get("event_id")] += 1
                uscc = ev.get("subject", {}).get("uscc")
                if ev.get("producer") == producer and uscc == key:
                    pass
                elif ev.get("producer") != producer:
                    verdicts["producer_mismatch_line"] += 1
                    continue
                else:
                    check(False, "%s line %d: key %s is not the subject %s" % (topic, i + 1,
                                                                                key, uscc))
                if i % 5:
                    continue
                r = subprocess.run([ctl, "check-event", "--json", "--topic", topic, "-"],
                                   input=payload.encode(), capture_output=True)
                reason = "ok" if r.returncode == 0 else json.loads(r.stdout).get("reason")
                verdicts[reason] += 1
        check(total == m["messages"], "files hold %d messages, manifest %d" % (total,
                                                                               m["messages"]))
        check(verdicts["ok"] > 0, "no message accepted")
        known = set(m["invalid_by_reason"]) | INTENDED_STATELESS | {"ok"}
        odd = {k: v for k, v in verdicts.items() if k not in known
               and k not in ("malformed", "producer_mismatch_line")}
        check(not odd, "rejects the generator did not mean: %s" % odd)
        bad = sum(v for k, v in verdicts.items() if k != "ok")
        check(bad <= 0.05 * sum(verdicts.values()), "too many rejects: %s" % dict(verdicts))
        dup = sum(n - 1 for n in seen_ids.values() if n > 1)
        check(dup == m["duplicates"], "%d re-sent event ids, manifest %d" % (dup,
                                                                             m["duplicates"]))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
