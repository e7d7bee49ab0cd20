"""The network: :class:`shenjing.Sequential`, :func:`shenjing.mlp` and :func:`shenjing.fit`.

Where layers, training and monitoring meet: the top of the core.
"""
