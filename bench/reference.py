#!/usr/bin/env python3
"""What a user would write instead of `riskmdp`, timed on the same sizes.

One sweep of the optimal operator T* (Lemma 4.1) on a dense random MDP with S states and A
actions, γ = 0.95, β = 1:

  scipy     exact:   r/β + γ·logsumexp(V, b=P, axis=2), then max over actions
  numpy     fast:    m + log(P @ exp(V − m)) — one read of P, but rows underflow to −∞ when
                     V spans more than ~700 nats (small β)
  mdptoolbox         risk-neutral Bellman sweep of pymdptoolbox's ValueIteration (β = ∞)

Prints JSON: median milliseconds per sweep over --reps repetitions (after one warm-up).
Needs: pip install numpy scipy pymdptoolbox
"""
import argparse
import json
import time

import numpy as np
from scipy.special import logsumexp


def median_ms(f, reps):
    f()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--states", type=int, default=2000)
    ap.add_argument("--actions", type=int, default=4)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    S, A = args.states, args.actions
    rng = np.random.default_rng(args.seed)
    P = rng.random((S, A, S)) + 1e-12
    P /= P.sum(axis=2, keepdims=True)
    r = 2 * rng.random((S, A)) - 1
    beta, gamma = 1.0, 0.95
    V = (np.arange(S) % 17) * 0.1  # the values riskmdp bench uses
    P2 = P.reshape(S * A, S)

    def scipy_sweep():
        q = r / beta + gamma * logsumexp(V[None, None, :], b=P, axis=2)
        return q.max(axis=1)

    def numpy_sweep():
        m = V.max()
        q = r / beta + gamma * (m + np.log(P2 @ np.exp(V - m))).reshape(S, A)
        return q.max(axis=1)

    out = {
        "states": S,
        "actions": A,
        "numpy_exp_matvec_ms": median_ms(numpy_sweep, args.reps),
        "scipy_logsumexp_ms": median_ms(scipy_sweep, max(3, args.reps // 5)),
    }
    # Agreement of the two (exact at this β): a sanity check, not a timing.
    out["max_abs_difference"] = float(np.abs(scipy_sweep() - numpy_sweep()).max())
    try:
        import mdptoolbox.mdp

        vi = mdptoolbox.mdp.ValueIteration(np.ascontiguousarray(P.transpose(1, 0, 2)), r, gamma)
        vi.V = V.copy()
        out["mdptoolbox_sweep_ms"] = median_ms(lambda: vi._bellmanOperator(), args.reps)
    except ImportError:
        out["mdptoolbox_sweep_ms"] = None
    print(json.dumps(out))


if __name__ == "__main__":
    main()
