"""The benchmark suite of imagediff-tui (not part of the tests).

Run it from the repository root with the project's venv::

    .venv/bin/python -m bench           # the full run, about 6 minutes
    .venv/bin/python -m bench --quick   # a shorter run, about 2 minutes

See ``bench/README.md`` for what each figure means and how it is measured.
"""
