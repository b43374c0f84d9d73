#!/usr/bin/env python3
"""faults: drives an event stream through credsyncd while injecting faults, then compares the
result with an undisturbed run on the same input (issue 7).

Two runs, each from empty (a fresh database and a fresh credsync-devbroker of 3 brokers):
  reference  the stream, no faults;
  faulted    the same stream with, in one run: SIGKILL of credsyncd (random moments and inside
             the apply-and-commit window), PostgreSQL restarted -m fast and -m immediate, a
             backend terminated and one killed -9, the daemon's backends frozen (SIGSTOP) past
             pg.statement_timeout_ms, all brokers down, partition leaders moved, broker
             responses delayed past the client's timeouts (lost acks), and a second instance
             paused (SIGSTOP) until it lost its partitions (a zombie), then resumed.
Prints a table; exits 1 if any event was lost, any effect applied twice or any obligation lost,
2 on a usage or setup error.

It runs its own PostgreSQL (scripts/pg-test), never the shared test fixture: it restarts it."""
import argparse
import glob
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def now():
    return time.monotonic()


def log(msg):
    sys.stderr.write("faults: %s %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


class SetupError(Exception):
    pass


# --- PostgreSQL ------------------------------------------------------------------------------


class Postgres:
    def __init__(self, state):
        self.state = state
        r = subprocess.run([os.path.join(REPO, "scripts", "pg-test"), "start", state],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SetupError("could not start PostgreSQL: " + r.stderr.strip())
        self.conninfo = open(os.path.join(state, "conninfo")).read().strip()
        self.pgdata = open(os.path.join(state, "pgdata")).read().strip()
        self.pgbin = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                            key=lambda p: [int(x) for x in p.split("/")[-2].split(".")])[-1]

    def stop(self):
        subprocess.run([os.path.join(REPO, "scripts", "pg-test"), "stop", self.state],
                       capture_output=True)

    def db(self, name):
        return "%s dbname=%s" % (self.conninfo.replace("dbname=credsync", ""), name)

    def sql(self, conninfo, q, timeout=30):
        """Rows of q as lists of strings; raises on failure."""
        r = subprocess.run(["psql", conninfo + " application_name=faults connect_timeout=5",
                            "-XAtq", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", q],
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.strip())
        return [line.split("\t") for line in r.stdout.splitlines()]

    def try_sql(self, conninfo, q, timeout=10):
        try:
            return self.sql(conninfo, q, timeout)
        except (RuntimeError, subprocess.TimeoutExpired):
            return None

    def restart(self, mode):
        cmd = [os.path.join(self.pgbin, "pg_ctl"), "-D", os.path.join(self.pgdata, "data"), "-m",
               mode, "-w", "-t", "60", "-l", os.path.join(self.pgdata, "server.log"), "restart"]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("pg_ctl restart -m %s: %s" % (mode, r.stderr.strip()))


# --- the Kafka mock cluster ------------------------------------------------------------------


class Broker:
    BROKERS = 3
    PARTITIONS = 3  # of every topic

    def __init__(self, binary, workdir, topics):
        self.log = open(os.path.join(workdir, "devbroker.log"), "ab")
        self.p = subprocess.Popen([binary, "--brokers", str(self.BROKERS), "--partitions",
                                   str(self.PARTITIONS), "--control",
                                   "--topics", ",".join(topics)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.log, text=True, bufsize=1)
        line = self.p.stdout.readline()
        if not line.startswith("bootstrap="):
            raise SetupError("credsync-devbroker did not start")
        self.bootstrap = line.strip().split("=", 1)[1]
        self.lock = threading.Lock()

    def control(self, command):
        with self.lock:
            self.p.stdin.write(command + "\n")
            self.p.stdin.flush()
            reply = self.p.stdout.readline().strip()
        if reply != "ok":
            raise RuntimeError("devbroker %r: %s" % (command, reply))

    def stop(self):
        self.p.terminate()
        self.p.wait()
        self.log.close()


# --- credsyncd -------------------------------------------------------------------------------


class Daemon:
    def __init__(self, binary, workdir, name, config):
        self.binary = binary
        self.cfg = os.path.join(workdir, name + ".conf")
        self.logpath = os.path.join(workdir, name + ".log")
        with open(self.cfg, "w") as f:
            f.write(config)
        self.p = None

    def log_size(self):
        try:
            return os.path.getsize(self.logpath)
        except OSError:
            return 0

    def log_since(self, offset):
        with open(self.logpath, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def start(self, timeout=60):
        before = self.log_size()
        with open(self.logpath, "ab") as out:
            self.p = subprocess.Popen([self.binary, "-c", self.cfg], stdout=out, stderr=out)
        deadline = now() + timeout
        while "msg=started" not in self.log_since(before):
            if self.p.poll() is not None:
                raise RuntimeError("credsyncd exited while starting, see " + self.logpath)
            if now() > deadline:
                raise RuntimeError("credsyncd did not start, see " + self.logpath)
            time.sleep(0.05)

    def send(self, sig):
        if self.p is not None and self.p.poll() is None:
            os.kill(self.p.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.p is None:
            return None
        self.send(sig)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.p.pid, signal.SIGKILL)
            rc = self.p.wait()
        self.p = None
        return rc


def daemon_config(bootstrap, conninfo, schemas, a):
    """The daemons' configuration; --daemon-conf's lines replace the ones of the same key."""
    def key(line):
        return line.split("=", 1)[0].strip()
    own = {key(line) for line in a.daemon_conf}
    lines = [line for line in base_config(bootstrap, conninfo, schemas, a).splitlines()
             if key(line) not in own]
    return "".join(line + "\n" for line in lines + a.daemon_conf)


def base_config(bootstrap, conninfo, schemas, a):
    return ("kafka.bootstrap.servers = %s\n"
            "kafka.session.timeout.ms = 6000\n"
            "kafka.topic.metadata.refresh.interval.ms = 1000\n"
            "kafka.request.timeout.ms = %d\n"
            "kafka.message.timeout.ms = %d\n"
            "pg.conninfo = %s\n"
            "pg.statement_timeout_ms = %d\n"
            "pg.connect_timeout_s = 5\n"
            "data.dir = %s\n"
            "log.level = info\n"
            "log.lag_interval_s = 1\n"
            "batch.max_events = %d\n"
            "batch.max_wait_ms = 50\n"
            "outbox.batch = %d\n"
            "retry.max_backoff_ms = 1000\n" %
            (bootstrap, a.kafka_timeout_ms, a.kafka_timeout_ms * 2, conninfo,
             a.statement_timeout_ms, schemas, a.batch, a.batch))


# --- the stream ------------------------------------------------------------------------------


def load_stream(d):
    """Phases of {topic: [lines]}: DIR/1, DIR/2, ... when there, else DIR itself as one."""
    dirs = sorted((p for p in glob.glob(os.path.join(d, "*")) if os.path.isdir(p)),
                  key=lambda p: os.path.basename(p)) or [d]
    phases = []
    for sub in dirs:
        phase = {}
        for f in sorted(glob.glob(os.path.join(sub, "*.tsv"))):
            with open(f, encoding="utf-8") as fp:
                phase[os.path.basename(f)[:-4]] = fp.readlines()
        if phase:
            phases.append(phase)
    return phases


class Producer(threading.Thread):
    """Produces the stream in chunks, each topic's lines in order (so both runs get the same
    offsets), with at most `backlog` messages not yet consumed (the mock keeps only about
    5 MiB a partition), phase n+1 once phase n is all consumed. gate(i, n): may chunk i of n
    go now (the faulted run spreads the stream over its faults)."""

    def __init__(self, run, phases, chunks, backlog, gate):
        super().__init__(daemon=True)
        self.run_ = run
        self.phases = phases
        self.chunks = chunks
        self.backlog = backlog
        self.gate = gate
        self.produced = 0
        self.done = False
        self.error = None

    def total(self):
        return sum(len(v) for ph in self.phases for v in ph.values())

    def produce(self, topic, lines):
        path = os.path.join(self.run_.workdir, "chunk-%s.tsv" % topic)
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(lines)
        return subprocess.Popen(
            ["kcat", "-P", "-b", self.run_.broker.bootstrap, "-t", topic, "-K", "\t", "-l",
             "-X", "enable.idempotence=true", "-X", "message.timeout.ms=0", "-X",
             "request.timeout.ms=60000", path],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def run(self):
        try:
            n = len(self.phases) * self.chunks
            k = 0
            for ph in self.phases:
                while self.run_.consumed() < self.produced:
                    time.sleep(0.2)
                for c in range(self.chunks):
                    while not self.gate(k, n) or \
                            self.produced - self.run_.consumed() > self.backlog:
                        time.sleep(0.2)
                    procs = []
                    for topic, lines in ph.items():
                        size = (len(lines) + self.chunks - 1) // self.chunks
                        part = lines[c * size:(c + 1) * size]
                        if part:
                            procs.append((self.produce(topic, part), len(part), topic))
                    for p, cnt, topic in procs:
                        _, err = p.communicate()
                        if p.returncode != 0:
                            raise RuntimeError("kcat -P %s: %s" % (topic, err.strip()))
                        self.produced += cnt
                    k += 1
        except Exception as e:  # reported by the main thread
            self.error = e
        self.done = True


class Tail:
    """Everything credsyncd writes to a site's out topic, read as it comes (the mock forgets
    old messages): lines "partition offset payload"."""

    def __init__(self, run, topic):
        self.path = os.path.join(run.workdir, "wire-%s.txt" % topic)
        self.out = open(self.path, "ab")
        self.args = ["kcat", "-C", "-b", run.broker.bootstrap, "-t", topic, "-o", "beginning",
                     "-u", "-q", "-f", "%p %o %s\\n", "-X", "topic.auto.offset.reset=earliest"]
        self.p = subprocess.Popen(self.args, stdout=self.out, stderr=subprocess.DEVNULL)

    def keep_alive(self):
        if self.p.poll() is not None:  # restarted from the beginning: read() dedups
            self.p = subprocess.Popen(self.args, stdout=self.out, stderr=subprocess.DEVNULL)

    def read(self):
        """{(partition, offset): id}"""
        self.out.flush()
        seen = {}
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.rstrip("\n").split(" ", 2)
                if len(parts) < 3:
                    continue
                try:
                    seen[(parts[0], parts[1])] = json.loads(parts[2]).get("id")
                except ValueError:
                    continue
        return seen

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            self.p.wait()
        self.out.close()


# --- one run ---------------------------------------------------------------------------------


# Messages consumed, out messages sent and not yet sent. credsync.outbox derives each row's
# sent_at (a call of sent_time() until migration 023, a probe of the marks since): counted
# through the view, this took 5 s and more once the run held 180,000 obligations on a slow
# machine, longer than the sample's timeout, so the progress stood still while the daemon
# worked and kills read "never recovered". The same counts from the tables, with no lookup a
# row: a row is sent when the publish cursor's marks reach its seq or it carries a sent_at of
# its own (resends, which this harness never queues, aside).
PROGRESS_SQL = ("WITH m AS (SELECT coalesce(max(low), 0) AS low FROM credsync.sent_marks), "
                "r AS (SELECT seq <= m.low OR sent_at IS NOT NULL AS sent "
                "FROM credsync.obligation_rows, m WHERE seq IS NOT NULL UNION ALL "
                "SELECT seq <= m.low OR sent_at IS NOT NULL FROM credsync.outbox_rows, m) "
                "SELECT (SELECT count(*) FROM credsync.inbound), count(*) FILTER (WHERE sent), "
                "count(*) FILTER (WHERE NOT sent) FROM r")


class Run:
    def __init__(self, name, a, pg, phases, topics):
        self.name = name
        self.a = a
        self.pg = pg
        self.workdir = os.path.join(a.work, name)
        os.makedirs(self.workdir, exist_ok=True)
        self.dbname = "faults_" + name
        pg.sql(pg.conninfo, "DROP DATABASE IF EXISTS %s" % self.dbname)
        pg.sql(pg.conninfo, "CREATE DATABASE %s" % self.dbname)
        self.conninfo = pg.db(self.dbname)
        self.broker = Broker(os.path.join(a.bin, "credsync-devbroker"), self.workdir, topics)
        cfg = daemon_config(self.broker.bootstrap, self.conninfo, a.schemas, a)
        self.daemon = Daemon(os.path.join(a.bin, "credsyncd"), self.workdir, "credsyncd", cfg)
        self.zombie = Daemon(os.path.join(a.bin, "credsyncd"), self.workdir, "zombie", cfg)
        self.phases = phases
        self.tails = [Tail(self, "credit.out.creditchina"), Tail(self, "credit.out.gsxt")]
        self.progress = (0, 0, 0)  # inbound, sent, unsent: the monitor's last sample
        self.last_change = now()
        self.longest_stall = (0.0, "")
        self.activity = "start"  # what the fault schedule is doing, for the stall report
        self.stop_monitor = False
        self.sample_failing = False
        self.producer = None

    def consumed(self):
        return self.progress[0]

    def sample(self):
        try:
            rows = self.pg.sql(self.conninfo, PROGRESS_SQL, timeout=5)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            # said once a streak: progress that cannot be read looks like a stall
            if not self.sample_failing:
                log("could not read the progress: %s" % str(e).strip().splitlines()[-1])
            self.sample_failing = True
            return None
        self.sample_failing = False
        return tuple(int(x) for x in rows[0]) if rows else None

    def monitor(self):
        stall_activity = None
        while not self.stop_monitor:
            s = self.sample()
            t = now()
            if s is not None:
                moved = s[0] > self.progress[0] or s[1] > self.progress[1]
                pending = (self.producer is not None and self.producer.produced > s[0]) or s[2] > 0
                if moved or not pending:
                    self.last_change = t
                    stall_activity = None
                else:
                    stall_activity = stall_activity or self.activity
                    if t - self.last_change > self.longest_stall[0]:
                        self.longest_stall = (t - self.last_change, stall_activity)
                self.progress = s
            for tail in self.tails:
                tail.keep_alive()
            time.sleep(0.2)

    def start(self, gate):
        self.daemon.start()
        self.producer = Producer(self, self.phases, self.a.chunks, self.a.backlog, gate)
        self.mon = threading.Thread(target=self.monitor, daemon=True)
        self.mon.start()
        self.producer.start()

    def wait_done(self, timeout):
        """Until the stream is all consumed and the outbox empty, and both out topics carry
        every obligation (or timeout)."""
        deadline = now() + timeout
        total = self.producer.total()
        while now() < deadline:
            if self.producer.error is not None:
                raise RuntimeError(str(self.producer.error))
            if self.producer.done and self.progress[0] >= total and self.progress[2] == 0:
                break
            time.sleep(0.5)
        else:
            raise RuntimeError("%s: not done in time: consumed %d of %d, unsent %d" %
                               (self.name, self.progress[0], total, self.progress[2]))
        want = int(self.pg.sql(self.conninfo, "SELECT count(*) FROM credsync.obligations")[0][0])
        last, quiet = -1, now()
        while now() < deadline:
            ids = set()
            for tail in self.tails:
                ids.update(tail.read().values())
            if len(ids) != last:
                last, quiet = len(ids), now()
            if len(ids) >= want and now() - quiet > 2:
                break
            if now() - quiet > 30:
                break
            time.sleep(0.5)

    def finish(self):
        self.stop_monitor = True
        self.mon.join()
        self.daemon.stop()
        self.zombie.stop()
        for tail in self.tails:
            tail.stop()
        self.broker.stop()

    def facts(self):
        q = self.pg.sql
        c = self.conninfo
        f = {}
        f["inbound"] = {(r[0], r[1], r[2]): (r[3], r[4]) for r in q(
            c, 'SELECT topic, partition, "offset", coalesce(event_id::text, \'\'), outcome '
               "FROM credsync.inbound", timeout=120)}
        f["records"] = {tuple(r[:4]): tuple(r[4:]) for r in q(
            c, "SELECT uscc, kind, list, decision_no, status, coalesce(end_reason, ''),"
               " coalesce(disclose_until::text, ''), coalesce(repairable_from::text, '')"
               " FROM credsync.records", timeout=120)}
        f["obligations"] = {r[0]: tuple(r[1:]) for r in q(
            c, "SELECT id, site, type, coalesce(reason, ''), uscc, kind, list, decision_no,"
               " sent_at IS NOT NULL FROM credsync.obligations", timeout=120)}
        f["outbox"] = set(r[0] for r in q(c, "SELECT id FROM credsync.outbox", timeout=120))
        wire = {}
        for tail in self.tails:
            for (p, o), i in tail.read().items():
                wire[(tail.path, p, o)] = i
        f["wire"] = wire
        return f


# --- the faults ------------------------------------------------------------------------------


class Faults:
    def __init__(self, run, a, rng):
        self.run = run
        self.a = a
        self.rng = rng
        self.kills = []  # (how, recovery seconds or None)
        self.notes = []  # (fault, result)
        self.done_steps = 0
        self.steps = 0
        self.bonus = 0  # chunks released early by pend()

    def backends(self):
        rows = self.run.pg.try_sql(
            self.run.pg.conninfo,
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'credsyncd' AND "
            "datname = '%s' AND backend_type = 'client backend'" % self.run.dbname) or []
        return [int(r[0]) for r in rows]

    def wait_progress(self, amount, timeout):
        """Until the stream moved by amount (or nothing is pending, or timeout)."""
        start = self.run.progress
        deadline = now() + timeout
        while now() < deadline:
            p = self.run.progress
            if p[0] + p[1] >= start[0] + start[1] + amount:
                return True
            if not (self.run.producer.produced > p[0] or p[2] > 0):
                return False
            time.sleep(0.1)
        return False

    def recovery(self, t0, before, timeout=120, inbound=False):
        """Seconds from t0 until progress beyond before (inbound: a message consumed; else
        that or an out message sent), None if nothing was pending, inf if never."""
        deadline = now() + timeout
        fired = self.a.on_stall is None
        while now() < deadline:
            p = self.run.progress
            if p[0] > before[0] or (not inbound and p[1] > before[1]):
                return now() - t0
            if not fired and now() - t0 > self.a.stall_s:
                fired = True
                self.on_stall()
            if not (self.run.producer.produced > p[0] or (not inbound and p[2] > 0)):
                # nothing to do: progress needs the next chunk, which this step holds back
                return None
            time.sleep(0.05)
        return float("inf")

    def on_stall(self):
        """Runs --on-stall ({pid}: the daemon's, {log}: its log) into the working directory."""
        d = self.run.daemon
        if d.p is None or d.p.poll() is not None:
            return
        out = os.path.join(self.run.workdir, "stall-%d.txt" % self.done_steps)
        p = self.run.progress
        log("no progress for %ds during %s (consumed %d of %d, sent %d, unsent %d): running "
            "--on-stall into %s" % (self.a.stall_s, self.run.activity, p[0],
                                    self.run.producer.produced, p[1], p[2], out))
        with open(out, "w") as f:
            subprocess.run(self.a.on_stall.format(pid=d.p.pid, log=d.logpath), shell=True,
                           stdout=f, stderr=subprocess.STDOUT, timeout=300)

    def kill(self, i):
        d = self.run.daemon
        how = "random"
        if i % 2 == 1:
            # inside the apply-and-commit window: a transaction of the daemon is open
            how = "in-transaction"
            deadline = now() + 10
            while now() < deadline:
                rows = self.run.pg.try_sql(
                    self.run.pg.conninfo,
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                    "'credsyncd' AND datname = '%s' AND xact_start IS NOT NULL AND state IN "
                    "('active', 'idle in transaction')" % self.run.dbname, timeout=5)
                if rows and int(rows[0][0]) > 0:
                    time.sleep(self.rng.uniform(0, 0.02))
                    break
            else:
                how = "in-transaction(missed)"
        else:
            time.sleep(self.rng.uniform(0.1, 2.5))
        t0 = now()
        d.stop(signal.SIGKILL)
        before = self.fresh()  # the dead daemon does no more; its open transaction is gone
        d.start()
        r = self.recovery(t0, before)
        ri = self.recovery(t0, before, inbound=True)
        self.kills.append((how, r, ri))

    def pg_restart(self, mode):
        before = self.fresh()
        t0 = now()
        self.run.pg.restart(mode)
        r = self.recovery(t0, before)
        self.notes.append(("postgres restart -m " + mode, "recovered %s" % fmt_s(r)))

    def backend_terminate(self):
        pids = self.backends()
        before, t0 = self.fresh(), now()
        self.run.pg.sql(self.run.pg.conninfo,
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                        "application_name = 'credsyncd' AND datname = '%s'" % self.run.dbname)
        r = self.recovery(t0, before)
        self.notes.append(("pg_terminate_backend x%d" % len(pids), "recovered %s" % fmt_s(r)))

    def backend_kill9(self):
        pids = self.backends()
        if not pids:
            self.notes.append(("backend kill -9", "no backend found"))
            return
        before, t0 = self.fresh(), now()
        os.kill(self.rng.choice(pids), signal.SIGKILL)
        r = self.recovery(t0, before)
        self.notes.append(("backend kill -9 (postmaster resets all)",
                           "recovered %s" % fmt_s(r)))

    def fresh(self):
        """Progress now, from the database (the monitor's last sample may be 0.2 s old, and a
        stale baseline would count work done before a fault as recovery after it)."""
        return self.run.sample() or self.run.progress

    def pend(self):
        """Stops the daemon (SIGSTOP) until the stream's next chunk is in Kafka, so that the
        fault set up next finds work pending: otherwise the daemon has consumed and published
        everything before the fault is in place, and its recovery reads "nothing pending".
        resume() lets it go. A few seconds at most, within the group's session timeout."""
        self.run.daemon.send(signal.SIGSTOP)
        start = self.run.producer.produced
        self.bonus += 1
        deadline = now() + 4
        while now() < deadline and self.run.producer.produced == start:
            time.sleep(0.05)

    def resume(self):
        self.run.daemon.send(signal.SIGCONT)

    def freeze(self):
        # the daemon connects again only when it needs to: wait until it has
        deadline = now() + 20
        pids = self.backends()
        while not pids and now() < deadline:
            time.sleep(0.1)
            pids = self.backends()
        off = self.run.daemon.log_size()
        self.pend()
        before, t0 = self.fresh(), now()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        self.resume()
        try:
            time.sleep(self.a.freeze_s)
        finally:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
        text = self.run.daemon.log_since(off)
        noticed = "did not answer within" in text and "retrying" in text
        r = self.recovery(t0, before)
        self.notes.append(("frozen connection %ds (SIGSTOP x%d)" % (self.a.freeze_s, len(pids)),
                           "%s, recovered %s" % ("noticed by its timeout" if noticed
                                                 else "NOT NOTICED", fmt_s(r))))
        if not noticed:
            self.run.failures.append("the frozen connection was not noticed by its timeout")

    def brokers_down(self):
        self.pend()
        before = self.fresh()
        self.run.broker.control("down all")
        self.resume()
        time.sleep(self.a.down_s)
        self.run.broker.control("up all")
        t1 = now()
        r = self.recovery(t1, before)
        self.notes.append(("all brokers down %ds" % self.a.down_s,
                           "recovered %s after up" % fmt_s(r)))

    def leaders(self):
        self.pend()
        moved = 0
        for topic in ("credit.in.nm-samr", "credit.in.nm-tax", "credit.out.creditchina",
                      "credit.out.gsxt", "credit.ack.gsxt"):
            for p in range(Broker.PARTITIONS):
                self.run.broker.control("leader %s %d %d" %
                                        (topic, p, (p + 1) % Broker.BROKERS + 1))
                moved += 1
        before, t0 = self.fresh(), now()
        self.resume()
        r = self.recovery(t0, before)
        self.notes.append(("partition leaders moved x%d" % moved, "progress %s" % fmt_s(r)))

    def lost_acks(self):
        off = self.run.daemon.log_size()
        rtt = self.a.kafka_timeout_ms * 2 + 1000
        # The out topics led by broker 1 alone, whose responses are then slowed past the
        # request timeout: the chunk released meanwhile is read from the other brokers, and
        # its out messages wait for acknowledgements that come too late. (All brokers slowed,
        # nothing would be read, so nothing sent.)
        for topic in ("credit.out.creditchina", "credit.out.gsxt"):
            for p in range(Broker.PARTITIONS):
                self.run.broker.control("leader %s %d 1" % (topic, p))
        self.pend()
        self.run.broker.control("rtt 1 %d" % rtt)
        self.resume()
        time.sleep(self.a.rtt_s)
        self.run.broker.control("rtt 1 0")
        before, t0 = self.fresh(), now()
        r = self.recovery(t0, before)
        text = self.run.daemon.log_since(off)
        self.notes.append(("broker 1 (the out topics' leader) rtt %d ms > request.timeout.ms "
                           "%d for %ds" % (rtt, self.a.kafka_timeout_ms, self.a.rtt_s),
                           "%d delivery failures logged, recovered %s" %
                           (text.count("delivery failed"), fmt_s(r))))

    def in_transaction(self, pids, timeout):
        """Waits until one of pids (backends) has a transaction open; whether it did."""
        if not pids:
            return False
        deadline = now() + timeout
        while now() < deadline:
            rows = self.run.pg.try_sql(
                self.run.pg.conninfo,
                "SELECT count(*) FROM pg_stat_activity WHERE pid IN (%s) AND xact_start IS "
                "NOT NULL AND state IN ('active', 'idle in transaction')" %
                ",".join(map(str, pids)), timeout=5)
            if rows and int(rows[0][0]) > 0:
                return True
        return False

    def zombie(self):
        z = self.run.zombie
        off = z.log_size()
        first = set(self.backends())
        z.start()
        deadline = now() + 30
        while "partition assigned" not in z.log_since(off) and now() < deadline:
            time.sleep(0.1)
        self.wait_progress(20, 10)
        # paused inside a batch when it can be: on resuming, it goes on to commit
        mid = self.in_transaction(sorted(set(self.backends()) - first), 10)
        z.send(signal.SIGSTOP)
        time.sleep(self.a.zombie_s)
        z.send(signal.SIGCONT)
        self.wait_progress(50, 15)
        time.sleep(3)
        text = z.log_since(off)
        fenced = text.count("batch fenced")
        revoked = text.count("partition revoked")
        z.stop()
        self.notes.append(("zombie: second instance SIGSTOP %ds%s" %
                           (self.a.zombie_s, " mid-batch" if mid else ""),
                           "%d fenced batches, %d partitions revoked" % (fenced, revoked)))

    def schedule(self):
        others = [("pg_restart", "fast"), ("backend_terminate",), ("zombie",),
                  ("pg_restart", "immediate"), ("backend_kill9",), ("freeze",), ("lost_acks",),
                  ("leaders",), ("brokers_down",)]
        plan = []
        k = self.a.kills
        per = k // (len(others) + 1)
        extra = k - per * (len(others) + 1)
        ki = 0
        for i in range(len(others) + 1):
            n = per + (1 if i < extra else 0)
            for _ in range(n):
                plan.append(("kill", ki))
                ki += 1
            if i < len(others):
                plan.append(others[i])
        return plan

    def gate(self, k, n):
        # the stream's chunks spread over the schedule: work is pending at every fault
        return self.steps == 0 or k < n * (self.done_steps + 1) / self.steps + self.bonus

    def run_all(self):
        plan = self.schedule()
        self.steps = len(plan)
        for step in plan:
            self.run.activity = step[0]
            log("fault %d/%d: %s" % (self.done_steps + 1, self.steps, " ".join(map(str, step))))
            getattr(self, step[0])(*step[1:])
            self.run.activity = "between faults"
            self.done_steps += 1
            self.wait_progress(self.a.between, 20)
        self.run.activity = "after the faults"


def fmt_s(v):
    if v is None:
        return "n/a (nothing pending)"
    if v == float("inf"):
        return "NEVER"
    return "%.1fs" % v


def report(a, total, ref_s, run_s, cmp, faults, run):
    """Prints the table; returns the failures."""
    rec = [r for _, r, _ in faults.kills if r is not None and r != float("inf")]
    reci = [r for _, _, r in faults.kills if r is not None and r != float("inf")]
    lines = [("events", total), ("reference run", "%.0fs" % ref_s),
             ("faulted run", "%.0fs" % run_s)]
    lines += list(cmp.items())
    lines.append(("SIGKILLs of credsyncd", len(faults.kills)))
    lines.append(("  in the apply-and-commit window",
                  sum(1 for h, _, _ in faults.kills if h == "in-transaction")))
    lines.append(("  recovery kill -> next progress: min/median/max",
                  "%.1fs / %.1fs / %.1fs" % (min(rec), sorted(rec)[len(rec) // 2], max(rec))
                  if rec else "n/a"))
    lines.append(("  recovery kill -> next message consumed: min/median/max",
                  "%.1fs / %.1fs / %.1fs" % (min(reci), sorted(reci)[len(reci) // 2],
                                             max(reci)) if reci else "n/a"))
    lines.append(("  kills with nothing pending", sum(1 for _, r, _ in faults.kills if r is None)))
    lines.append(("  kills never recovered",
                  sum(1 for _, r, _ in faults.kills if r == float("inf"))))
    for what, res in faults.notes:
        lines.append((what, res))
    lines.append(("longest stall", "%.1fs (during %s)" % run.longest_stall))
    width = max(len(str(k)) for k, _ in lines)
    print("%-*s  %s" % (width, "fault run (seed %d)" % a.seed, "result"))
    print("-" * (width + 30))
    for k, v in lines:
        print("%-*s  %s" % (width, k, v))
    for i, (how, r, ri) in enumerate(faults.kills):
        print("  kill %2d  %-22s next progress %-8s next consumed %s" %
              (i + 1, how, fmt_s(r), fmt_s(ri)))
    bad = (cmp["events lost (inbound rows missing)"] + cmp["events with another outcome"] +
           cmp["extra inbound rows"] + cmp["records differing"] +
           cmp["effects doubled (extra applied, obligations, outbox rows)"] +
           cmp["obligations lost (missing, unsent, not on the wire)"])
    failures = run.failures + (["lost/doubled/differing: %d" % bad] if bad else [])
    failures += ["a kill never recovered"] if any(
        r == float("inf") or ri == float("inf") for _, r, ri in faults.kills) else []
    for f in failures:
        print("FAIL: " + f)
    return failures


# --- main ------------------------------------------------------------------------------------


def authority_topics(schemas):
    topics = []
    with open(os.path.join(schemas, "data", "authorities.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            code = line.split("\t")[0]
            topics += ["credit.in." + code, "credit.reject." + code]
    return topics


def compare(ref, got):
    out = {}
    out["events lost (inbound rows missing)"] = len(set(ref["inbound"]) - set(got["inbound"]))
    out["events with another outcome"] = sum(
        1 for k, v in ref["inbound"].items() if k in got["inbound"] and got["inbound"][k] != v)
    out["extra inbound rows"] = len(set(got["inbound"]) - set(ref["inbound"]))
    applied_twice = sum(1 for v in got["inbound"].values() if v[1] == "applied") - sum(
        1 for v in ref["inbound"].values() if v[1] == "applied")
    rec_diff = sum(1 for k in set(ref["records"]) | set(got["records"])
                   if ref["records"].get(k) != got["records"].get(k))
    extra_obl = len(set(got["obligations"]) - set(ref["obligations"]))
    extra_out = len(got["outbox"] - ref["outbox"])
    out["records differing"] = rec_diff
    out["effects doubled (extra applied, obligations, outbox rows)"] = \
        max(applied_twice, 0) + extra_obl + extra_out
    wire_ids = set(got["wire"].values())
    unsent = sum(1 for v in got["obligations"].values() if v[-1] != "t")
    missing = len(set(ref["obligations"]) - set(got["obligations"]))
    not_on_wire = len(set(got["obligations"]) - wire_ids)
    out["obligations lost (missing, unsent, not on the wire)"] = missing + unsent + not_on_wire
    out["obligations"] = len(got["obligations"])
    out["distinct out ids on the wire"] = len(wire_ids)
    out["duplicate out messages on the wire (same id)"] = len(got["wire"]) - len(wire_ids)
    out["reference: duplicate out messages"] = len(ref["wire"]) - len(set(ref["wire"].values()))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="directory of credsyncd, credsync-devbroker")
    ap.add_argument("--schemas", default=os.path.join(REPO, "schemas"))
    ap.add_argument("--events", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kills", type=int, default=25)
    ap.add_argument("--stream", help="a generated stream (DIR/<topic>.tsv or DIR/1/, DIR/2/)")
    ap.add_argument("--gen", help="generator command, {seed} {events} {out} replaced "
                    "(default: tests/fault/gen.py)")
    ap.add_argument("--short", action="store_true",
                    help="the ctest form: shorter pauses (events and kills as given)")
    ap.add_argument("--down-s", type=int, default=30)
    ap.add_argument("--freeze-s", type=int, default=8)
    ap.add_argument("--zombie-s", type=int, default=20)
    ap.add_argument("--rtt-s", type=int, default=15)
    ap.add_argument("--statement-timeout-ms", type=int, default=2000)
    ap.add_argument("--kafka-timeout-ms", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--chunks", type=int, default=40)
    ap.add_argument("--backlog", type=int, default=20000)
    ap.add_argument("--between", type=int, default=200,
                    help="progress (messages) to wait for between faults")
    ap.add_argument("--daemon-conf", action="append", default=[], metavar="'KEY = VALUE'",
                    help="a line of the daemons' configuration (repeatable), replacing the "
                    "harness's line of that key, e.g. 'log.level = debug'")
    ap.add_argument("--on-stall", metavar="CMD",
                    help="shell command run once when a fault's recovery has waited --stall-s "
                    "({pid} and {log}: the daemon's), its output kept in the working directory")
    ap.add_argument("--stall-s", type=int, default=45)
    ap.add_argument("--work", help="working directory (default: a new one under /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the working directory")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds for each run to finish")
    a = ap.parse_args()
    if a.short:
        a.down_s, a.freeze_s, a.zombie_s, a.rtt_s = min(a.down_s, 8), min(a.freeze_s, 5), \
            min(a.zombie_s, 14), min(a.rtt_s, 8)
        a.chunks = min(a.chunks, 20)
        a.between = min(a.between, 100)
    a.bin = os.path.abspath(a.bin)
    made_work = a.work is None
    a.work = a.work or tempfile.mkdtemp(prefix="credsync-faults.")
    os.makedirs(a.work, exist_ok=True)
    log("working in %s" % a.work)

    stream = a.stream
    if stream is None:
        stream = os.path.join(a.work, "stream")
        cmd = a.gen or (sys.executable + " " + os.path.join(HERE, "gen.py") +
                        " --seed {seed} --events {events} --out {out}")
        r = subprocess.run(cmd.format(seed=a.seed, events=a.events, out=stream), shell=True)
        if r.returncode != 0:
            log("the generator failed")
            return 2
    phases = load_stream(stream)
    total = sum(len(v) for ph in phases for v in ph.values())
    if total == 0:
        log("no events in %s" % stream)
        return 2
    topics = sorted(set(authority_topics(a.schemas)) |
                    set(t for ph in phases for t in ph))

    pg = Postgres(os.path.join(a.work, "pg"))
    rc = 2
    runs = []
    try:
        t0 = now()
        log("reference run: %d events, no faults" % total)
        ref = Run("reference", a, pg, phases, topics)
        runs.append(ref)
        ref.failures = []
        ref.start(lambda k, n: True)
        ref.wait_done(a.timeout)
        ref_facts = ref.facts()
        ref.finish()
        ref_s = now() - t0

        t0 = now()
        log("faulted run: %d events, %d kills and the other faults" % (total, a.kills))
        run = Run("faulted", a, pg, phases, topics)
        runs.append(run)
        run.failures = []
        faults = Faults(run, a, random.Random(a.seed))
        run.start(faults.gate)
        faults.run_all()
        run.wait_done(a.timeout)
        got = run.facts()
        run.finish()
        run_s = now() - t0

        cmp = compare(ref_facts, got)
        with open(os.path.join(a.work, "result.json"), "w") as f:
            json.dump({"compare": cmp, "kills": faults.kills, "notes": faults.notes,
                       "longest_stall": run.longest_stall}, f, indent=1, default=str)
        failures = report(a, total, ref_s, run_s, cmp, faults, run)
        rc = 1 if failures else 0
        print("PASS" if rc == 0 else "FAIL")
    except (SetupError, RuntimeError, subprocess.TimeoutExpired) as e:
        log("error: %s" % e)
        rc = 2
    finally:
        for r in runs:
            try:
                r.stop_monitor = True
                r.daemon.stop(signal.SIGKILL)
                r.zombie.stop(signal.SIGKILL)
                for t in r.tails:
                    if t.p.poll() is None:
                        t.p.kill()
                if r.broker.p.poll() is None:
                    r.broker.stop()
            except Exception:
                pass
        pg.stop()
        if made_work and not a.keep and rc == 0:
            shutil.rmtree(a.work, ignore_errors=True)
        else:
            log("kept %s" % a.work)
    return rc


if __name__ == "__main__":
    sys.exit(main())
