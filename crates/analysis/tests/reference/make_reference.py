# Reference values for neurogen-analysis tests (scipy 1.17.1, statsmodels 0.15.0).
# Run: python3 make_reference.py ; values are pasted into tests/stats_reference.rs.
import numpy as np, pandas as pd
from scipy import stats
from statsmodels.stats.anova import AnovaRM
np.set_printoptions(precision=17, legacy="1.25")  # plain scalar reprs under numpy 2
A = [5.1, 4.9, 6.2, 5.8, 6.0, 5.5, 5.3, 6.1]
B = [6.8, 7.1, 6.5, 7.4, 6.9, 7.7, 6.6]
C = [5.9, 6.3, 6.0, 6.6, 5.7, 6.4, 6.2, 6.1, 5.8]
r = stats.ttest_ind(A, B, equal_var=False); print("welch", repr(r.statistic), repr(r.pvalue), repr(r.df))
r = stats.ttest_ind(A, B, equal_var=True); print("student", repr(r.statistic), repr(r.pvalue), repr(r.df))
r = stats.f_oneway(A, B, C); print("anova", repr(r.statistic), repr(r.pvalue))
t = stats.tukey_hsd(A, B, C); ci = t.confidence_interval(0.95)
for i, j in [(0, 1), (0, 2), (1, 2)]:
    print("tukey", i, j, repr(t.statistic[i, j]), repr(t.pvalue[i, j]), repr(ci.low[i, j]), repr(ci.high[i, j]))
for q, k, df in [(3.5, 3, 20), (2.0, 2, 5), (4.0, 5, 10), (1.0, 4, 60), (5.5, 10, 30), (3.0, 3, 200), (3.3, 4, 1000), (0.5, 2, 2), (6.0, 20, 12), (3.6, 3, 30000), (3.6, 3, 3e6), (2.9, 6, 12000)]:
    print("ptukey", q, k, df, repr(stats.studentized_range.cdf(q, k, df)))
for p, k, df in [(0.95, 3, 21), (0.95, 5, 10), (0.99, 4, 60)]:
    print("qtukey", p, k, df, repr(stats.studentized_range.ppf(p, k, df)))
a = np.array(A); m = a.mean(); sd = a.std(ddof=1); sem = stats.sem(a)
print("summary", repr(m), repr(sd), repr(sem), stats.t.interval(0.95, len(a) - 1, loc=m, scale=sem))
print("zscore", list(stats.zscore(a, ddof=1)))
x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
y = [2.1, 1.9, 3.5, 3.5, 4.8, 4.1, 7.2, 6.0]
r = stats.pearsonr(x, y); print("pearson", repr(r.statistic), repr(r.pvalue))
r = stats.spearmanr(x, y); print("spearman", repr(r.statistic), repr(r.pvalue))
pts = [4.5, 5.0, 5.5, 6.0, 6.5]
for bw in ["scott", "silverman"]:
    k = stats.gaussian_kde(A, bw_method=bw)
    print("kde", bw, repr(k.factor * a.std(ddof=1)), list(k(pts)))
# two-way repeated measures: subjects x A(2: trained with/without neurogenesis) x B(2: tested with/without new units)
data = np.array([
    [[0.71, 0.69], [0.74, 0.70]],
    [[0.68, 0.66], [0.73, 0.67]],
    [[0.70, 0.70], [0.75, 0.71]],
    [[0.72, 0.68], [0.77, 0.72]],
    [[0.69, 0.67], [0.72, 0.69]],
])
def rm(data):
    rows = [(s, i, j, data[s, i, j]) for s in range(data.shape[0]) for i in range(data.shape[1]) for j in range(data.shape[2])]
    df = pd.DataFrame(rows, columns=["s", "a", "b", "y"])
    t = AnovaRM(df, "y", "s", within=["a", "b"]).fit().anova_table
    for name, row in t.iterrows():
        print("rm", name, repr(row["F Value"]), row["Num DF"], row["Den DF"], repr(row["Pr > F"]))
rm(data)
data3 = np.array([
    [[1.0, 2.0], [2.5, 3.1], [3.2, 4.8]],
    [[1.4, 2.2], [2.1, 3.5], [3.9, 4.1]],
    [[0.9, 1.7], [2.8, 2.9], [3.1, 5.0]],
    [[1.2, 2.6], [2.2, 3.3], [3.6, 4.4]],
])
rm(data3)
# --- paired comparisons (tests/stats_reference.rs, `paired_*`, `wilcoxon_*`, `holm_*`) ---
# scipy.stats.wilcoxon defaults (zero_method="wilcox", correction=False, alternative="two-sided",
# method="auto"). In scipy 1.17.1 "auto" picks: len(d) > 50 -> normal approximation; otherwise
# no ties and no zeros -> exact null distribution; ties or zeros with len(d) <= 13 -> exact
# sign-flip permutation test (PermutationMethod, 2**n <= 9999 resamples); else normal approximation.
from scipy.stats import PermutationMethod
from statsmodels.stats.multitest import multipletests
PAIRED = {
    # exact, positive effect, no ties
    "e1": ([91.2, 90.5, 92.1, 89.9, 91.7, 90.8, 91.5, 90.3, 91.9, 91.0],
           [90.1, 90.7, 90.8, 89.4, 90.8, 90.9, 89.9, 89.5, 91.3, 90.3]),
    # exact, negative effect, no ties
    "e2": ([0.62, 0.58, 0.65, 0.60, 0.57, 0.63, 0.59],
           [0.67, 0.61, 0.64, 0.67, 0.61, 0.65, 0.65]),
    # ties, no zeros, n = 12 -> permutation
    "t1": ([12, 15, 11, 14, 13, 16, 12, 15, 14, 13, 17, 12],
           [10, 12, 12, 12, 12, 13, 14, 11, 13, 11, 14, 13]),
    # zeros and ties, n = 9 -> permutation
    "z1": ([3.5, 4.0, 2.0, 3.0, 5.5, 4.0, 6.0, 4.5, 2.5],
           [3.0, 3.0, 2.0, 3.5, 4.0, 4.0, 4.0, 3.5, 4.0]),
}
b20 = [50, 52, 49, 51, 53, 50, 48, 52, 51, 50, 49, 53, 52, 50, 51, 49, 50, 52, 51, 50]
d20 = [3, -1, 2, 4, 2, -2, 5, 1, 3, 2, -1, 4, 3, 1, 2, 6, -3, 2, 1, 3]
PAIRED["t2"] = ([x + y for x, y in zip(b20, d20)], b20)  # ties, n = 20 -> normal, tie correction
b16 = [10.0 + 0.5 * i for i in range(16)]
d16 = [0.25, -0.5, 0, 0.75, 1.0, 0.5, 0, -0.25, 1.25, 0.5, 0.75, 0, 1.5, -0.75, 1.0, 0.25]
PAIRED["z2"] = ([x + y for x, y in zip(b16, d16)], b16)  # zeros and ties, n = 16 -> normal
rng = np.random.default_rng(19)
b60 = np.round(rng.normal(0.90, 0.02, 60), 6)
a60 = np.round(b60 + rng.normal(0.003, 0.01, 60), 6)
assert len(np.unique(np.abs(a60 - b60))) == 60 and (a60 != b60).all()  # no ties, no zeros
print("a60", a60.tolist()); print("b60", b60.tolist())
for n in [50, 51, 60]:  # exact at the n = 50 boundary, normal approximation above it
    PAIRED[f"n{n}"] = (list(a60[:n]), list(b60[:n]))
for name, (a, b) in PAIRED.items():
    a, b = np.array(a, float), np.array(b, float); d = a - b
    m = d.mean(); sd = d.std(ddof=1)
    t = stats.ttest_rel(a, b); ci = t.confidence_interval(0.95)
    print("paired", name, len(d), repr(m), repr(sd), repr(stats.sem(d)), repr(ci.low), repr(ci.high),
          repr(t.statistic), repr(t.df), repr(t.pvalue), "dz", repr(m / sd))
    w = stats.wilcoxon(a, b)
    w_plus = stats.wilcoxon(a, b, alternative="greater").statistic
    nz = d[d != 0]; has_ties = len(np.unique(np.abs(nz))) < len(nz)
    if len(d) > 50: method = "asymptotic"
    elif not has_ties and len(nz) == len(d): method = "exact"
    elif len(d) <= 13: method = PermutationMethod()
    else: method = "asymptotic"
    w2 = stats.wilcoxon(a, b, method=method)
    assert w2.statistic == w.statistic and w2.pvalue == w.pvalue, name
    label = method if isinstance(method, str) else "permutation"
    z = ""
    if label == "asymptotic":  # signed z of W+ (scipy's zstatistic is -|z| for two-sided)
        z = repr(np.sign(w_plus - len(nz) * (len(nz) + 1) / 4) * abs(stats.wilcoxon(a, b, method="asymptotic").zstatistic))
    print("wilcoxon", name, label, "zeros", int((d == 0).sum()), repr(w.statistic), repr(w_plus), repr(w.pvalue), z)
for p in [[0.01, 0.04, 0.03, 0.005], [0.2, 0.5, 0.3, 0.9, 0.04], [0.01, 0.01, 0.02], [0.01, 0.012],
          [0.03], [0.001, 0.6, 0.0004, 0.049, 0.02, 0.7]]:
    print("holm", p, multipletests(p, method="holm")[1].tolist())
w = stats.wilcoxon([3, 4, 5], [2, 3, 4]); print("wilcoxon constant-differences", repr(w.statistic), repr(w.pvalue))
