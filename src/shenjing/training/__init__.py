"""Training: losses, optimizers, metrics, callbacks, evaluation and the loop itself.

Imports :mod:`shenjing.base` and :mod:`shenjing.nn`; the loop takes any network that
offers the layer protocol, so it needs no network class.
"""
