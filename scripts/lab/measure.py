#!/usr/bin/env python3
"""Bytes per stored event and WAL per event, from two snapshots of Synapse's database
(docs/lab.md, "Traffic and measurement scripts").

    measure.py snapshot --db CONNINFO [--out snap.json]
    measure.py diff BEFORE.json AFTER.json [--out d.json] [--markdown d.md] [--events N]

A snapshot holds, for every table outside PostgreSQL's own schemas: its heap (main
fork with the free space and visibility maps: pg_table_size less TOAST), its TOAST (the
TOAST table and its index), its indexes (pg_indexes_size) and the total
(pg_total_relation_size); the database's size; the events table's row count; and the WAL
position (pg_current_wal_lsn(), or the last received/replayed one on a standby).

`diff` divides each table's growth by the events added between the two snapshots (the
events table's count, or --events N) and the WAL written (pg_wal_lsn_diff) likewise:
bytes per event per table (heap, indexes, TOAST) and WAL bytes per event. The WAL
figure is everything the cluster wrote in between (other databases, checkpoints' full
page images, autovacuum included): take the snapshots around the load and nothing else.
Every query runs under a statement timeout (--timeout, default 60 s).
"""

import argparse
import json
import sys
import time

import psycopg2

SIZES = """
SELECT n.nspname, c.relname,
       pg_table_size(c.oid) - COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0),
       COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0),
       pg_indexes_size(c.oid),
       pg_total_relation_size(c.oid),
       c.reltuples
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
"""

WAL = """
SELECT CASE WHEN pg_is_in_recovery()
            THEN COALESCE(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
            ELSE pg_current_wal_lsn() END::text,
       pg_is_in_recovery()
"""


def connect(conninfo, timeout):
    if "connect_timeout" not in conninfo:
        conninfo += " connect_timeout=10"
    conn = psycopg2.connect(conninfo)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SET statement_timeout = %s", (int(timeout * 1000),))
    return conn


def snapshot(conninfo, timeout):
    conn = connect(conninfo, timeout)
    try:
        with conn.cursor() as cur:
            t = time.monotonic()
            cur.execute(WAL)
            lsn, standby = cur.fetchone()
            cur.execute("SELECT current_database(), pg_database_size(current_database()), "
                        "current_setting('server_version'), current_setting('block_size')::int")
            db, db_bytes, version, block = cur.fetchone()
            cur.execute(SIZES)
            tables = {}
            for schema, name, heap, toast, indexes, total, tuples in cur.fetchall():
                key = name if schema == "public" else f"{schema}.{name}"
                tables[key] = {"heap": heap, "toast": toast, "indexes": indexes, "total": total,
                               "reltuples": tuples}
            events = None
            if "events" in tables:
                cur.execute("SELECT count(*) FROM events")
                events = cur.fetchone()[0]
            return {"time": time.time(), "database": db, "server_version": version,
                    "block_size": block, "standby": standby, "wal_lsn": lsn,
                    "database_bytes": db_bytes, "events": events, "tables": tables,
                    "snapshot_s": round(time.monotonic() - t, 3)}
    finally:
        conn.close()


# Tables whose rows Synapse deletes once it has handled them (a queue or a lock): their
# pages are reused, so what they grow by during a run is not what the database keeps.
# `diff` reports the tables' total with and without them ("kept").
# synapse/storage/databases/main/: event_federation.py (federation_inbound_events_staging:
# deleted once the event is persisted), event_push_actions.py (event_push_actions_staging:
# moved to event_push_actions when the event is persisted), lock.py (worker_locks,
# worker_read_write_locks, worker_read_write_locks_mode: deleted on release);
# synapse/storage/databases/state/deletion.py (state_groups_persisting: deleted when the
# event is persisted).
TRANSIENT = ("federation_inbound_events_staging", "event_push_actions_staging", "worker_locks",
             "worker_read_write_locks", "worker_read_write_locks_mode",
             "state_groups_persisting")


def lsn_bytes(lsn):
    """pg_lsn text 'X/Y' as a byte position (what pg_wal_lsn_diff subtracts)."""
    hi, lo = lsn.split("/")
    return (int(hi, 16) << 32) + int(lo, 16)


def diff(before, after, events=None):
    added = events if events is not None else (after["events"] or 0) - (before["events"] or 0)
    per = (lambda v: round(v / added, 1)) if added > 0 else (lambda v: None)
    rows = []
    for name, a in after["tables"].items():
        b = before["tables"].get(name, {"heap": 0, "toast": 0, "indexes": 0, "total": 0})
        grown = {k: a[k] - b[k] for k in ("heap", "toast", "indexes", "total")}
        if any(grown.values()):
            rows.append({"table": name, **{f"{k}_bytes": v for k, v in grown.items()},
                         **{f"{k}_per_event": per(v) for k, v in grown.items()}})
    rows.sort(key=lambda r: (-r["total_bytes"], r["table"]))
    wal = lsn_bytes(after["wal_lsn"]) - lsn_bytes(before["wal_lsn"])
    total = sum(r["total_bytes"] for r in rows)
    kept = sum(r["total_bytes"] for r in rows if r["table"] not in TRANSIENT)
    return {"events_added": added, "seconds": round(after["time"] - before["time"], 3),
            "server_version": after["server_version"], "database": after["database"],
            "wal_bytes": wal, "wal_per_event": per(wal),
            "database_bytes": after["database_bytes"] - before["database_bytes"],
            "tables_total_bytes": total, "tables_total_per_event": per(total),
            "tables_kept_bytes": kept, "tables_kept_per_event": per(kept),
            "tables": rows}


def markdown(d):
    def f(v):
        return "–" if v is None else f"{v:,.0f}"

    lines = [f"{d['events_added']} events added; WAL {f(d['wal_bytes'])} B = "
             f"{f(d['wal_per_event'])} B/event; tables {f(d['tables_total_bytes'])} B = "
             f"{f(d['tables_total_per_event'])} B/event, {f(d['tables_kept_per_event'])} B/event "
             f"without the queues and locks (PostgreSQL {d['server_version']}).", "",
             "| table | heap B/event | indexes B/event | TOAST B/event | total B/event | total B |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in d["tables"]:
        lines.append(f"| {r['table']} | {f(r['heap_per_event'])} | {f(r['indexes_per_event'])} "
                     f"| {f(r['toast_per_event'])} | {f(r['total_per_event'])} "
                     f"| {f(r['total_bytes'])} |")
    lines.append(f"| **all tables** | | | | **{f(d['tables_total_per_event'])}** "
                 f"| {f(d['tables_total_bytes'])} |")
    lines.append(f"| **kept** (without {', '.join(TRANSIENT)}) | | | "
                 f"| **{f(d['tables_kept_per_event'])}** | {f(d['tables_kept_bytes'])} |")
    lines.append(f"| **WAL** | | | | **{f(d['wal_per_event'])}** | {f(d['wal_bytes'])} |")
    return "\n".join(lines) + "\n"


def write(obj, path):
    text = json.dumps(obj, indent=2) + "\n"
    if path in (None, "-"):
        sys.stdout.write(text)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sp = p.add_subparsers(dest="cmd", required=True)
    s = sp.add_parser("snapshot")
    s.add_argument("--db", required=True, help="libpq conninfo of Synapse's database")
    s.add_argument("--out")
    s.add_argument("--timeout", type=float, default=60.0)
    d = sp.add_parser("diff")
    d.add_argument("before")
    d.add_argument("after")
    d.add_argument("--events", type=int, help="events added (default: the events table's growth)")
    d.add_argument("--out")
    d.add_argument("--markdown")
    a = p.parse_args(argv)
    if a.cmd == "snapshot":
        write(snapshot(a.db, a.timeout), a.out)
        return 0
    with open(a.before, encoding="utf-8") as f:
        before = json.load(f)
    with open(a.after, encoding="utf-8") as f:
        after = json.load(f)
    result = diff(before, after, a.events)
    write(result, a.out)
    if a.markdown:
        with open(a.markdown, "w", encoding="utf-8") as f:
            f.write(markdown(result))
    if result["events_added"] <= 0:
        print("measure.py: no events added between the snapshots", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
