"""Samples stored as recipes: a SplitMix64 stream that the C++ tests reproduce bit for bit (recipesample.h). Shared
by make_reference.py and make_paired_reference.py."""
import numpy as np


class SplitMix64:
    """The generator tst_stats.cpp implements too: the same integers, hence the same doubles, in both languages."""
    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFFFFFFFFFF

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def uniform(self):
        return float(self.next() >> 11) * 2.0 ** -53   # exact: 53-bit integers are doubles


def sample(kind, n, seed, shift=0.0):
    """Samples stored as their recipe (kind, n, seed, shift), not as numbers: every step is one IEEE operation."""
    g = SplitMix64(seed)
    out = []
    for _ in range(n):
        if kind == "uniform":
            v = g.uniform() + shift
        elif kind == "bell":                       # sum of three uniforms
            v = ((g.uniform() + g.uniform()) + g.uniform()) + shift
        elif kind == "skewed":
            u = g.uniform()
            v = u * u + shift
        elif kind == "integers":                   # many ties
            v = float(int(g.uniform() * 100.0)) + shift
        else:
            raise ValueError(kind)
        out.append(v)
    return np.array(out)


def spec(kind, n, seed, shift=0.0):
    return {"kind": kind, "n": n, "seed": seed, "shift": shift}
