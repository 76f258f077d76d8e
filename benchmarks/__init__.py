"""Flask-Store benchmarks: our figures against their baselines, in one run.

``python -m benchmarks`` runs every group and writes ``docs/benchmarks.md``;
``--quick`` uses tiny sizes (a smoke run), ``--groups`` picks groups.
"""
