#!/usr/bin/env python3
"""Writes ovr_reference.json: one-vs-rest ROC AUC and average precision of multiclass probabilities, per class and
macro/micro averaged, as scikit-learn computes them, for tests/ml/tst_metrics.cpp (ml::oneVsRest).

Run with Debian's interpreter (python3-sklearn, python3-numpy):
    /usr/bin/python3 make_ovr_reference.py
Recorded with scikit-learn 1.2.1 and NumPy 1.24 (Debian 12). Logits are small integers, so that many rows share a
score exactly (ties are where implementations differ); the probabilities are their softmax and sum to one, as
roc_auc_score(multi_class="ovr") requires."""
import json

import numpy as np
import sklearn
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.preprocessing import label_binarize

out = {"sklearn": sklearn.__version__, "cases": []}
rng = np.random.default_rng(20261201)
for k, n, signal in [(3, 40, 1), (5, 120, 1), (11, 300, 2), (26, 520, 2)]:
    y = np.arange(n) % k                      # every class present
    rng.shuffle(y)
    logits = rng.integers(0, 3, size=(n, k)).astype(float)
    logits[np.arange(n), y] += signal
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    macro = float(roc_auc_score(y, p, multi_class="ovr"))
    Y = label_binarize(y, classes=list(range(k)))
    out["cases"].append({
        "classes": k,
        "y": y.tolist(),
        "p": p.ravel().tolist(),
        "roc_auc_ovr_macro": macro,
        "roc_auc_per_class": [float(roc_auc_score(Y[:, c], p[:, c])) for c in range(k)],
        "ap_per_class": [float(average_precision_score(Y[:, c], p[:, c])) for c in range(k)],
        "ap_macro": float(average_precision_score(Y, p, average="macro")),
        "ap_micro": float(average_precision_score(Y, p, average="micro")),
        "roc_auc_micro": float(roc_auc_score(Y, p, average="micro")),
    })
with open("ovr_reference.json", "w") as f:
    json.dump(out, f)
