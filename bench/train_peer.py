#!/usr/bin/python3
"""Python peers for bench/run-train.sh.

  train_peer.py matrices DIR       fit scikit-learn's lbfgs logistic regression and xgboost on the design matrix Keel
                                   wrote (same numbers, same parameters); print JSON timings and losses.
  train_peer.py endtoend CSV       the whole Python job a user would run: pandas read, one-hot encoding, holdout split,
                                   xgboost training with train/validation evaluation every round, test predictions,
                                   model saved; print JSON with the wall time inside the interpreter.
"""
import json
import sys
import time

import numpy as np


def matrices(d):
    import xgboost as xgb
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    shape = json.load(open(f"{d}/shape.json"))
    cols = shape["cols"]
    xt = np.fromfile(f"{d}/x_train.f32", dtype=np.float32).reshape(-1, cols)
    xv = np.fromfile(f"{d}/x_valid.f32", dtype=np.float32).reshape(-1, cols)
    yt = np.fromfile(f"{d}/y_train.f64")
    yv = np.fromfile(f"{d}/y_valid.f64")
    out = {}
    best = 1e300
    for _ in range(3):
        t = time.perf_counter()
        lr = LogisticRegression(solver="lbfgs", C=1.0, tol=1e-6, max_iter=1000)
        lr.fit(xt.astype(np.float64), yt)
        best = min(best, time.perf_counter() - t)
    out["sklearn_logistic_seconds"] = best
    out["sklearn_logistic_train_log_loss"] = log_loss(yt, lr.predict_proba(xt.astype(np.float64))[:, 1])
    out["sklearn_logistic_iterations"] = int(lr.n_iter_[0])
    params = {"objective": "binary:logistic", "eval_metric": "logloss", "tree_method": "hist", "max_depth": 6,
              "eta": 0.05, "nthread": 2, "max_bin": 256}
    t = time.perf_counter()
    dt = xgb.DMatrix(xt, label=yt, nthread=2)
    dv = xgb.DMatrix(xv, label=yv, nthread=2)
    booster = xgb.train(params, dt, 500, evals=[(dt, "train"), (dv, "validation")], verbose_eval=False)
    out["xgboost_seconds"] = time.perf_counter() - t
    out["xgboost_valid_log_loss"] = log_loss(yv, booster.predict(dv))
    print(json.dumps(out))


def endtoend(csv, model_path):
    import pandas as pd
    import xgboost as xgb
    from sklearn.model_selection import train_test_split

    t = time.perf_counter()
    df = pd.read_csv(csv, skipinitialspace=True)
    y = df.pop("class").str.rstrip(".").eq(">50K").astype(int)
    df = df.drop(columns=["fnlwgt"])
    x = pd.get_dummies(df, dummy_na=False).astype(np.float32)
    xt, xv, yt, yv = train_test_split(x, y, test_size=0.2, random_state=42, stratify=y)
    params = {"objective": "binary:logistic", "eval_metric": "logloss", "tree_method": "hist", "max_depth": 6,
              "eta": 0.05, "nthread": 2, "max_bin": 256}
    dt = xgb.DMatrix(xt, label=yt, nthread=2)
    dv = xgb.DMatrix(xv, label=yv, nthread=2)
    booster = xgb.train(params, dt, 500, evals=[(dt, "train"), (dv, "validation")], verbose_eval=False)
    p = booster.predict(dv)
    np.savetxt(model_path + ".pred.csv", p)
    booster.save_model(model_path)
    print(json.dumps({"python_inner_seconds": time.perf_counter() - t, "rows": int(len(df))}))


if __name__ == "__main__":
    if sys.argv[1] == "matrices":
        matrices(sys.argv[2])
    else:
        endtoend(sys.argv[2], sys.argv[3])
