#!/usr/bin/env python3
"""Writes paired_reference.json: the paired tests behind `keel models compare`, computed by statsmodels (McNemar),
SciPy (Wilcoxon signed-rank) and a plain numpy implementation of DeLong's 1988 structural components (the O(m n)
Mann-Whitney kernel, independent of Keel's midrank algorithm), on samples stored as recipes (recipes.py).

Run with Debian's interpreter (python3-scipy, python3-numpy, python3-statsmodels):
    /usr/bin/python3 make_paired_reference.py
Recorded with SciPy 1.10.1, NumPy 1.24 and statsmodels 0.13.5 (Debian 12)."""
import json

import numpy as np
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

from recipes import sample, spec

out = {"scipy": scipy.__version__, "numpy": np.__version__, "statsmodels": statsmodels.__version__,
       "mcnemar": [], "wilcoxon": [], "delong": []}

# McNemar: b rows right only under A, c only under B. Keel: exact binomial when b + c < 25, else chi-square with
# continuity correction.
for b, c in [(0, 0), (3, 7), (10, 2), (12, 12), (0, 9), (20, 4), (13, 12), (30, 12), (100, 80), (1000, 1100), (5, 60)]:
    exact = b + c < 25
    r = mcnemar([[0, b], [c, 0]], exact=exact, correction=True)
    out["mcnemar"].append({"b": b, "c": c, "exact": exact, "statistic": float(r.statistic), "pvalue": float(r.pvalue)})

# Wilcoxon signed-rank on d = a - b: exact (n <= 50, no zeros or ties: continuous samples) and normal
# approximation (n > 50; the integer recipes give ties and zero differences).
for kind, n, seed, shift in [("uniform", 5, 11, 0.0), ("uniform", 12, 12, 0.2), ("bell", 30, 13, 0.1),
                             ("bell", 50, 14, 0.05), ("uniform", 51, 15, 0.1), ("integers", 200, 16, 3.0),
                             ("integers", 2000, 17, 0.0), ("bell", 5000, 18, 0.01)]:
    a = sample(kind, n, seed)
    b = sample(kind, n, seed + 1000, shift)
    r = stats.wilcoxon(a - b)
    out["wilcoxon"].append({"a": spec(kind, n, seed), "b": spec(kind, n, seed + 1000, shift),
                            "statistic": float(r.statistic), "pvalue": float(r.pvalue),
                            "exact": bool(n <= 50)})


def delong_reference(y, sa, sb):
    """DeLong 1988 with the Mann-Whitney kernel psi(x, w) = 1, 1/2, 0 computed pair by pair."""
    pos, neg = y == 1, y == 0
    m, n = pos.sum(), neg.sum()
    comps = []
    aucs = []
    for s in (sa, sb):
        x, w = s[pos], s[neg]
        psi = (x[:, None] > w[None, :]).astype(float) + 0.5 * (x[:, None] == w[None, :])
        aucs.append(psi.mean())
        comps.append((psi.mean(axis=1), psi.mean(axis=0)))   # V10 per positive, V01 per negative
    s10 = np.cov(np.vstack([comps[0][0], comps[1][0]]))
    s01 = np.cov(np.vstack([comps[0][1], comps[1][1]]))
    s = s10 / m + s01 / n
    var = s[0, 0] + s[1, 1] - 2 * s[0, 1]
    z = (aucs[0] - aucs[1]) / np.sqrt(var)
    p = 2 * stats.norm.sf(abs(z))
    return aucs, s, z, p


# Labels: 1 when a uniform draw is below 0.4. Scores: label * signal + noise; integer noise gives tied scores.
for n, seed, sig_a, sig_b, noise in [(40, 21, 0.8, 0.5, "bell"), (300, 22, 0.6, 0.55, "bell"),
                                     (500, 23, 30.0, 20.0, "integers"), (2000, 24, 0.3, 0.35, "uniform")]:
    u = sample("uniform", n, seed)
    y = (u < 0.4).astype(float)
    na = sample(noise, n, seed + 1)
    nb = sample(noise, n, seed + 2)
    sa = y * sig_a + na
    sb = y * sig_b + nb
    aucs, s, z, p = delong_reference(y, sa, sb)
    out["delong"].append({"labels": spec("uniform", n, seed), "threshold": 0.4,
                          "noise_a": spec(noise, n, seed + 1), "noise_b": spec(noise, n, seed + 2),
                          "signal_a": sig_a, "signal_b": sig_b,
                          "auc_a": float(aucs[0]), "auc_b": float(aucs[1]), "var_a": float(s[0, 0]),
                          "var_b": float(s[1, 1]), "covariance": float(s[0, 1]), "z": float(z), "pvalue": float(p)})

with open("paired_reference.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
