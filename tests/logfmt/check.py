#!/usr/bin/python3
"""check.py: every line credsyncd wrote during the end-to-end tests is strict logfmt.

    check.py DIR        every *.log file in DIR (kept by tests/lib/e2e.c, CREDSYNC_E2E_LOGS)

A line is "<N>" (the syslog priority systemd's journal reads) followed by logfmt pairs
separated by one space, the first three being ts (RFC 3339, UTC, milliseconds), level (the
name of N) and msg. A key is one or more characters other than blanks, '=', '"' and control
characters. A value is bare (no blank, '=', '"' or control character, not empty) or
double-quoted with the escapes \\" \\\\ \\n \\r \\t \\xHH. A key appears once per line.
The parser is strict on purpose, stricter than lnav or go-logfmt: what it accepts, they
read. Before the logs, it checks itself on lines it must accept and lines it must refuse
(the ones issue 15 found), so a parser that accepts everything fails the test.
"""
import os
import re
import sys

LEVELS = {3: "err", 4: "warn", 5: "notice", 6: "info", 7: "debug"}
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")
KEY = re.compile(r'[^ \t"=\x00-\x1f\x7f]+')
BARE = re.compile(r'[^ \t"=\x00-\x1f\x7f]+')
QUOTED = re.compile(r'"((?:[^"\\\x00-\x1f\x7f]|\\["\\nrt]|\\x[0-9a-fA-F]{2})*)"')


def parse(line):
    """The pairs of line as a list of (key, raw value); raises ValueError with the reason."""
    m = re.match(r"<([0-7])>", line)
    if m is None:
        raise ValueError("no <N> priority prefix")
    prio = int(m.group(1))
    pos, pairs, seen = m.end(), [], set()
    while True:
        k = KEY.match(line, pos)
        if k is None:
            raise ValueError(f"no key at column {pos}")
        pos = k.end()
        if pos >= len(line) or line[pos] != "=":
            raise ValueError(f"key {k.group(0)!r} without '=' at column {pos}")
        pos += 1
        v = QUOTED.match(line, pos) if pos < len(line) and line[pos] == '"' else BARE.match(line, pos)
        if v is None:
            raise ValueError(f"bad value of {k.group(0)!r} at column {pos}")
        pos = v.end()
        if k.group(0) in seen:
            raise ValueError(f"key {k.group(0)!r} twice")
        seen.add(k.group(0))
        pairs.append((k.group(0), v.group(0)))
        if pos == len(line):
            break
        if line[pos] != " ":
            raise ValueError(f"value of {k.group(0)!r} runs on at column {pos}")
        pos += 1
    keys = [k for k, _ in pairs[:3]]
    if keys != ["ts", "level", "msg"]:
        raise ValueError(f"first keys are {keys}, not ts level msg")
    if not TS.match(pairs[0][1]):
        raise ValueError(f"ts {pairs[0][1]!r} is not RFC 3339 UTC with milliseconds")
    if LEVELS.get(prio) != pairs[1][1]:
        raise ValueError(f"level {pairs[1][1]!r} does not match <{prio}>")
    return pairs


GOOD = [
    '<6>ts=2026-01-02T03:04:05.678Z level=info msg=started version=0.1.0 member=h/1/2',
    '<4>ts=2026-01-02T03:04:05.678Z level=warn msg="PostgreSQL unavailable, retrying" '
    'for="clock jobs" error="a \\"b\\" c\\nd \\x01" retry_ms=200',
    '<4>ts=2026-01-02T03:04:05.678Z level=warn msg="TEST CLOCK" override="clock_offset_s=60"',
]
BAD = [
    '<4>ts=2026-01-02T03:04:05.678Z level=warn msg="PostgreSQL unavailable, retrying" '
    'for=clock jobs error=x',
    '<4>ts=2026-01-02T03:04:05.678Z level=warn msg="TEST CLOCK" override=clock_offset_s=60',
    'credsyncd: /etc/credsync/credsyncd.conf:5: unknown key "x"',
    '<3>ts=2026-01-02T03:04:05.678Z level=warn msg=x',
    '<6>level=info ts=2026-01-02T03:04:05.678Z msg=x',
    '<6>ts=2026-01-02T03:04:05.678Z level=info msg=x a=1 a=2',
    '<6>ts=2026-01-02T03:04:05.678Z level=info msg=x  a=1',
    '<6>ts=2026-01-02T03:04:05.678Z level=info msg=x a=',
    '<6>ts=2026-01-02T03:04:05.678Z level=info msg="x\\q"',
    '<6>ts=2026-01-02T03:04:05.678Z level=info msg="x"y',
]


def self_test():
    bad = []
    for line in GOOD:
        try:
            parse(line)
        except ValueError as e:
            bad.append(f"refused a good line ({e}): {line}")
    for line in BAD:
        try:
            parse(line)
            bad.append(f"accepted a bad line: {line}")
        except ValueError:
            pass
    return bad


def main():
    if len(sys.argv) != 2:
        print("usage: check.py DIR", file=sys.stderr)
        return 2
    problems = self_test()
    for p in problems:
        print("parser: " + p)
    if problems:
        return 1
    d = sys.argv[1]
    files = sorted(f for f in os.listdir(d) if f.endswith(".log")) if os.path.isdir(d) else []
    lines = failed = 0
    for name in files:
        with open(os.path.join(d, name), encoding="utf-8", errors="strict") as fp:
            for n, line in enumerate(fp, 1):
                if not line.endswith("\n"):
                    print(f"{name}:{n}: no newline at the end: {line!r}")
                    failed += 1
                    continue
                lines += 1
                try:
                    parse(line[:-1])
                except ValueError as e:
                    failed += 1
                    if failed <= 50:
                        print(f"{name}:{n}: {e}\n    {line[:-1]}")
    print(f"{lines} lines in {len(files)} logs, {failed} not strict logfmt")
    # No logs means the end-to-end suites did not run or did not keep them: that is no pass.
    if not files or lines == 0:
        print(f"no credsyncd logs in {d}: run the e2e suites first (ctest does)")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
