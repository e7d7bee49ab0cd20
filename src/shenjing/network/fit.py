"""``shenjing.fit``: train a network, with monitoring if asked for.

The loop itself is :func:`shenjing.training.loop.train`; this adds ``monitor=``, which
turns into a :class:`~shenjing.Monitor` callback placed first among the callbacks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..base.checks import boolean
from ..diagnosis.monitor import as_monitor
from ..nn.initializers import Seed
from ..nn.modes import runs_in_mode
from ..training import losses as losses_mod
from ..training import optim as optim_mod
from ..training.callbacks import History
from ..training.loop import DIVERGENCE, train


@runs_in_mode(training=True)  # the caller's mode is restored when fit returns or raises
def fit(
    net: Any,
    x: Any,
    y: Any,
    *,
    loss: str | losses_mod.Loss,
    optimizer: str | optim_mod.Optimizer | None = None,
    epochs: int = 10,
    batch_size: int | None = 32,
    shuffle: bool = True,
    seed: Seed = None,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float = 0.0,
    metrics: Iterable[str] = (),
    callbacks: Sequence[Any] = (),
    progress: bool = False,
    monitor: Any = False,
    schedule: Any = None,
    clip_norm: float | None = None,
    clip_value: float | None = None,
    divergence: float | None = DIVERGENCE,
    checkpoint: Any = None,
    checkpoint_every: int | None = None,
    sample_weight: Any = None,
    class_weight: Any = None,
) -> History:
    """Train ``net`` on ``(x, y)`` by mini-batch gradient descent.

    Args:
        net: the network; its parameters are updated in place.
        x: inputs, (N, D), any real dtype (converted to the network's dtype).
        y: targets: what ``loss`` expects, e.g. (N, M) reals, or (N,) class labels.
        loss: a loss name (``"sse"``, ``"mse"``, ``"huber"``, ``"softmax_cross_entropy"``,
            ``"binary_cross_entropy"``) or :class:`~shenjing.losses.Loss` instance.
        optimizer: an optimizer instance or name; default ``Adam()`` (lr 1e-3).
        epochs: passes over the training data (≥ 1). Default 10.
        batch_size: rows per step; ``None`` for the full batch, as in the notes.
            Default 32. The last batch of an epoch may be smaller.
        shuffle: draw a new order of the rows every epoch (from ``seed``).
        seed: ``None``, an int or a Generator for the shuffling and the validation
            split; the same seed gives the same run, bit for bit.
        validation_data: ``(x_val, y_val)`` evaluated after every epoch.
        validation_split: fraction in (0, 1) of the rows, drawn at random from
            ``seed``, held out for validation instead of ``validation_data``.
        metrics: names from :mod:`shenjing.metrics`: ``"accuracy"``, ``"rmse"``,
            ``"mae"``, ``"r2"``; recorded per epoch for training and validation data.
        callbacks: objects with hooks (see :mod:`shenjing.callbacks`), e.g.
            :class:`~shenjing.EarlyStopping`.
        progress: show a progress bar (needs ``tqdm``: ``pip install shenjing[progress]``).
        monitor: record diagnostics during training into ``history.diagnostics``:
            ``True`` (every 50 steps), a number of steps, or a
            :class:`~shenjing.Monitor`. Off (``False``) by default; see
            :mod:`shenjing.diagnosis.monitor` for what is recorded and what it costs.
        schedule: a learning-rate schedule (:mod:`shenjing.schedules`), as an object
            such as ``sj.CosineDecay(warmup_steps=100)`` or a name (``"cosine"``,
            ``"one_cycle"``, ``"step"``, ``"exponential"``, ``"plateau"``); it sets
            ``optimizer.lr`` before every step, and ``history.lr`` records each rate.
        clip_norm: clip the gradients to this global L2 norm over all parameters
            (g ← g · clip_norm / ‖g‖ when ‖g‖ > clip_norm), as PyTorch's
            ``clip_grad_norm_``. Default ``None``: no clipping.
        clip_value: clip every gradient element into [-clip_value, clip_value]
            (before ``clip_norm``, if both). Default ``None``.
        divergence: stop with :class:`~shenjing.DivergenceError` when a step's loss
            exceeds this many times the first step's loss, though finite (an exploding
            run). Default 1e4; ``None`` turns the check off (NaN and inf always stop).
        checkpoint: a file path: the network, the optimizer's state, the schedule, the
            RNG states, the History and the position are saved there atomically after
            every epoch and when a Ctrl-C stops training. Calling the same ``fit``
            again with that path resumes where it stopped, and ends bit for bit as an
            uninterrupted run would; a finished run's checkpoint resumes to its end.
            The file is a model file (``sj.load`` reads it). A fit with other settings
            or another network is refused. Callbacks are resumed when they have
            ``checkpoint_state``/``load_checkpoint_state`` (EarlyStopping does; a
            Monitor's diagnostics restart).
        checkpoint_every: also save every this many steps (default: once per epoch).
        sample_weight: optional (N,) weights ≥ 0, one per row (not all 0). Each step
            minimises the batch's weighted mean loss Σ w_n ℓ_n / Σ w_n (the weighted sum
            for ``"sse"``), so an integer weight counts a row that many times; the
            epoch's ``loss`` is the weighted mean too. Validation and metrics are
            unweighted. See :mod:`shenjing.training.weighting`.
        class_weight: for a classification loss, ``"balanced"`` (w_k = N / (K·N_k)), a
            sequence of K weights or a dict {class index: weight}: each row's weight is
            multiplied by its class's (Σ_k w_k t[n, k] for probability rows). Unlike
            ``SoftmaxCrossEntropy(class_weight=...)``, which divides by N, this divides
            by the batch's Σ w.

    Training runs in training mode (dropout on, batch statistics) and each epoch's
    validation in evaluation mode; every layer's mode is put back as the caller had it
    when ``fit`` returns or raises.

    Returns:
        A :class:`~shenjing.callbacks.History`; ``net.history`` is the same object,
        filled as training goes.

    Raises:
        DivergenceError: the loss became NaN or inf, or passed ``divergence``. Training
            stops before that step's backward pass and update, so the network keeps the
            weights of the last step whose loss was below it and nothing is
            half-updated; the error's ``history`` holds what was recorded.
        KeyboardInterrupt: Ctrl-C. It takes effect between two steps (the step under
            way finishes), so the weights and the optimizer's state are those of one
            step exactly; ``exc.history`` and ``net.history`` hold what was recorded,
            and a ``checkpoint`` is saved first.
    """
    shuffle, progress = boolean(shuffle, "shuffle"), boolean(progress, "progress")
    recorder = as_monitor(monitor)
    if recorder is not None:
        # First: a monitor records the gradients before any user callback changes them
        # (clipping, say), as the training pass left them.
        callbacks = [recorder, *(callbacks or ())]
    return train(
        net,
        x,
        y,
        loss=loss,
        optimizer=optimizer,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        validation_data=validation_data,
        validation_split=validation_split,
        metrics=metrics,
        callbacks=callbacks,
        progress=progress,
        schedule=schedule,
        clip_norm=clip_norm,
        clip_value=clip_value,
        divergence=divergence,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        sample_weight=sample_weight,
        class_weight=class_weight,
    )
