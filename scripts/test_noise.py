#!/usr/bin/env python3
"""How much of the quick scale's paired SD is test-set sampling noise (issue #40, item 5).

Reads, for repeats r of two groups (default: control and the method's neurogenesis), each
checkpoint's logits on the whole CIFAR-10 test split (`xtask eval --dump-logits`, 10,000
images) and the quick scale's recorded test accuracy on its 2,000 images (runs.csv). Reports:

- each run's binomial SD at 2,000 images, sqrt(p(1 - p)/2000);
- the sampling SD of a *paired* difference at m images, sqrt((q - d^2)/m), where q is the
  fraction of test images on which exactly one of the two networks is right and d the
  difference of their accuracies (both on 10,000 images): the noise that 2,000 images add
  to each repeat's difference;
- the observed SD of the paired differences across repeats on 2,000 images (runs.csv) and on
  10,000 (the logits), and the share of the 2,000-image variance that sampling explains.

- an empirical check of the model: the difference on the quick scale's 2,000 images minus the
  difference on the other 8,000, across repeats, is pure test-sampling noise; its SD is
  compared with the prediction sqrt((q - d^2)(1/2000 + 1/8000)).

Usage: test_noise.py LOGITS_DIR RUNS_CSV SUBSET_DUMP [GROUP_A GROUP_B]
LOGITS_DIR holds <stem>.safetensors from `xtask eval --dump-logits` on the whole test split
(stems as in runs.csv's checkpoint column, e.g. neurogenesis-r03); SUBSET_DUMP is any dump made
with `--subset 2000`, whose `indices` are the quick scale's test images.
"""
import csv
import math
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file


def correct(path):
    t = load_file(str(path))
    return (t["logits"].argmax(axis=1) == t["labels"]).astype(np.float64)


def sd(xs):
    return float(np.std(xs, ddof=1))


def main():
    logits, runs = Path(sys.argv[1]), Path(sys.argv[2])
    subset = load_file(sys.argv[3])["indices"].astype(np.int64)
    a_name, b_name = (sys.argv[4], sys.argv[5]) if len(sys.argv) > 5 else ("Neurogenesis", "Control")
    rows = list(csv.DictReader(open(runs)))
    rec = {(r["group"], int(r["repeat"])): r for r in rows if r["status"] == "ok"}
    repeats = sorted(r for (g, r) in rec if g == a_name and (b_name, r) in rec)
    m = int(rec[(a_name, repeats[0])]["test_images"])
    print(f"groups: {a_name} - {b_name}; repeats {repeats}; quick test images m = {m}")
    print("| repeat | acc a (10k) | acc b (10k) | d (10k) | d (m, runs.csv) | disagreement q | sampling SD of d at m |")
    print("|---|---|---|---|---|---|---|")
    d_full, d_m, samp_var, binom, split_diff, split_var = [], [], [], [], [], []
    for r in repeats:
        stem = lambda g: Path(rec[(g, r)]["checkpoint"]).stem
        ca, cb = correct(logits / f"{stem(a_name)}.safetensors"), correct(logits / f"{stem(b_name)}.safetensors")
        n = len(ca)
        acc_a, acc_b = ca.mean(), cb.mean()
        d = acc_a - acc_b
        q = float(np.mean(ca != cb))
        v = (q - d * d) / m
        dm = (float(rec[(a_name, r)]["test_accuracy"]) - float(rec[(b_name, r)]["test_accuracy"])) / 100
        rest = np.setdiff1d(np.arange(n), subset)
        d_sub = ca[subset].mean() - cb[subset].mean()
        assert abs(d_sub - dm) < 1e-9, f"r{r}: the subset's difference {d_sub} is not runs.csv's {dm}"
        split_diff.append(d_sub - (ca[rest].mean() - cb[rest].mean()))
        split_var.append((q - d * d) * (1 / len(subset) + 1 / len(rest)))
        d_full.append(d)
        d_m.append(dm)
        samp_var.append(v)
        binom += [math.sqrt(p * (1 - p) / m) for p in (acc_a, acc_b)]
        print(f"| r{r} | {100*acc_a:.2f} | {100*acc_b:.2f} | {100*d:+.2f} | {100*dm:+.2f} | {q:.3f} | {100*math.sqrt(v):.2f} |")
    print()
    print(f"test images in the logits: {n}")
    print(f"binomial SD of one run's accuracy at m = {m}: {100*np.mean(binom):.2f} points (mean over runs)")
    s_samp = math.sqrt(np.mean(samp_var))
    print(f"sampling SD of a paired difference at m = {m}: {100*s_samp:.2f} points (root mean over repeats)")
    print(f"observed SD of the paired differences on m = {m} images (runs.csv): {100*sd(d_m):.2f} points, n = {len(d_m)}")
    print(f"observed SD of the paired differences on all {n} images: {100*sd(d_full):.2f} points")
    print(f"share of the m-image variance explained by test sampling: {np.mean(samp_var)/sd(d_m)**2:.0%}")
    print(f"mean difference: {100*np.mean(d_m):+.2f} (m images), {100*np.mean(d_full):+.2f} (all {n})")
    print(f"check: SD of (difference on the m images - difference on the other {n - len(subset)}) across repeats: "
          f"{100*sd(split_diff):.2f} points observed, {100*math.sqrt(np.mean(split_var)):.2f} predicted")


if __name__ == "__main__":
    main()
