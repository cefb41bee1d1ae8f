#!/usr/bin/env python3
"""Writes scipy_reference.json: drift statistics computed by SciPy (and PSI by numpy, from its definition) on samples
with a known answer, frozen so that tests/data/tst_stats.cpp checks Keel against them without SciPy installed. The
samples are stored as their recipe: a SplitMix64 stream that the C++ test reproduces bit for bit.

Run with Debian's interpreter (python3-scipy, python3-numpy):  /usr/bin/python3 make_reference.py
Recorded with SciPy 1.10.1 and NumPy 1.24 (Debian 12)."""
import json
import numpy as np
import scipy
from scipy import stats, special
from scipy.spatial import distance

from recipes import SplitMix64, sample, spec


out = {"scipy": scipy.__version__, "numpy": np.__version__, "ks": [], "kstwo": [], "smirnov": [],
       "wasserstein": [], "js": [], "chi2": [], "psi": []}


# Two-sample KS, exact region (both sizes <= 10,000) and asymptotic region; equal sizes use the square formula.
cases = [("bell", 5, 7, 0.0), ("bell", 20, 20, 0.3), ("integers", 50, 80, 2.0), ("bell", 300, 500, 0.1),
         ("skewed", 1000, 2500, 0.02), ("integers", 3000, 3000, 1.0), ("bell", 9000, 10000, 0.02),
         ("uniform", 10000, 10000, 0.0), ("bell", 7, 400, 0.5), ("bell", 12000, 10500, 0.01),
         ("integers", 20000, 40, 5.0), ("uniform", 15000, 11000, 0.0), ("skewed", 30000, 3, 0.4),
         ("bell", 50000, 20000, 0.003), ("uniform", 100, 200, 0.6)]
for i, (kind, n, m, shift) in enumerate(cases):
    sa, sb = spec(kind, n, 1000 + 2 * i), spec(kind, m, 1001 + 2 * i, shift)
    a, b = sample(**sa), sample(**sb)
    r = stats.ks_2samp(a, b, method="auto")
    out["ks"].append({"a": sa, "b": sb, "statistic": float(r.statistic), "pvalue": float(r.pvalue)})

# The finite-n one-sample Kolmogorov distribution in each region of Simard and L'Ecuyer's algorithm.
for n in [1, 2, 5, 10, 30, 100, 140, 141, 500, 2000, 5000, 20000, 100000, 150000]:
    for d in [0.001, 0.004, 0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.45, 0.5, 0.6, 0.9]:
        out["kstwo"].append({"n": n, "d": d, "sf": float(stats.kstwo.sf(d, n))})
for n in [1, 3, 10, 50, 141, 1000, 5000, 40000]:
    for d in [0.001, 0.01, 0.05, 0.1, 0.3, 0.6, 0.95]:
        out["smirnov"].append({"n": n, "d": d, "sf": float(special.smirnov(n, d))})

for i, (kind, n, m, shift) in enumerate([("bell", 10, 13, 0.5), ("integers", 400, 300, 3.0), ("skewed", 2000, 1000, 0.1)]):
    sa, sb = spec(kind, n, 2000 + 2 * i), spec(kind, m, 2001 + 2 * i, shift)
    out["wasserstein"].append({"a": sa, "b": sb, "distance": float(stats.wasserstein_distance(sample(**sa), sample(**sb)))})

for p, q in [([10, 20, 30], [30, 20, 10]), ([5, 0, 5], [0, 10, 0]), ([1, 2, 3, 4, 5], [1, 2, 3, 4, 6]),
             ([100, 0], [0, 100]), ([7, 7], [7, 7])]:
    out["js"].append({"a": p, "b": q, "distance": float(distance.jensenshannon(p, q, base=2))})
    table = np.array([p, q])
    keep = table.sum(axis=0) > 0
    if keep.sum() >= 2:
        chi2, pv, dof, _ = stats.chi2_contingency(table[:, keep], correction=False)
        out["chi2"].append({"a": p, "b": q, "statistic": float(chi2), "pvalue": float(pv)})


def psi(ref, cur, bins=10):
    """PSI as Keel defines it (README, 'Drift statistics'), written independently with numpy."""
    ref = np.sort(ref)
    cuts = [ref[0]]
    previous = ref[0]
    for i in range(1, bins):
        c = np.quantile(ref, i / bins)      # numpy's default (linear) quantile
        if c > cuts[-1]:
            cuts.append(c)
        elif c == previous:                 # a value two quantiles share gets its own bin [v, nextafter(v))
            nxt = np.nextafter(c, np.inf)
            if nxt > cuts[-1]:
                cuts.append(nxt)
        previous = c
    above = np.nextafter(ref[-1], np.inf)
    if above > cuts[-1]:
        cuts.append(above)
    r = np.bincount(np.searchsorted(cuts, ref, side="right"), minlength=len(cuts) + 1) / len(ref)
    c = np.bincount(np.searchsorted(cuts, cur, side="right"), minlength=len(cuts) + 1) / len(cur)
    r = np.where(r > 0, r, 1e-4)
    c = np.where(c > 0, c, 1e-4)
    return float(np.sum((c - r) * np.log(c / r)))


for name, sa, sb in [("same distribution", spec("bell", 2000, 3000), spec("bell", 2000, 3001)),
                     ("a quarter of the range", spec("bell", 2000, 3002), spec("bell", 2000, 3003, 0.25)),
                     ("total shift, 2010 -> 2011", spec("integers", 500, 3004, 2010.0), spec("integers", 400, 3005, 2110.0)),
                     ("moved past the range", spec("integers", 1000, 3006), spec("integers", 1000, 3007, 200.0)),
                     ("ties", spec("integers", 3000, 3008), spec("integers", 2500, 3009, 3.0))]:
    out["psi"].append({"name": name, "a": sa, "b": sb, "psi": psi(sample(**sa), sample(**sb))})

with open("scipy_reference.json", "w") as f:
    json.dump(out, f, separators=(",", ":"))
