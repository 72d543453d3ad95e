"""Summarises a benches/ab_rounds.sh directory as the markdown table of docs/performance.md
("quiet-machine rounds"): training images/s per round (median of the windows) for the OLD and
NEW binaries and PyTorch, their ratios, and the end-to-end fig2 slice (batch times, wall time,
and whether both binaries gave the same accuracies).

    python3 benches/ab_summary.py OUT
"""
import csv
import json
import os
import re
import sys


def main(d):
    def ips(name):
        try:
            with open(os.path.join(d, name)) as f:
                return json.load(f)["train"]["images_per_second"]
        except (OSError, ValueError, KeyError):
            return None

    def fmt(v):
        return f"{v:.0f}" if v else "-"

    def ratio(a, b):
        return f"{a / b:.2f}" if a and b else "-"

    rounds = sorted({int(m.group(1)) for n in os.listdir(d) if (m := re.search(r"-r(\d+)\.json$", n))})
    # Without OLD (benches/ab_rounds.sh measured only NEW and PyTorch) its columns are left out.
    has_old = any(n.startswith("old-") for n in os.listdir(d))
    columns = (["old", "new", "new / old"] if has_old else ["new"]) + ["PyTorch", "new / PyTorch"]
    print("| configuration | round | " + " | ".join(columns) + " |")
    print("|---|---|" + "---:|" * len(columns))
    for cfg, label in (("b4", "batch 4"), ("b128", "batch 128"), ("k32", "32 replicas x batch 4")):
        for r in rounds:
            new, old = ips(f"new-{cfg}-r{r}.json"), ips(f"old-{cfg}-r{r}.json")
            # 32 replicas are compared with PyTorch's batch 128 of the same round (the target).
            torch = ips(f"torch-{'b128' if cfg == 'k32' else cfg}-r{r}.json")
            cells = ([fmt(old), fmt(new), ratio(new, old)] if has_old else [fmt(new)]) + [fmt(torch), ratio(new, torch)]
            print(f"| {label} | {r} | " + " | ".join(cells) + " |")
    runs = {}
    for who in ("old", "new"):
        p = os.path.join(d, f"fig2-{who}", "fig2", "runs.csv")
        if not os.path.exists(p):
            continue
        with open(p) as f:
            rows = list(csv.DictReader(f))
        # wall_seconds is the whole replica batch's: one value per (group, batch).
        batches = {(r["group"], r["wall_seconds"]) for r in rows}
        with open(os.path.join(d, f"fig2-{who}.log")) as f:
            m = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", f.read())
        times = ", ".join(f"{g} {float(w):.0f} s" for g, w in sorted(batches))
        print(f"fig2 {who}: {len(rows)} runs, training {sum(float(w) for _, w in batches):.0f} s "
              f"({times}), wall {m.group(1) if m else '?'}")
        runs[who] = {(r["group"], r["repeat"]): (r["train_accuracy"], r["test_accuracy"], r["test_loss"]) for r in rows}
    if len(runs) == 2:
        same = runs["old"] == runs["new"]
        print(f"fig2 old vs new: {'identical' if same else 'DIFFERENT'} accuracies and test losses "
              f"({len(runs['new'])} runs)")


if __name__ == "__main__":
    main(sys.argv[1])
