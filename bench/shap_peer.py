"""The XGBoost side of bench/run-shap.sh: times Booster.predict(DMatrix, pred_contribs=True) on the model and rows
keel-bench-shap wrote to OUTDIR, checks the values against Keel's (keel_shap.f64) and prints one JSON line.

    python3 bench/shap_peer.py OUTDIR [THREADS] [REPEAT]
"""
import json
import sys
import time

import numpy as np
import xgboost as xgb

out = sys.argv[1]
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 1
rows, cols = (int(v) for v in open(f"{out}/rows.shape").read().split())
x = np.fromfile(f"{out}/rows.f32", dtype="<f4").reshape(rows, cols)
keel = np.fromfile(f"{out}/keel_shap.f64", dtype="<f8").reshape(rows, cols + 1)

booster = xgb.Booster(model_file=f"{out}/model.json")
booster.set_param({"nthread": threads})
dmatrix = xgb.DMatrix(x, missing=np.nan, nthread=threads)
seconds, cpu_seconds = [], []
for _ in range(repeat):
    t0, c0 = time.perf_counter(), time.process_time()
    contribs = booster.predict(dmatrix, pred_contribs=True)
    seconds.append(time.perf_counter() - t0)
    cpu_seconds.append(time.process_time() - c0)
diff = float(np.max(np.abs(contribs.astype(np.float64) - keel)))
print(json.dumps({"xgboost_version": xgb.__version__, "threads": threads, "xgboost_s": seconds,
                  "xgboost_best_s": min(seconds), "xgboost_cpu_s": cpu_seconds,
                  "xgboost_best_cpu_s": min(cpu_seconds), "max_abs_diff": diff}))
sys.exit(0 if diff <= 1e-4 else 1)
