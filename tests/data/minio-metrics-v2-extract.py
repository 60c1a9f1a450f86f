#!/usr/bin/env python3
"""Every metric name MinIO's v2 Prometheus endpoints can export at a release.

Reads cmd/metrics-v2.go of a minio/minio git directory at a tag and prints one name a
line, sorted: `<Namespace>_<Subsystem>_<Name>` of every `MetricDescription{...}` literal,
with the typed `MetricNamespace`, `MetricSubsystem` and `MetricName` constants of that
file resolved. The v2 collectors name each metric
prometheus.BuildFQName(Namespace, Subsystem, Name), which joins the non-empty parts
with `_`. A field given as a string literal is taken as written. Descriptions with a
field that is neither (a variable, an untyped constant) are left out: at
RELEASE.2025-09-07T16-13-09Z some bucket, replication and lock metrics; every cluster
health, drive, node and capacity metric is complete.

Usage: python3 minio-metrics-v2-extract.py <minio git dir> <tag>
Written for this project (tests/validate_monitoring.rs reads its output).
"""

import re
import subprocess
import sys


def main() -> None:
    git_dir, tag = sys.argv[1], sys.argv[2]
    src = subprocess.run(
        ["git", "--git-dir", git_dir, "show", f"{tag}:cmd/metrics-v2.go"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    consts = {}
    for kind in ("MetricNamespace", "MetricSubsystem", "MetricName"):
        for name, value in re.findall(
            r"^\s*(\w+)\s+" + kind + r'\s*=\s*"([^"]*)"', src, re.M
        ):
            consts[name] = value
    names = set()
    for body in re.findall(r"MetricDescription\{(.*?)\n\s*\}", src, re.S):
        fields = {}
        for key, value in re.findall(r"(Namespace|Subsystem|Name):\s*([^,\n]+)", body):
            value = value.strip()
            if value.startswith('"') and value.endswith('"'):
                fields[key] = value[1:-1]
            elif value in consts:
                fields[key] = consts[value]
        if all(k in fields for k in ("Namespace", "Subsystem", "Name")):
            parts = [fields["Namespace"], fields["Subsystem"], fields["Name"]]
            names.add("_".join(p for p in parts if p))
    for n in sorted(names):
        print(n)


if __name__ == "__main__":
    main()
