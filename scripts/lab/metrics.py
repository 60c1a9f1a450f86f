#!/usr/bin/env python3
"""Scrapes the lab's Synapse processes' Prometheus metrics (docs/lab.md, "Traffic and
measurement scripts"), and diffs two scrapes.

    metrics.py scrape TARGETS [--out snap.json]          # TARGETS: "name url" lines; - for stdin
    metrics.py diff BEFORE.json AFTER.json [--out d.json] [--markdown d.md] \\
        [--require NAME=SERVLET[,SERVLET…]]…

Per process, from what Synapse 1.159 exposes (names checked against a running 1.159.0):
- requests by servlet and method: synapse_http_server_requests_received_total
  {method, servlet}; responses by code: synapse_http_server_responses_total {code, method};
- RSS: process_resident_memory_bytes; CPU: process_cpu_seconds_total;
- caches: synapse_util_caches_cache_size (entries) and ..._cache_max_size per cache name;
  synapse_util_caches_cache_size_bytes only when caches.track_memory_usage is on (it
  needs pympler);
- jemalloc_stats_app_memory_bytes{type="allocated"} when Synapse runs with jemalloc
  preloaded (reported as null otherwise).

`diff` subtracts counters (requests, responses, CPU) and gives gauges (RSS, caches)
before, after and the change. `--require NAME=SERVLET` makes diff exit 1 unless process
NAME received at least one request of that servlet between the two scrapes: the routing
check. Every scrape has a timeout (--timeout, default 10 s).
"""

import argparse
import json
import sys
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def parse_targets(text):
    targets = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise SystemExit(f"target line {line!r}: expected 'name url'")
        targets.append((parts[0], parts[1]))
    if not targets:
        raise SystemExit("no targets")
    return targets


def summarise(text):
    """The figures of one process's exposition text."""
    out = {"requests": {}, "responses_by_code": {}, "rss_bytes": None, "cpu_seconds": None,
           "open_fds": None, "caches": {}, "cache_entries_total": 0,
           "cache_bytes_total": None, "jemalloc_allocated_bytes": None}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            name, labels, value = s.name, s.labels, s.value
            if name == "synapse_http_server_requests_received_total":
                key = f"{labels.get('servlet', '?')} {labels.get('method', '?')}"
                out["requests"][key] = out["requests"].get(key, 0) + value
            elif name == "synapse_http_server_responses_total":
                key = f"{labels.get('code', '?')} {labels.get('method', '?')}"
                out["responses_by_code"][key] = out["responses_by_code"].get(key, 0) + value
            elif name == "process_resident_memory_bytes":
                out["rss_bytes"] = value
            elif name == "process_cpu_seconds_total":
                out["cpu_seconds"] = value
            elif name == "process_open_fds":
                out["open_fds"] = value
            elif name == "synapse_util_caches_cache_size":
                out["caches"].setdefault(labels.get("name", "?"), {})["size"] = value
                out["cache_entries_total"] += value
            elif name == "synapse_util_caches_cache_max_size":
                out["caches"].setdefault(labels.get("name", "?"), {})["max_size"] = value
            elif name == "synapse_util_caches_cache_size_bytes":
                out["caches"].setdefault(labels.get("name", "?"), {})["bytes"] = value
                out["cache_bytes_total"] = (out["cache_bytes_total"] or 0) + value
            elif name == "jemalloc_stats_app_memory_bytes" and labels.get("type") == "allocated":
                out["jemalloc_allocated_bytes"] = value
    return out


def scrape(targets, timeout):
    snap = {"time": time.time(), "processes": {}}
    for name, url in targets:
        t = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                text = r.read().decode("utf-8")
            figures = summarise(text)
            figures["url"] = url
            figures["scrape_s"] = round(time.monotonic() - t, 3)
        except (OSError, ValueError) as e:
            figures = {"url": url, "error": str(e)}
        snap["processes"][name] = figures
    return snap


def sub(a, b):
    return None if a is None or b is None else b - a


def diff(before, after):
    out = {"seconds": round(after["time"] - before["time"], 3), "processes": {}}
    for name, b in after["processes"].items():
        a = before["processes"].get(name, {})
        if "error" in b or "error" in a or not a:
            out["processes"][name] = {"error": b.get("error") or a.get("error") or "not in BEFORE"}
            continue
        requests = {k: v - a["requests"].get(k, 0) for k, v in b["requests"].items()}
        codes = {k: v - a["responses_by_code"].get(k, 0) for k, v in b["responses_by_code"].items()}
        caches = {}
        for cname, c in b["caches"].items():
            grown = c.get("size", 0) - a["caches"].get(cname, {}).get("size", 0)
            if grown:
                caches[cname] = {"size": c.get("size"), "grown": grown, "max_size": c.get("max_size")}
        out["processes"][name] = {
            "requests": {k: v for k, v in sorted(requests.items()) if v},
            "requests_total": sum(requests.values()),
            "responses_by_code": {k: v for k, v in sorted(codes.items()) if v},
            "cpu_seconds": sub(a["cpu_seconds"], b["cpu_seconds"]),
            "rss_bytes": {"before": a["rss_bytes"], "after": b["rss_bytes"],
                          "change": sub(a["rss_bytes"], b["rss_bytes"])},
            "cache_entries": {"before": a["cache_entries_total"], "after": b["cache_entries_total"]},
            "cache_bytes": {"before": a["cache_bytes_total"], "after": b["cache_bytes_total"]},
            "jemalloc_allocated_bytes": {"before": a["jemalloc_allocated_bytes"],
                                         "after": b["jemalloc_allocated_bytes"]},
            "caches_grown": caches,
        }
    return out


def mib(v):
    return "–" if v is None else f"{v / 2**20:.1f}"


def markdown(d):
    lines = [f"Between the two scrapes ({d['seconds']} s):", "",
             "| process | requests | CPU s | RSS before MiB | RSS after MiB | cache entries "
             "| jemalloc allocated MiB |", "|---|---|---|---|---|---|---|"]
    for name, p in d["processes"].items():
        if "error" in p:
            lines.append(f"| {name} | error: {p['error']} | | | | | |")
            continue
        cpu = "–" if p["cpu_seconds"] is None else f"{p['cpu_seconds']:.2f}"
        lines.append(f"| {name} | {p['requests_total']:.0f} | {cpu} | {mib(p['rss_bytes']['before'])} "
                     f"| {mib(p['rss_bytes']['after'])} | {p['cache_entries']['after']:.0f} "
                     f"| {mib(p['jemalloc_allocated_bytes']['after'])} |")
    lines += ["", "| process | servlet method | requests |", "|---|---|---|"]
    for name, p in d["processes"].items():
        for k, v in p.get("requests", {}).items():
            lines.append(f"| {name} | {k} | {v:.0f} |")
    return "\n".join(lines) + "\n"


def check_required(d, required):
    """The --require NAME=SERVLET,… failures (empty: all received)."""
    missing = []
    for item in required:
        name, _, servlets = item.partition("=")
        got = d["processes"].get(name, {}).get("requests", {})
        for servlet in filter(None, servlets.split(",")):
            if not any(k.split(" ")[0] == servlet and v > 0 for k, v in got.items()):
                missing.append(f"{name} received no {servlet}")
    return missing


def write(obj, path):
    text = json.dumps(obj, indent=2, sort_keys=True) + "\n"
    if path in (None, "-"):
        sys.stdout.write(text)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sp = p.add_subparsers(dest="cmd", required=True)
    s = sp.add_parser("scrape")
    s.add_argument("targets", help='file of "name url" lines, - for stdin')
    s.add_argument("--out")
    s.add_argument("--timeout", type=float, default=10.0)
    d = sp.add_parser("diff")
    d.add_argument("before")
    d.add_argument("after")
    d.add_argument("--out")
    d.add_argument("--markdown")
    d.add_argument("--require", action="append", default=[], metavar="NAME=SERVLET[,SERVLET]")
    a = p.parse_args(argv)
    if a.cmd == "scrape":
        text = sys.stdin.read() if a.targets == "-" else open(a.targets, encoding="utf-8").read()
        snap = scrape(parse_targets(text), a.timeout)
        write(snap, a.out)
        errors = [n for n, v in snap["processes"].items() if "error" in v]
        for n in errors:
            print(f"metrics.py: {n}: {snap['processes'][n]['error']}", file=sys.stderr)
        return 1 if errors else 0
    with open(a.before, encoding="utf-8") as f:
        before = json.load(f)
    with open(a.after, encoding="utf-8") as f:
        after = json.load(f)
    result = diff(before, after)
    missing = check_required(result, a.require)
    result["required_missing"] = missing
    write(result, a.out)
    if a.markdown:
        with open(a.markdown, "w", encoding="utf-8") as f:
            f.write(markdown(result))
    for m in missing:
        print(f"metrics.py: {m}", file=sys.stderr)
    errors = [n for n, v in result["processes"].items() if "error" in v]
    return 1 if missing or errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
