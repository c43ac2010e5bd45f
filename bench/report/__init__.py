"""``python -m bench.report``: run the benchmark scenarios and write the benchmarks page.

The page (``docs/benchmarks.md``) shows, per scenario, a table of our figures
against the baseline measured in the same run and a bar chart of the ratios
(``docs/assets/benchmarks/*.svg``), with the machine and date of the run.
"""
