"""Benchmarks (not tests): ``python -m bench [NAME...]`` from the repository root.

Each module ``bench/NAME.py`` has a ``main(argv)`` that prints a table of figures
against the targets of the issue it serves; ``definitions`` runs by default.
"""
