"""Train the same network once per activation (or architecture) over several seeds.

The notes claim that ReLU "greatly accelerates" convergence compared with sigmoid and
tanh, that sigmoid units saturate and that ReLU units can die. :func:`compare` measures
those claims on a built-in dataset (or your own): every variant — one activation and
one list of hidden widths — is trained from ``seeds`` different initialisations with the
same data, optimizer and number of steps, and reported as

* ``final_loss``: the loss over the whole training set after training;
* ``accuracy``: training-set accuracy (classification only; ``None`` for regression);
* ``steps_to_target``: the first step whose loss is at most ``target_fraction`` times
  the loss of step 1 (``None`` if training never got there) — the convergence claim;
* ``dead_fraction`` / ``saturated_fraction``: the share of hidden units that are dead or
  saturated at the end, on the training data, as :func:`shenjing.diagnose` measures them:
  dead for ReLU (output 0 on every input), leaky ReLU (input never positive) and maxout
  (a piece that never wins); saturated for sigmoid and tanh. ``None`` where the idea
  does not apply.

Every run is full-batch by default (``batch_size=None``), so a loss curve is a property
of the network and its seed, not of a shuffle.

Example:
    >>> import shenjing as sj
    >>> result = sj.compare("xor", activations=["relu", "tanh"], seeds=2, epochs=20,
    ...                     optimizer="adam", lr=0.05)
    >>> [row["variant"] for row in result.table()]
    ['relu', 'tanh']
    >>> result.curves("relu").shape       # (seeds, steps)
    (2, 20)
"""

from .cluster import on_cluster
from .result import COLUMNS, CompareResult, Run
from .runner import compare, one_blas_thread, steps_to_fraction
from .spec import DEFAULT_ACTIVATIONS, MAXOUT, Variant, build_network

__all__ = [
    "COLUMNS",
    "DEFAULT_ACTIVATIONS",
    "MAXOUT",
    "CompareResult",
    "Run",
    "Variant",
    "build_network",
    "compare",
    "on_cluster",
    "one_blas_thread",
    "steps_to_fraction",
]
