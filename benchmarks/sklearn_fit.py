"""Fit time of ``shenjing.sklearn`` against scikit-learn's own MLPs, same settings.

On scikit-learn's bundled datasets (wine, breast cancer and digits: classifiers;
diabetes: a regressor), each in a ``StandardScaler`` pipeline, for the solvers adam,
sgd and lbfgs, both estimators get the same parameters: ``hidden_layer_sizes``,
``max_iter``, ``random_state``, and a stopping rule that cannot fire early
(``n_iter_no_change=np.inf`` for the mini-batch solvers, ``tol=0`` for lbfgs), so both
run the same number of epochs (``--max-iter``, 200) or lbfgs iterations
(``--lbfgs-iter``, 50); the table gives each one's count. Runs are paired and
interleaved (alternating which goes first) and repeated; the table gives the median
fit time of each, the median of the per-pair ratios (sklearn / shenjing: above 1 means shenjing is
faster) and the training score of each.

    python benchmarks/sklearn_fit.py                 # the full table (a few minutes)
    python benchmarks/sklearn_fit.py --repeats 3 --max-iter 50 --json out.json

BLAS runs on ``--threads`` threads (default 1) for both, through threadpoolctl: these
products are small, and on a shared machine a second BLAS thread made both fits 10-20×
slower and their times noise.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sklearn import datasets, neural_network
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from shenjing import sklearn as sj_sklearn

DATASETS = {
    "wine": (datasets.load_wine, "classifier"),
    "breast_cancer": (datasets.load_breast_cancer, "classifier"),
    "diabetes": (datasets.load_diabetes, "regressor"),
    "digits": (datasets.load_digits, "classifier"),
}
SOLVERS = ("adam", "sgd", "lbfgs")


def params(solver: str, max_iter: int, hidden: int, lbfgs_iter: int) -> dict:
    common = dict(hidden_layer_sizes=(hidden,), solver=solver, max_iter=max_iter, random_state=0)
    if solver == "lbfgs":
        # Fewer iterations than epochs: with tol=0, lbfgs runs until its line search
        # fails, after a different number of iterations for each; at 50 both still run.
        return {**common, "max_iter": lbfgs_iter, "tol": 0.0}
    # A learning rate that trains every dataset (scikit-learn's sgd default, 1e-3, barely
    # moves in 200 epochs); the same for both.
    lr = 0.01 if solver == "sgd" else 0.001
    return {**common, "n_iter_no_change": np.inf, "learning_rate_init": lr}


def load(name: str):
    loader, kind = DATASETS[name]
    X, y = loader(return_X_y=True)
    if kind == "regressor":
        y = (y - y.mean()) / y.std()  # both fit the standardised target
    return X, y, kind


def one_fit(module, kind: str, settings: dict, X, y) -> tuple[float, int, float]:
    cls = module.MLPClassifier if kind == "classifier" else module.MLPRegressor
    pipe = make_pipeline(StandardScaler(), cls(**settings))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        pipe.fit(X, y)
        seconds = time.perf_counter() - start
    return seconds, int(pipe[-1].n_iter_), float(pipe.score(X, y))


def run(names, solvers, repeats: int, max_iter: int, hidden: int, lbfgs_iter: int) -> list[dict]:
    rows = []
    for name in names:
        X, y, kind = load(name)
        for solver in solvers:
            settings = params(solver, max_iter, hidden, lbfgs_iter)
            one_fit(sj_sklearn, kind, settings, X[::4], y[::4])  # warm caches and imports
            times = {"sklearn": [], "shenjing": []}
            iters, scores = {}, {}
            for r in range(repeats):
                order = ("sklearn", "shenjing") if r % 2 == 0 else ("shenjing", "sklearn")
                for impl in order:
                    module = neural_network if impl == "sklearn" else sj_sklearn
                    seconds, n_iter, score = one_fit(module, kind, settings, X, y)
                    times[impl].append(seconds)
                    iters[impl], scores[impl] = n_iter, score
            ratios = [a / b for a, b in zip(times["sklearn"], times["shenjing"], strict=True)]
            rows.append(
                {
                    "dataset": name,
                    "rows": int(X.shape[0]),
                    "features": int(X.shape[1]),
                    "solver": solver,
                    "sklearn_s": statistics.median(times["sklearn"]),
                    "shenjing_s": statistics.median(times["shenjing"]),
                    "speedup_median": statistics.median(ratios),
                    "speedup_min": min(ratios),
                    "speedup_max": max(ratios),
                    "n_iter": iters,
                    "train_score": scores,
                }
            )
            print(_line(rows[-1]), flush=True)
    return rows


HEADER = (
    "| dataset | solver | sklearn s | shenjing s | speedup (min–max) | n_iter sk/sj "
    "| train score sk/sj |\n| --- | --- | --- | --- | --- | --- | --- |"
)


def _line(row: dict) -> str:
    it, sc = row["n_iter"], row["train_score"]
    return (
        f"| {row['dataset']} ({row['rows']}×{row['features']}) | {row['solver']} "
        f"| {row['sklearn_s']:.3f} | {row['shenjing_s']:.3f} "
        f"| {row['speedup_median']:.2f}× ({row['speedup_min']:.2f}–{row['speedup_max']:.2f}) "
        f"| {it['sklearn']}/{it['shenjing']} | {sc['sklearn']:.3f}/{sc['shenjing']:.3f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--solvers", nargs="+", default=list(SOLVERS), choices=list(SOLVERS))
    parser.add_argument("--repeats", type=int, default=5, help="paired runs per cell")
    parser.add_argument("--max-iter", type=int, default=200, help="epochs (lbfgs iterations)")
    parser.add_argument("--hidden", type=int, default=100, help="units of the hidden layer")
    parser.add_argument("--lbfgs-iter", type=int, default=50, help="lbfgs iterations")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for both")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    print(HEADER, flush=True)
    with threadpool_limits(args.threads):
        rows = run(
            args.datasets, args.solvers, args.repeats, args.max_iter, args.hidden, args.lbfgs_iter
        )
    if args.json:
        import sklearn

        result = {
            "command": " ".join(["python", *sys.argv]),
            "machine": {
                "python": platform.python_version(),
                "numpy": np.__version__,
                "sklearn": sklearn.__version__,
                "cpu": platform.processor() or platform.machine(),
                "blas_threads": args.threads,
            },
            "results": rows,
        }
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
