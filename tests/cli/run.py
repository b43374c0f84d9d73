#!/usr/bin/python3
"""credsyncctl answers: runs each case of cases.jsonl and compares the exit status and the
fields of its --json answer (and, for notices, what its text must and must not say:
text_has, text_lacks). Usage: run.py CREDSYNCCTL CASES FIXTURES"""

import json
import subprocess
import sys

ctl, cases_path, fixtures = sys.argv[1:4]
passed = failed = 0
with open(cases_path, encoding="utf-8") as f:
    for line in f:
        case = json.loads(line)
        args = [a.replace("@FIXTURES@", fixtures) for a in case["args"]]
        if "json" in case:
            args.append("--json")
        p = subprocess.run([ctl] + args, capture_output=True, text=True)
        problems = []
        if p.returncode != case["exit"]:
            problems.append(f"exit {p.returncode}, expected {case['exit']} ({p.stderr.strip()})")
        if "json" in case:
            try:
                got = json.loads(p.stdout)
                for k, v in case["json"].items():
                    if got.get(k, "<missing>") != v:
                        problems.append(f"{k} = {got.get(k, '<missing>')!r}, expected {v!r}")
                text = got.get("text", "")
                for want in case.get("text_has", []):
                    if want not in text:
                        problems.append(f"text has no {want!r}")
                for bad in case.get("text_lacks", []):
                    if bad in text:
                        problems.append(f"text has {bad!r}")
            except json.JSONDecodeError:
                problems.append(f"not JSON: {p.stdout[:200]!r}")
        if problems:
            failed += 1
            print(f"FAIL {case['what']}: " + "; ".join(problems))
        else:
            passed += 1
            print(f"ok   {case['what']}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
