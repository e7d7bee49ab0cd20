"""Running joblib work (a :func:`compare` sweep, a scikit-learn search) on a Dask cluster.

joblib hands its tasks to a backend; ``joblib.parallel_config(backend="dask")`` makes
that backend the Dask scheduler a :class:`distributed.Client` is connected to, so each
task (one variant trained from one seed; one fold of one grid point) runs in some
worker process of the cluster. :func:`on_cluster` does both steps: connect, then select
the backend, for the length of a ``with`` block.

Example (a real cluster: ``dask scheduler`` on one machine, ``dask worker
tcp://HOST:8786`` on each of the others, each with shenjing installed)::

    import shenjing as sj
    result = sj.compare("digits", seeds=10, scheduler="tcp://HOST:8786")

    from sklearn.model_selection import GridSearchCV
    from shenjing.sklearn import MLPClassifier
    with sj.on_cluster("tcp://HOST:8786"):
        search = GridSearchCV(MLPClassifier(), {"lr": [1e-3, 1e-2]}, n_jobs=-1).fit(X, y)

The workers import shenjing themselves: it (and the same NumPy) must be installed
where they run. The data travel with the tasks; joblib's Dask backend sends each large
array to the workers once (``scatter``) rather than once per task.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ..base.errors import ConfigError


@contextlib.contextmanager
def on_cluster(scheduler: Any) -> Iterator[Any]:
    """Run the joblib work inside the block on the Dask cluster at ``scheduler``.

    Args:
        scheduler: the scheduler's address (``"tcp://HOST:8786"``), or a connected
            :class:`distributed.Client` (left open afterwards; a client made here from
            an address is closed at the end of the block).

    Yields:
        The :class:`distributed.Client`.

    Raises:
        ConfigError: distributed is not installed (``pip install 'shenjing[cluster]'``),
            the address is not a string, or no scheduler answers there.
    """
    try:
        import joblib
        from distributed import Client
    except ImportError as exc:
        raise ConfigError(
            f"scheduler= needs dask.distributed and joblib: pip install 'shenjing[cluster]' ({exc})"
        ) from exc
    if isinstance(scheduler, Client):
        client, owned = scheduler, False
    elif isinstance(scheduler, str) and scheduler.strip():
        try:
            client, owned = Client(scheduler.strip(), timeout="10s"), True
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(
                f"scheduler={scheduler!r}: no Dask scheduler answered there ({exc}); start "
                "one with 'dask scheduler' and give its address, e.g. tcp://HOST:8786"
            ) from None
    else:
        raise ConfigError(
            f"scheduler must be an address such as 'tcp://HOST:8786' or a distributed.Client, "
            f"got {scheduler!r}"
        )
    try:
        with joblib.parallel_config(backend="dask"):
            yield client
    finally:
        if owned:
            client.close()
