"""Verdicts, one concern a module: per workload, which valid backend is fastest, by how much, and whether the
difference is real.

- `pair_test`: two samples of repeats (one steady state per repeat, each a fresh process), on log times: the
  Hodges-Lehmann ratio (the median of the n*m ratios b_j / a_i) with its distribution-free interval from the
  exact Mann-Whitney distribution, labelled with the level it achieves (90% at 3 against 3, 97% at 4 against 4,
  95-96% from 5), and the two-sided rank-sum test from its exact permutation distribution (ties: midranks).
  With a sequential design (`Settings.looks`), the p is spent over the looks (analysis/sequential.py). Repeats
  far from the pooled median are left out of the test (analysis/robust.py: still exact); the interval is widened
  to the Welch interval's hull when the two spreads differ.
- `decide`: `faster` / `slower` only when the family-adjusted p is at most `alpha` and |log ratio| is at least
  log(1 + tie threshold) (symmetric: 1.05 and 1/1.05 alike); `tie` when the whole interval lies within
  [1/(1 + t), 1 + t], its level is at least 1 - 2 alpha and the equivalence p (TOST, spent over the looks) is
  at most alpha (2 against 2, whose interval is a 67% one, never ties); otherwise `no clear difference`. One repeat on either side gives no
  interval and no verdict.
- The family: every decision a report makes (each backend against the reference, the fastest against the
  runner-up, the article's claims, over every workload) is adjusted together by Holm (analysis/holm.py), so the
  chance of any false "faster"/"slower" in the report is at most alpha.
- `check_validity`: validity before speed. A backend whose loss went NaN, whose test accuracy is at chance or far
  below the other backends' on the same workload and profile (a configuration's, `<base>+<name>`: far below its
  base's, the float32 default run), or whose steady state is 0 s, is excluded from "fastest", with the reason. On
  synthetic data accuracy means nothing: only a finite loss is asked, and the verdict says "speed only". A profile
  declared `validity: loss` (random-weight models trained too briefly to leave chance, as keras-benchmarks times
  them) is judged on training loss instead: it must fall from the first epoch to the last and end within
  `LOSS_GAP` of the other backends'; test accuracy is reported, not judged.
- `workload_verdicts`: per workload x profile, every backend's ratio to the reference environment (the matrix's
  `reference`, by default the article's TensorFlow, `tensorflow1`; on a workload it did not run, such as today's
  models, TensorFlow under Keras 3, `keras3-tensorflow`, as keras-benchmarks' ratios are), the fastest valid
  backend and its margin over the runner-up.
- `ranking` and `performance_profile`: across workloads, the geometric mean of the ratios to the reference (the
  backends valid on every workload ranked first, over the same workloads), and the Dolan-More performance
  profile (the share of workloads on which a backend is within a factor tau of the fastest valid one), as
  MLCommons AlgoPerf scores submissions.
"""
