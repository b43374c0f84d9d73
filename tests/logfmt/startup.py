#!/usr/bin/python3
"""startup.py: what credsyncd says before its main loop (usage mistakes, a configuration it
cannot load, a kafka.* property librdkafka refuses, a password in a file others can read) is
strict logfmt on stderr like every later line (check.py's parser), says what it should, and
exits with the README's status.

    startup.py CREDSYNCD
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check import parse  # noqa: E402

failures = 0


def run(name, argv, want_rc, want_in_err, want_not=None):
    global failures
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    problems = []
    if p.returncode != want_rc:
        problems.append(f"exit {p.returncode}, want {want_rc}")
    lines = p.stderr.splitlines()
    if not lines and want_in_err:
        problems.append("nothing on stderr")
    for line in lines:
        try:
            parse(line)
        except ValueError as e:
            problems.append(f"not strict logfmt ({e}): {line}")
    for want in want_in_err:
        if want not in p.stderr:
            problems.append(f"stderr lacks {want!r}")
    if want_not is not None and want_not in p.stderr:
        problems.append(f"stderr has {want_not!r}")
    if problems:
        failures += 1
        print(f"not ok - {name}")
        for pr in problems:
            print("    " + pr)
        print("    stderr: " + p.stderr.replace("\n", "\n            "))
    else:
        print(f"ok - {name}")


def main():
    if len(sys.argv) != 2:
        print("usage: startup.py CREDSYNCD", file=sys.stderr)
        return 2
    bin_ = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="credsync-startup.")
    base = "kafka.bootstrap.servers = localhost:9\npg.conninfo = host=/nonexistent dbname=x\n"

    def conf(name, text, mode=0o600):
        path = os.path.join(tmp, name)
        with open(path, "w") as fp:
            fp.write(text)
        os.chmod(path, mode)
        return path

    run("no arguments: -c FILE is missing", [bin_], 2, ["level=err", "missing -c FILE"])
    run("--check without -c: -c FILE is missing", [bin_, "--check"], 2,
        ["level=err", "missing -c FILE"])
    run("an unknown option", [bin_, "--frobnicate"], 2, ["level=err", "arg=--frobnicate"])
    run("-c without its argument", [bin_, "-c"], 2, ["level=err", "arg=-c"])
    missing = os.path.join(tmp, "no such.conf")
    run("a file that cannot be opened", [bin_, "-c", missing, "--check"], 1,
        ["level=err", "could not open", "no such.conf"])
    bad = conf("typo.conf", base + "\nbatch.max_event = 5\n")
    run("an unknown key names file and line", [bin_, "-c", bad, "--check"], 1,
        [f"{bad}:4: unknown key"])
    bad = conf("kafka.conf", base + "# a comment\nkafka.security.protocol = TLS-please\n")
    run("an invalid kafka.* property names file and line (--check)", [bin_, "-c", bad, "--check"],
        1, [f"{bad}:4: invalid Kafka property \\\"security.protocol\\\""])
    run("an invalid kafka.* property names file and line (start)", [bin_, "-c", bad], 1,
        [f"{bad}:4: invalid Kafka property"])

    # a password in a file others can read: warned about, naming the file and its mode
    for key, value in (("pg.conninfo", "host=/nonexistent password=s3cret"),
                       ("kafka.sasl.password", "s3cret")):
        text = base.replace("pg.conninfo = host=/nonexistent dbname=x\n", "") \
            if key == "pg.conninfo" else base
        text += f"{key} = {value}\n"
        if key != "pg.conninfo":
            text += "kafka.security.protocol = SASL_PLAINTEXT\nkafka.sasl.username = u\n"
        open_ = conf("open.conf", text, 0o644)
        run(f"{key} in a 0644 file is warned about", [bin_, "-c", open_, "--check"], 0,
            ["level=warn", f"file={open_}", "mode=0644"], "s3cret")
        closed = conf("closed.conf", text, 0o600)
        run(f"{key} in a 0600 file is not", [bin_, "-c", closed, "--check"], 0, [], "level=warn")
        if os.getuid() == 0:
            # root can give the file to a group this process is not in
            grouped = conf("grouped.conf", text, 0o640)
            os.chown(grouped, 0, 65534)
            run(f"{key} in a 0640 file of another group is warned about",
                [bin_, "-c", grouped, "--check"], 0, ["level=warn", "mode=0640"])
    nopass = conf("nopass.conf", base, 0o644)
    run("a 0644 file without a password is not", [bin_, "-c", nopass, "--check"], 0, [],
        "level=warn")
    subprocess.run(["rm", "-rf", tmp], check=False)
    print(f"{failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
