#!/usr/bin/env python3
"""Which Synapse process served each request, against where the playbook routes it.

The lab's traffic drill (scripts/lab/traffic.sh). Reads:
  --routes FILE     "BLOCK TYPE REGEX" lines in the companion's order (companion_routes
                    in scripts/lab/synapse.sh: the playbook's locations, cited there);
  --processes FILE  "NAME type=TYPE [stream=STREAM] http=PORT federation=PORT …" lines
                    (examples/lab_render_synapse);
  --log NAME=PATH:OFFSET
                    each process's log and the byte offset where the traffic began.
For every request line of Synapse's access log (synapse.access.http.PORT) after the
offset, the path's route is the first location that matches it, as nginx picks regex
locations (in order, on the decoded path), skipping the locations of worker types the
plan has none of (the template leaves them out) except stream writers, whose locations
then go to the main process (render_locations_to_upstream_or_main); no match goes to
the main process. The process that logged the request must be one of that route's.
Prints one line per (route, process) with its count, and every mismatch; exits 1 on a
mismatch, 2 on bad input.
"""

import argparse
import collections
import json
import re
import sys
import urllib.parse

ACCESS = re.compile(
    r"synapse\.access\.https?\.(\d+) .* Processed request: .* (\d{3}) "
    r'"([A-Z]+) (\S+) HTTP/[0-9.]+"'
)
# Requests that did not come through the router: the lab's own health checks.
DIRECT = ("/health",)


def read_processes(path):
    procs = {}
    for line in open(path):
        words = line.split()
        if not words:
            continue
        fields = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        procs[words[0]] = fields
    return procs


def read_routes(path, procs):
    kinds = collections.defaultdict(list)
    for name, f in procs.items():
        kind = f.get("type", "")
        kinds[kind].append(name)
        if f.get("stream"):
            kinds["stream_writer:" + f["stream"]].append(name)
    main = kinds.get("main", [])
    routes = []
    for line in open(path):
        parts = line.rstrip("\n").split(" ", 2)
        if len(parts) != 3:
            continue
        block, kind, regex = parts
        if kind == "main":
            targets = main
        elif kinds.get(kind):
            targets = kinds[kind]
        elif kind.startswith("stream_writer:"):
            targets = main
        else:
            continue  # no location for a worker type the plan has none of
        pcre = regex.replace("(?<", "(?P<")
        routes.append((block, kind, re.compile(pcre), targets))
    return routes, main


def route(routes, main, path):
    decoded = urllib.parse.unquote(path.split("?", 1)[0])
    block = "federation" if decoded.startswith(("/_matrix/federation", "/_matrix/key")) else "client"
    for b, kind, rx, targets in routes:
        if b == block and rx.search(decoded):
            return kind, targets
    return "main", main


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--routes", required=True)
    ap.add_argument("--processes", required=True)
    ap.add_argument("--log", action="append", default=[], help="NAME=PATH:OFFSET")
    ap.add_argument("--json", help="write the counts here")
    a = ap.parse_args()
    procs = read_processes(a.processes)
    routes, main_procs = read_routes(a.routes, procs)
    if not procs or not routes or not main_procs:
        print("routes.py: no processes, routes or main process", file=sys.stderr)
        return 2
    counts = collections.Counter()
    bad = []
    for spec in a.log:
        name, _, rest = spec.partition("=")
        path, _, offset = rest.rpartition(":")
        if name not in procs or not path or not offset.isdigit():
            print(f"routes.py: bad --log {spec!r}", file=sys.stderr)
            return 2
        with open(path, "rb") as f:
            f.seek(int(offset))
            for raw in f:
                m = ACCESS.search(raw.decode("utf-8", "replace"))
                if not m:
                    continue
                port, status, method, target = m.groups()
                listeners = {procs[name].get("http"), procs[name].get("federation")}
                if port not in listeners or target.startswith(DIRECT):
                    continue
                kind, targets = route(routes, main_procs, target)
                counts[(kind, name)] += 1
                if name not in targets:
                    bad.append(f"{method} {target} ({status}) served by {name}, routed to {kind}: {' '.join(targets)}")
    for (kind, name), n in sorted(counts.items()):
        print(f"routed {kind} -> {name}: {n}")
    for line in bad[:50]:
        print(f"MISROUTED {line}")
    if a.json:
        json.dump({"counts": [[k, p, n] for (k, p), n in sorted(counts.items())], "misrouted": bad},
                  open(a.json, "w"), indent=1)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
