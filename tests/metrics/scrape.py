#!/usr/bin/python3
"""scrape.py: reads credsyncd's metrics.textfile with Prometheus's own text parser
(python3-prometheus-client, as node_exporter's textfile collector would read it) and prints
each sample as "name{label=value,...} value", labels sorted, one a line.

    scrape.py FILE

Exits 1 when the parser refuses the file, when a family lacks # HELP or # TYPE, or when a
family credsyncd always writes is missing.
"""
import sys

from prometheus_client.parser import text_string_to_metric_families

ALWAYS = {
    "credsync_partition_lag", "credsync_batches", "credsync_batches_failed",
    "credsync_messages", "credsync_events", "credsync_obligations", "credsync_backlog_up",
    "credsync_last_event_timestamp_seconds",
}


def main():
    if len(sys.argv) != 2:
        print("usage: scrape.py FILE", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as fp:
        text = fp.read()
    try:
        families = list(text_string_to_metric_families(text))
    except ValueError as e:
        print(f"prometheus_client refuses {sys.argv[1]}: {e}")
        return 1
    names = set()
    bad = 0
    for fam in families:
        names.add(fam.name)
        if not fam.documentation or fam.type == "unknown":
            print(f"family {fam.name}: no # HELP or # TYPE")
            bad += 1
        for s in fam.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            print(f"{s.name}{{{labels}}} {s.value:g}")
    for name in sorted(ALWAYS - names):
        print(f"missing family {name}")
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
