"""Deterministic apps for the snapshot tests (``tests/test_snapshots.py``).

Nothing here depends on the wall clock, the network, the host or the terminal:
see :mod:`tests.snapshot_apps.fleet`.
"""
