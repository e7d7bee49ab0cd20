"""Export a saved network to ONNX, to run it with onnxruntime or any ONNX runtime.

MODEL is a file written by sj.save or 'shenjing train'. The ONNX graph has one input,
'input' of shape (N, D), and one output, 'output' of shape (N, M): the network's raw
outputs (class scores before softmax, or values), float32 or float64 as the network is.
The batch size N is symbolic. The graph holds the network only: preprocessing that
'shenjing train' keeps in the model file (one-hot encoding, standardisation, target
scaling) is not included.

Example:
  shenjing export model.shj model.onnx --opset 17
"""

from __future__ import annotations

import argparse
import os

from ..interop.modelfile import load
from ._common import CommandError, require

HELP = "export a saved network to an ONNX file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..interop.onnx_export import DEFAULT_OPSET

    parser.add_argument("model", metavar="MODEL", help="model file (sj.save / shenjing train)")
    parser.add_argument("out", metavar="OUT", help="the .onnx file to write")
    parser.add_argument(
        "--opset",
        type=int,
        default=DEFAULT_OPSET,
        metavar="N",
        help=f"ONNX opset to target (default {DEFAULT_OPSET})",
    )


def run(args: argparse.Namespace) -> int:
    onnx = require("onnx", "onnx")
    from ..interop.onnx_export import INPUT_NAME, MIN_OPSET, OUTPUT_NAME, export_onnx

    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= args.opset <= newest:
        raise CommandError(f"--opset must be from {MIN_OPSET} to {newest}, got {args.opset}", 2)
    net = load(args.model)
    export_onnx(net, args.out, opset=args.opset)
    d_in = net.input_features
    d_out = net.output_features(d_in)
    print(
        f"wrote {args.out} ({os.path.getsize(args.out):,} bytes): {net!r}, opset {args.opset}, "
        f"input {INPUT_NAME!r} (N, {d_in}) {net.compute_dtype.name}, "
        f"output {OUTPUT_NAME!r} (N, {d_out})"
    )
    if not args.quiet and "preprocessing" in net.metadata:
        print(
            "note: the ONNX graph holds the network only; feed it the features after this "
            "model's preprocessing (see 'shenjing info'), and read its outputs as raw "
            "scores or standardised values"
        )
    return 0
