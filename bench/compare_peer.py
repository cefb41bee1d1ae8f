#!/usr/bin/env python3
"""The statistics behind `keel models compare`, done the way a Python user would: numpy bootstrap of accuracy, log loss
and ROC AUC (the same multinomial resamples for both models), statsmodels' McNemar, DeLong with numpy (midranks),
SciPy's Wilcoxon and a paired bootstrap of the per-row log loss. Reads the two prediction files `keel predict` wrote.

    /usr/bin/python3 compare_peer.py A.csv B.csv RESAMPLES      (prints JSON: seconds for loading and for the statistics)
"""
import json
import sys
import time

import numpy as np
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

t0 = time.perf_counter()
def load(path):
    a = np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding="utf-8")
    return a
A, B = load(sys.argv[1]), load(sys.argv[2])
resamples = int(sys.argv[3])
names = A.dtype.names
pos_col = [n for n in names if n.startswith("p_")][-1]
classes = [n[2:] for n in names if n.startswith("p_")]
y = (A["actual"] == classes[-1]).astype(float)
pa, pb = A[pos_col].astype(float), B[pos_col].astype(float)
t_load = time.perf_counter() - t0

t1 = time.perf_counter()
n = len(y)
eps = 1e-15
def rowloss(p):
    return -np.log(np.clip(np.where(y == 1, p, 1 - p), eps, 1 - eps))
la, lb = rowloss(pa), rowloss(pb)
ca, cb = ((pa >= 0.5) == (y == 1)).astype(float), ((pb >= 0.5) == (y == 1)).astype(float)
oa, ob = np.argsort(pa, kind="stable"), np.argsort(pb, kind="stable")

def wauc(order, w):
    ys, ws = y[order], w[order]
    neg_below = np.cumsum(ws * (1 - ys)) - ws * (1 - ys)
    num = np.sum(ws * ys * neg_below)
    return num / (np.sum(ws * ys) * np.sum(ws * (1 - ys)))

rng = np.random.default_rng(1)
res = np.empty((resamples, 6))
for r in range(resamples):
    w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
    tot = w.sum()
    res[r] = [w @ ca / tot, w @ cb / tot, w @ la / tot, w @ lb / tot, wauc(oa, w), wauc(ob, w)]
intervals = np.percentile(res, [2.5, 97.5], axis=0)
diff_intervals = np.percentile(res[:, 1::2] - res[:, 0::2], [2.5, 97.5], axis=0)

b = int(np.sum((ca == 1) & (cb == 0)))
c = int(np.sum((cb == 1) & (ca == 0)))
mc = mcnemar([[0, b], [c, 0]], exact=(b + c) < 25, correction=True)

def midrank(x):
    return stats.rankdata(x)
def delong(y, s1, s2):
    pos, neg = y == 1, y == 0
    m, k = pos.sum(), neg.sum()
    out = []
    for s in (s1, s2):
        tx, ty, tz = midrank(s[pos]), midrank(s[neg]), midrank(np.concatenate([s[pos], s[neg]]))
        auc = (tz[:m].sum() - m * (m + 1) / 2) / (m * k)
        v01 = (tz[:m] - tx) / k
        v10 = 1 - (tz[m:] - ty) / m
        out.append((auc, v01, v10))
    sx = np.cov(np.vstack([out[0][1], out[1][1]]))
    sy = np.cov(np.vstack([out[0][2], out[1][2]]))
    S = sx / m + sy / k
    z = (out[0][0] - out[1][0]) / np.sqrt(S[0, 0] + S[1, 1] - 2 * S[0, 1])
    return z, 2 * stats.norm.sf(abs(z))
z, p_delong = delong(y, pa, pb)
w_stat = stats.wilcoxon(lb - la)
d = lb - la
boot = np.empty(resamples)
rng2 = np.random.default_rng(2)
for r in range(resamples):
    w = np.bincount(rng2.integers(0, n, n), minlength=n)
    boot[r] = (w @ d) / n
t_stats = time.perf_counter() - t1
print(json.dumps({"rows": n, "load_s": t_load, "stats_s": t_stats, "mcnemar_p": float(mc.pvalue), "delong_p": float(p_delong),
                  "wilcoxon_p": float(w_stat.pvalue), "auc_a": float(np.mean(res[:, 4])), "auc_b": float(np.mean(res[:, 5]))}))
