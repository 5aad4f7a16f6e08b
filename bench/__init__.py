"""Benchmarks: speed, cost growth and detection power, each a ratio measured in one run on one machine.

    python -m bench              # every section, about 6 minutes on 2 cores; writes reports/bench.json
    python -m bench --only overhead,detection

Not tests: nothing here asserts. The goals each figure is judged against are written beside it in the JSON.
"""
