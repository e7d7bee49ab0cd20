"""A network for a table: its preprocessing, its task and its target, in one model file.

:meth:`TabularModel.fit` trains a multi-layer perceptron on a frame of raw columns (as
:func:`shenjing.data.csvdata.read_csv` gives them) to predict one of them:

1. the target column is checked, and the task inferred when not given: text or a few
   distinct whole numbers (≤ 20) make a classifier, other numbers a regression;
2. the rows are split into training and validation rows from ``seed``, stratified by
   class for a classifier (each class keeps its share in both parts);
3. a :class:`~shenjing.Preprocessor` learns the feature encoding from the
   training rows; a regression target is standardised with the training rows' mean and
   standard deviation too (the predictions are scaled back);
4. the network (``hidden`` widths, then K class scores or one value) is trained with
   softmax cross-entropy (optionally class-weighted) or a regression loss.

:meth:`TabularModel.save` writes one file in the core format (:func:`shenjing.save`),
holding everything else as JSON metadata, so ``sj.load(path)`` still gives the network;
:meth:`TabularModel.load` checks that metadata field by field.
"""

from ..training.metrics import macro_f1
from .model import TabularModel
from .options import FORMAT, REGRESSION_LOSSES, TASKS, VERSION
from .steps import build_network

__all__ = [
    "FORMAT",
    "REGRESSION_LOSSES",
    "TASKS",
    "VERSION",
    "TabularModel",
    "build_network",
    "macro_f1",
]
