"""The pandas side of bench/run.sh: prints wall seconds for one operation on a CSV file."""
import sys
import time

import pandas as pd

mode, path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
df = pd.read_csv(path)
if mode == "describe":
    df.describe(include="all")
print(f"{time.perf_counter() - t0:.3f}")
