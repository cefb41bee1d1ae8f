"""The SciPy side of bench/run-drift.sh: computes the drift statistics of every column of the two tables
keel-bench-drift wrote to OUTDIR, the way a Python user would (scipy.stats.ks_2samp, scipy.stats.wasserstein_distance,
scipy.stats.chi2_contingency without continuity correction, scipy.spatial.distance.jensenshannon with base 2, and PSI
over the reference deciles in numpy with Keel's binning rule), times that, checks every value against Keel's JSON and
prints one JSON line of the same shape. Exit status 1 when a value disagrees.

    /usr/bin/python3 bench/drift_peer.py OUTDIR KEEL_JSON [RTOL]
"""
import json
import sys
import time

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

BINS = 10            # data::DiffOptions::bins
EPSILON = 1e-4       # an empty bin's share, as Keel (and the usual PSI definition) replaces it
P_ATOL = 1e-12       # p-values closer than this agree whatever their ratio (both underflow towards 0)


def psi(ref, cur, bins=BINS):
    """PSI of cur against ref: the reference deciles cut the reference range; a value two deciles share gets its own
    bin [v, next double above v); two open outer bins hold what lies below the reference minimum or above its
    maximum (data::populationStabilityIndex; tests/data/stats/make_reference.py)."""
    lo, hi = ref.min(), ref.max()
    quantiles = np.quantile(ref, np.arange(1, bins) / bins)     # numpy's default (linear) interpolation, as Keel
    cuts = [lo]
    previous = lo
    for c in quantiles:
        if c > cuts[-1]:
            cuts.append(c)
        elif c == previous:
            above = np.nextafter(c, np.inf)
            if above > cuts[-1]:
                cuts.append(above)
        previous = c
    above = np.nextafter(hi, np.inf)
    if above > cuts[-1]:
        cuts.append(above)
    cuts = np.asarray(cuts)
    r = np.bincount(np.digitize(ref, cuts), minlength=len(cuts) + 1) / len(ref)
    c = np.bincount(np.digitize(cur, cuts), minlength=len(cuts) + 1) / len(cur)
    r = np.where(r > 0, r, EPSILON)
    c = np.where(c > 0, c, EPSILON)
    return float(np.sum((c - r) * np.log(c / r)))


def numeric_stats(ref, cur):
    ks = stats.ks_2samp(ref, cur)        # method 'auto': asymptotic (kstwo) above 10,000 values, as Keel
    return {"psi": psi(ref, cur), "ks": float(ks.statistic), "ks_p": float(ks.pvalue),
            "wasserstein": float(stats.wasserstein_distance(ref, cur))}


def categorical_stats(ref, cur, levels):
    table = np.vstack([np.bincount(ref, minlength=levels), np.bincount(cur, minlength=levels)])
    table = table[:, table.sum(axis=0) > 0]      # a level absent from both tables has no expected count
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    return {"chi2": float(chi2), "chi2_p": float(p), "js": float(distance.jensenshannon(table[0], table[1], base=2))}


def main():
    out, keel_path = sys.argv[1], sys.argv[2]
    rtol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-6
    manifest = json.load(open(f"{out}/columns.json"))
    keel = json.load(open(keel_path))

    t0 = time.perf_counter()
    data = []
    for col in manifest["columns"]:
        suffix, dtype = ("f64", "<f8") if col["kind"] == "numeric" else ("i32", "<i4")
        data.append((np.fromfile(f"{out}/ref_{col['name']}.{suffix}", dtype=dtype),
                     np.fromfile(f"{out}/cur_{col['name']}.{suffix}", dtype=dtype)))
    load_seconds = time.perf_counter() - t0

    detail = []
    t0, c0 = time.perf_counter(), time.process_time()
    for col, (ref, cur) in zip(manifest["columns"], data):
        t1 = time.perf_counter()
        if col["kind"] == "numeric":
            values = numeric_stats(ref, cur)
        else:
            values = categorical_stats(ref, cur, col["levels"])
        detail.append({"name": col["name"], "type": col["type"], "planted": col["planted"], **values,
                       "seconds": time.perf_counter() - t1})
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0

    # Agreement with Keel: every statistic both computed, relative difference (p-values: or absolute below P_ATOL).
    keel_columns = {c["name"]: c for c in keel["columns_detail"]}
    max_rel, max_abs, worst, disagreements, compared = 0.0, 0.0, "", [], 0
    for d in detail:
        k = keel_columns.get(d["name"])
        if k is None:
            disagreements.append(f"{d['name']}: not in Keel's report")
            continue
        for key in ("psi", "ks", "ks_p", "wasserstein", "chi2", "chi2_p", "js"):
            if key not in d:
                continue
            ours, theirs = d[key], k.get(key)
            if theirs is None:
                disagreements.append(f"{d['name']}.{key}: Keel has no value, SciPy {ours!r}")
                continue
            compared += 1
            diff = abs(ours - theirs)
            scale = max(abs(ours), abs(theirs))
            rel = diff / scale if scale > 0 else 0.0
            max_abs = max(max_abs, diff)
            if rel > max_rel:
                max_rel, worst = rel, f"{d['name']}.{key}"
            if rel > rtol and not (key.endswith("_p") and diff <= P_ATOL):
                disagreements.append(f"{d['name']}.{key}: Keel {theirs!r}, SciPy {ours!r} (relative {rel:.3g})")

    print(json.dumps({"rows": manifest["rows"], "columns": len(detail), "seconds": seconds, "cpu_seconds": cpu_seconds,
                      "load_seconds": load_seconds, "numpy": np.__version__, "scipy": scipy.__version__,
                      "compared": compared, "max_rel_diff": max_rel, "max_abs_diff": max_abs, "worst": worst,
                      "rtol": rtol, "disagreements": disagreements, "columns_detail": detail}))
    return 0 if not disagreements else 1


if __name__ == "__main__":
    sys.exit(main())
