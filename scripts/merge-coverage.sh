#!/usr/bin/env bash
# Merges the coverage of a sharded run: `merge-coverage.sh N DIR` reads
# DIR/conformance-staging-K/conformance.json for K in 1..N (the release
# gate's artifacts) and
#   - fails, naming it, when a shard's report is missing;
#   - prints one row per catalog code with the scenarios passed, failed and
#     skipped over all shards;
#   - fails when a code has no passing scenario, unless every one of its
#     scenarios was skipped: then the row says so with the reasons (a
#     deliberate skip, such as webhooks without a public receiver, is shown,
#     not hidden and not a failure).
# The table also goes to $GITHUB_STEP_SUMMARY when set.
set -euo pipefail
shards=${1:?usage: merge-coverage.sh SHARDS DIR}
dir=${2:?usage: merge-coverage.sh SHARDS DIR}
python3 - "$shards" "$dir" <<'PY'
import json, os, sys
shards, root = int(sys.argv[1]), sys.argv[2]
missing, reports = [], []
for k in range(1, shards + 1):
    path = os.path.join(root, f"conformance-staging-{k}", "conformance.json")
    try:
        with open(path) as f:
            reports.append(json.load(f))
    except (OSError, ValueError) as e:
        missing.append(f"shard {k}/{shards} ({path}: {e.__class__.__name__})")
if missing:
    print("missing shard reports: " + "; ".join(missing))
    sys.exit(1)
codes, reasons = {}, {}
for r in reports:
    for row in r["coverage"]:
        c = codes.setdefault(row["code"], {"scenarios": 0, "passed": 0, "failed": 0, "skipped": 0})
        for k in c:
            c[k] += row[k]
    for s in r["scenarios"]:
        if s["outcome"] == "skipped" and s.get("skip_reason"):
            reasons.setdefault(s["code"], set()).add(s["skip_reason"])
lines = ["| code | scenarios | passed | failed | skipped | status |", "|---|---:|---:|---:|---:|---|"]
bad = []
for code, c in codes.items():
    if c["passed"] > 0:
        status = "ok"
    elif c["scenarios"] > 0 and c["skipped"] == c["scenarios"]:
        status = "skipped: " + "; ".join(sorted(reasons.get(code, {"no reason"})))
    else:
        status = "NO PASSING SCENARIO"
        bad.append(code)
    lines.append(f"| {code} | {c['scenarios']} | {c['passed']} | {c['failed']} | {c['skipped']} | {status} |")
table = "\n".join(lines) + "\n"
print(table, end="")
summary = os.environ.get("GITHUB_STEP_SUMMARY")
if summary:
    with open(summary, "a") as f:
        f.write("## Coverage over all shards\n\n" + table)
if bad:
    print("codes with no passing scenario: " + ", ".join(bad))
    sys.exit(1)
print(f"every code covered over {shards} shards")
PY
