"""The layers: the layer protocol, its registry, the initialisers, and every layer type.

Imports only :mod:`shenjing.base`.
"""
