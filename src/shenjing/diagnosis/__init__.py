"""Why a network trains or fails: reports, statistics, findings, the monitor, diagnose,
sanity checks and the gradient check.

Below the network class: every measurement goes through the network's measuring API
(``forward_trace``/``backward_trace``), so :class:`shenjing.Monitor` is an ordinary
callback that ``fit(monitor=...)`` can add.
"""
