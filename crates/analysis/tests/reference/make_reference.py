# Reference values for neurogen-analysis tests (scipy 1.17.1, statsmodels 0.15.0).
# Run: python3 make_reference.py ; values are pasted into tests/stats_reference.rs.
import numpy as np, pandas as pd
from scipy import stats
from statsmodels.stats.anova import AnovaRM
np.set_printoptions(precision=17)
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
