"""Benchmark suite (issue 5): ``python -m benchmarks.run [--quick]`` or ``make bench``.

* :mod:`benchmarks.run` - the suite: throughput by population size, per-phase profile, peak
  memory, the naive reference model, SimPy lane throughput and tuning throughput; prints a
  table and appends it with machine information to ``benchmarks/RESULTS.md``.
* :mod:`benchmarks.naive` - the same consumer behaviour written the naive way (one Mesa agent
  per consumer, Python loops), checked against the vectorized model by
  ``tests/test_naive_equivalence.py``.
* ``benchmarks/scenario_bench.yaml`` - the benchmark scenario (every mechanism on).
"""
