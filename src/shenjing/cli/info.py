"""Describe a model file: its network, preprocessing, training metrics and file version.

Works on a model from 'shenjing train' and on any network saved with sj.save (which has
no preprocessing). Nothing is run: the file is read and checked, then described.

Example:
  shenjing info houses.shj
"""

from __future__ import annotations

import argparse
import json

from ..interop import modelfile as io_mod

HELP = "describe a model file: architecture, preprocessing, metrics, version"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a model file (.shj)")


def run(args: argparse.Namespace) -> int:
    net = io_mod.load(args.model)  # checks the whole file first
    # The header is read again only for the fields load does not keep.
    document = io_mod.read_document(args.model)
    print(f"file: {args.model}")
    print(
        f"format: {document['format']} version {document['version']}, written by shenjing "
        f"{document['shenjing_version']}"
    )
    meta = net.metadata
    if meta.get("format") != "shenjing-tabular" or io_mod.nonfinite_parameters(net):
        tabular = meta.get("format") == "shenjing-tabular"
        print(
            "kind: a model trained from a table, which cannot predict (see the warning)"
            if tabular
            else "kind: a network (saved with sj.save; no preprocessing)"
        )
        print(net.summary())
        _warn_nonfinite(net)
        if meta:
            print(f"metadata: {json.dumps(meta, sort_keys=True)[:2000]}")
        return 0
    from ..tabular import TabularModel

    model = TabularModel.load(args.model)
    t = model.training
    print(f"kind: a model trained from a table, tabular version {meta['version']}")
    print(f"target: {model.target!r}, task: {model.task} ({t.get('task_reason', '?')})")
    if model.classes:
        print(f"classes: {', '.join(model.classes)}")
    else:
        print(f"target scaling: mean {model.target_mean:.6g}, std {model.target_std:.6g}")
    print("")
    print(net.summary())
    print("")
    pre = model.preprocessor
    print(
        f"preprocessing: {len(pre.input_names)} columns → {len(pre.feature_names)} inputs, "
        f"missing cells: {pre.missing}"
    )
    for line in pre.describe():
        print(f"  {line}")
    print("")
    keys = ("rows", "train_rows", "validation_rows", "epochs_run", "batch_size", "lr", "seed")
    print("training: " + ", ".join(f"{k} {t[k]}" for k in keys if k in t))
    print(f"  loss {t.get('loss', '?')}, optimizer {t.get('optimizer', '?')}")
    counts_by_part = t.get("class_counts", {})
    # Informational metadata, not checked on loading: show it only if it has its shape.
    if isinstance(counts_by_part, dict):
        for part, counts in counts_by_part.items():
            if isinstance(counts, dict):
                shown = ", ".join(f"{c} {n}" for c, n in counts.items())
                print(f"  {part} rows per class: {shown}")
    m = dict(model.metrics)
    on = m.pop("on", "validation")
    shown = ", ".join(
        f"{k} {'n/a' if v is None else format(v, '.4f') if isinstance(v, float) else v}"
        for k, v in m.items()
    )
    print(f"metrics ({on}): {shown}")
    return 0


def _warn_nonfinite(net) -> None:
    bad = io_mod.nonfinite_parameters(net)
    if bad:
        print(f"warning: {', '.join(bad[:5])} hold NaN or inf: this network predicts NaN")
