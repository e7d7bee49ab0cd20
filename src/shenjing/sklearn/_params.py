"""The estimators' parameters, checked at ``fit`` (``__init__`` only stores them, as
scikit-learn requires), and scikit-learn's ``random_state`` as shenjing's Generator."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..base.checks import as_dtype, number, positive_int
from ..base.errors import ConfigError
from ..nn import activations as activations_mod
from ..nn.initializers import as_generator
from ..training import optim as optim_mod

#: Rows per mini-batch for ``batch_size="auto"`` (scikit-learn's rule: min(200, N)).
AUTO_BATCH = 200
#: scikit-learn's learning-rate schedules (used by ``solver="sgd"``).
LEARNING_RATES = ("constant", "invscaling", "adaptive")


@dataclass(frozen=True)
class Settings:
    """What ``fit`` needs from the parameters, checked."""

    hidden: list[int]
    batch_size: int | None  # None: "auto"
    n_iter_no_change: float  # an int, or math.inf
    dtype: np.dtype | None  # None: the input's float dtype


def check_params(est: Any) -> Settings:
    """Check every parameter of ``est``; a ConfigError names the first bad one."""
    sizes = est.hidden_layer_sizes
    if isinstance(sizes, (int, np.integer)) and not isinstance(sizes, bool):
        sizes = [sizes]
    if not isinstance(sizes, (list, tuple, np.ndarray)):
        raise ConfigError(f"hidden_layer_sizes must be an int or a sequence of ints, got {sizes!r}")
    hidden = [positive_int(s, f"hidden_layer_sizes[{i}]") for i, s in enumerate(sizes)]
    name = est.activation
    if not (isinstance(name, str) and name.lower() == "maxout") and (
        name not in activations_mod.ACTIVATIONS
    ):
        valid = ", ".join([*activations_mod.names(), "maxout"])
        raise ConfigError(f"Unknown activation {name!r}; valid names: {valid}")
    if est.solver != "lbfgs":
        if est.solver not in optim_mod.OPTIMIZERS:
            valid = ", ".join(["lbfgs", *optim_mod.names()])
            raise ConfigError(f"Unknown solver {est.solver!r}; valid names: {valid}")
    number(est.alpha, "alpha", low=0.0)
    batch = None
    if est.batch_size != "auto":
        batch = positive_int(est.batch_size, "batch_size ('auto' or)")
    if est.learning_rate not in LEARNING_RATES:
        raise ConfigError(
            f"learning_rate must be one of {', '.join(LEARNING_RATES)}, got {est.learning_rate!r}"
        )
    number(est.learning_rate_init, "learning_rate_init", low=0.0, low_open=True)
    number(est.power_t, "power_t", low=0.0)
    positive_int(est.max_iter, "max_iter")
    positive_int(est.max_fun, "max_fun")
    number(est.tol, "tol", low=0.0)
    number(est.momentum, "momentum", low=0.0, high=1.0, high_open=True)
    number(est.beta_1, "beta_1", low=0.0, high=1.0, high_open=True)
    number(est.beta_2, "beta_2", low=0.0, high=1.0, high_open=True)
    number(est.epsilon, "epsilon", low=0.0, low_open=True)
    patience = est.n_iter_no_change
    if not (isinstance(patience, float) and math.isinf(patience) and patience > 0):
        patience = positive_int(patience, "n_iter_no_change (np.inf or)")
    # scikit-learn allows 0 here, which holds out nothing: refused below when it matters.
    number(est.validation_fraction, "validation_fraction", low=0.0, high=1.0, high_open=True)
    for flag in ("shuffle", "early_stopping", "warm_start", "nesterovs_momentum"):
        if not isinstance(getattr(est, flag), (bool, np.bool_)):
            raise ConfigError(f"{flag} must be True or False, got {getattr(est, flag)!r}")
    if not isinstance(est.verbose, (bool, np.bool_, int, np.integer)):
        raise ConfigError(f"verbose must be a bool or an int, got {est.verbose!r}")
    if positive_int(est.maxout_pieces, "maxout_pieces") < 2:
        raise ConfigError(f"maxout_pieces must be at least 2, got {est.maxout_pieces!r}")
    dtype = None if est.dtype is None else as_dtype(est.dtype, "dtype")
    return Settings(hidden, batch, patience, dtype)


def make_optimizer(est: Any) -> optim_mod.Optimizer:
    """The optimizer of ``solver``, built from the estimator's parameters.

    ``"sgd"``: shenjing's SGD with ``momentum`` and ``nesterovs_momentum`` (PyTorch's form
    v ← μ v + g, p ← p - lr v, the same steps as scikit-learn's v ← μ v - lr g, p ← p + v
    while the rate is constant); ``"adam"``: Adam with ``beta_1``, ``beta_2``,
    ``epsilon``; another shenjing optimizer name: that optimizer with its defaults.
    """
    lr = est.learning_rate_init
    if est.solver == "sgd":
        momentum = float(est.momentum)
        return optim_mod.SGD(
            lr=lr, momentum=momentum, nesterov=bool(est.nesterovs_momentum) and momentum > 0
        )
    if est.solver == "adam":
        return optim_mod.Adam(lr=lr, betas=(est.beta_1, est.beta_2), eps=est.epsilon)
    return optim_mod.get(est.solver, lr=lr)


def generator(random_state: Any) -> np.random.Generator:
    """scikit-learn's ``random_state`` as the Generator shenjing takes.

    None draws fresh entropy (NumPy's global RNG is never touched); a RandomState
    instance gives a seed drawn from it, as scikit-learn's own estimators consume one.
    """
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    try:
        return as_generator(random_state, "random_state")
    except ConfigError:
        raise ConfigError(
            "random_state must be None, a non-negative int, a np.random.RandomState or a "
            f"np.random.Generator, got {random_state!r}"
        ) from None


def seed_of(rng: np.random.Generator) -> int:
    """An int seed drawn from ``rng`` (for scikit-learn functions that take one)."""
    return int(rng.integers(0, 2**31 - 1))
