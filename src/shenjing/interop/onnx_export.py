"""Export a network to ONNX, to run it where shenjing is not installed.

``sj.export_onnx(net, "model.onnx")`` writes the network as an ONNX graph that
onnxruntime (or any ONNX runtime) evaluates to the same numbers as ``net.predict``:

* one input named ``"input"``, shape ``(N, D)``, and one output named ``"output"``,
  shape ``(N, M)``: the network's raw outputs (scores or logits, as ``predict`` gives
  them; no softmax). ``N`` is symbolic, so any batch size runs;
* element type ``float`` for a float32 network, ``double`` for a float64 one;
* default opset :data:`DEFAULT_OPSET` (17); any opset from :data:`MIN_OPSET` (13) to
  the newest the installed ``onnx`` knows can be asked for.

Each layer becomes standard operators:

* ``Linear``: ``MatMul(x, W)``, then ``Add(·, b)`` when it has a bias;
* ``Maxout``: ``MatMul(x, W as (D, M·k))``, ``Add(b as (M·k,))``, ``Reshape`` to
  (N, M, k) and ``ReduceMax`` over the k pieces (ONNX has no maxout operator);
* ``Sigmoid``, ``Tanh``, ``ReLU``, ``LeakyReLU``, ``ELU``, ``Softplus``, ``Identity``: the
  ONNX operator of that name. For a float64 network, ``LeakyReLU``, ``ELU`` and
  ``Softplus`` are written out in elementary operators (``Where``, ``Exp``, ``Log``…),
  because onnxruntime has no exact double kernel for them;
* ``GELU``: shenjing's tanh form written out, ``x · Sigmoid(2√(2/π)(xc + 0.044715 xc³))``
  with ``xc = Clip(x, -1e5, 1e5)``, in the order :class:`shenjing.GELU` computes it;
* the graph is the network in evaluation mode, what ``predict`` computes: ``Dropout`` is
  an ``Identity``; ``BatchNorm`` is ``(x - running_mean) · (1/√(running_var + eps))``
  then ``· γ + β`` (``Sub``, ``Mul``, ``Mul``, ``Add``, in the layer's order, so the
  rounding is the same); ``LayerNorm`` is ``LayerNormalization`` from opset 17 in float32
  (written out in ``ReduceMean``, ``Sub``, ``Mul``, ``Sqrt``, ``Div`` below it and in
  float64, where onnxruntime's kernel was off by 4e-13); ``Softmax`` is
  ``Softmax`` over the last axis.

Layers are found by their registered name (:func:`shenjing.nn.registry.register_layer`);
a layer type registered elsewhere is exported once a lowering is registered for it with
:func:`register_lowering`, and refused with a :class:`~shenjing.ConfigError` until then.

The graph holds the network only. A model file written by ``shenjing train`` also holds
its preprocessing (one-hot encoding, standardisation, target scaling) in its metadata;
that is *not* in the graph: feed the ONNX model the encoded features, as
``TabularModel.transform`` gives them.

Needs ``onnx`` (``pip install 'shenjing[onnx]'``), imported only when exporting.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ..base.errors import ConfigError, DTypeError, ModelFileError
from ..base.files import atomic_write
from ..network.sequential import Sequential
from ..nn.layer import Layer
from ..nn.registry import layer_type
from .modelfile import load

#: The opset written when none is asked for (supported by onnxruntime ≥ 1.12).
DEFAULT_OPSET = 17
#: The oldest opset offered: Clip takes its bounds as inputs from 11, Reshape accepts
#: -1 and ReduceMax keeps its axes attribute until 17.
MIN_OPSET = 13
#: The graph's input and output names.
INPUT_NAME = "input"
OUTPUT_NAME = "output"

#: A lowering: ``(graph, layer, index, input name) -> output name``.
Lowering = Callable[["_Graph", Any, int, str], str]
# Registered layer type name (shenjing.nn.registry) → its lowering. A registered layer
# with no entry here is refused: ONNX cannot lower it.
_LOWERINGS: dict[str, Lowering] = {}


def register_lowering(name: str) -> Callable[[Lowering], Lowering]:
    """Decorator: the lowering of the registered layer type ``name`` (its class name).

    The function gets the :class:`_Graph` ``g``, the layer, its index ``i`` and the name
    of its input, adds nodes with ``g.node(op, inputs, **attrs)`` and constants with
    ``g.const(f"layers.{i}.<what>", value)``, and returns the name of its output.

    Raises:
        ValueError: ``name`` has a lowering already.
    """

    def add(lower: Lowering) -> Lowering:
        if name in _LOWERINGS:
            raise ValueError(f"ONNX lowering of {name!r} registered twice")
        _LOWERINGS[name] = lower
        return lower

    return add


def export_onnx(
    net: Sequential | Layer | str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    opset: int = DEFAULT_OPSET,
) -> Any:
    """Write ``net`` to ``path`` as an ONNX model, atomically; returns the ``ModelProto``.

    Args:
        net: a :class:`~shenjing.Sequential`, a single layer, or the path of a model
            file written by :func:`shenjing.save` or ``shenjing train`` (its network is
            exported; preprocessing kept in its metadata is not).
        path: the ``.onnx`` file to write; its folder must exist. An existing file is
            replaced only once the new one is complete.
        opset: the ONNX opset, from :data:`MIN_OPSET` to the newest the installed
            ``onnx`` supports. Default :data:`DEFAULT_OPSET`.

    Returns:
        The ``onnx.ModelProto`` written, already checked with
        ``onnx.checker.check_model(model, full_check=True)``.

    Raises:
        ConfigError: a layer type with no ONNX form, or an opset out of range.
        ModelFileError: ``path``'s folder does not exist or ``path`` is a folder, or
            ``net`` names an unreadable model file.
        ImportError: ``onnx`` is not installed (the message says how to install it).

    Example:
        >>> net = sj.Sequential(sj.Linear(4, 8, seed=0), sj.Maxout(8, 3, seed=1))
        >>> model = sj.export_onnx(net, "net.onnx")
        >>> [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
        ['N', 4]
    """
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "exporting to ONNX needs onnx, which is not installed: pip install 'shenjing[onnx]'"
        ) from None
    if isinstance(net, (str, os.PathLike)):
        net = load(net)
    elif isinstance(net, Layer) and not isinstance(net, Sequential):
        net = Sequential(net)
    elif not isinstance(net, Sequential):
        raise DTypeError(
            f"net must be a shenjing Sequential, a layer or a model file path, got "
            f"{type(net).__name__}"
        )
    opset = _check_opset(opset, onnx.defs.onnx_opset_version())
    model = _build_model(onnx, net, opset)
    onnx.checker.check_model(model, full_check=True)
    data = model.SerializeToString()
    atomic_write(path, lambda f: f.write(data), error=ModelFileError)
    return model


def _check_opset(opset: Any, newest: int) -> int:
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)):
        raise ConfigError(f"opset must be an integer, got {opset!r}")
    if not MIN_OPSET <= opset <= newest:
        raise ConfigError(
            f"opset must be from {MIN_OPSET} to {newest} (the newest this onnx supports), "
            f"got {opset}"
        )
    return int(opset)


class _Graph:
    """Collects nodes and initializers; names every value uniquely."""

    def __init__(self, onnx: Any, dtype: np.dtype, opset: int) -> None:
        self.onnx, self.dtype, self.opset = onnx, dtype, opset
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def const(self, name: str, value: Any, dtype: Any = None) -> str:
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        self._count += 1
        output = output or f"t{self._count}_{op}"
        self.nodes.append(
            self.onnx.helper.make_node(op, inputs, [output], name=f"n{self._count}_{op}", **attrs)
        )
        return output


def _build_model(onnx: Any, net: Sequential, opset: int) -> Any:
    from ..base.version import __version__  # not at the top: the package imports this module

    dtype = net.compute_dtype
    g = _Graph(onnx, dtype, opset)
    x = INPUT_NAME
    for i, layer in enumerate(net.layers):
        x = _layer(g, layer, i, x)
    # The output gets its name from a last Identity, so any layer can come last.
    g.node("Identity", [x], OUTPUT_NAME)

    elem = onnx.helper.np_dtype_to_tensor_dtype(dtype)
    d_in = net.input_features
    d_out = net.output_features(d_in)
    graph = onnx.helper.make_graph(
        g.nodes,
        "shenjing",
        [onnx.helper.make_tensor_value_info(INPUT_NAME, elem, ["N", d_in or "D"])],
        [onnx.helper.make_tensor_value_info(OUTPUT_NAME, elem, ["N", d_out or "D"])],
        initializer=g.initializers,
        doc_string=repr(net),
    )
    opsets = [onnx.helper.make_opsetid("", opset)]
    model = onnx.helper.make_model(
        graph,
        opset_imports=opsets,
        producer_name="shenjing",
        producer_version=__version__,
        doc_string=(
            f"{net!r}: input {INPUT_NAME!r} (N, {d_in or 'D'}), output {OUTPUT_NAME!r} "
            f"(N, {d_out or 'D'}), raw network outputs; preprocessing is not included."
        ),
    )
    # The oldest IR version that can carry this opset, so older runtimes load the file.
    model.ir_version = onnx.helper.find_min_ir_version_for(opsets)
    return model


def _layer(g: _Graph, layer: Layer, i: int, x: str) -> str:
    """Lower one layer, found by its exact class's registered name."""
    entry = layer_type(layer)
    lower = None if entry is None else _LOWERINGS.get(entry.name)
    if lower is None:
        if entry is None:
            why = f"{type(layer).__name__} is not a registered layer type"
        else:
            why = (
                f"{entry.name} is a registered layer type, but ONNX cannot lower it: "
                f"it has no ONNX lowering"
            )
        raise ConfigError(
            f"layer {i} ({layer!r}) has no ONNX form; exportable layers: "
            f"{', '.join(sorted(_LOWERINGS))} ({why})"
        )
    return lower(g, layer, i, x)


@register_lowering("Linear")
def _linear(g: _Graph, layer: Any, i: int, x: str) -> str:
    x = g.node("MatMul", [x, g.const(f"layers.{i}.W", layer.W)])
    if layer.bias:
        x = g.node("Add", [x, g.const(f"layers.{i}.b", layer.b)])
    return x


@register_lowering("Maxout")
def _maxout(g: _Graph, layer: Any, i: int, x: str) -> str:
    d, m, k = layer.in_features, layer.out_features, layer.pieces
    x = g.node("MatMul", [x, g.const(f"layers.{i}.W", layer.W.reshape(d, m * k))])
    if layer.bias:
        x = g.node("Add", [x, g.const(f"layers.{i}.b", layer.b.reshape(m * k))])
    x = g.node("Reshape", [x, g.const(f"layers.{i}.shape", [-1, m, k], np.int64)])
    if g.opset >= 18:  # the axes became an input in opset 18
        axes = g.const(f"layers.{i}.axes", [2], np.int64)
        return g.node("ReduceMax", [x, axes], keepdims=0)
    return g.node("ReduceMax", [x], axes=[2], keepdims=0)


def _simple(op: str) -> Lowering:
    """An activation that is one ONNX operator of the same meaning."""

    def lower(g: _Graph, layer: Any, i: int, x: str) -> str:
        return g.node(op, [x])

    return lower


_ONE_OPERATOR = {"Sigmoid": "Sigmoid", "Tanh": "Tanh", "ReLU": "Relu", "Identity": "Identity"}
for _name, _op in _ONE_OPERATOR.items():
    register_lowering(_name)(_simple(_op))
del _name, _op

# onnxruntime has no double kernel for Elu and Softplus, and its LeakyRelu is not exact
# in double (errors of 1e-6 seen): a float64 network gets these three written out in
# operators onnxruntime runs in double.


@register_lowering("LeakyReLU")
def _leaky_relu(g: _Graph, layer: Any, i: int, x: str) -> str:
    if g.dtype == np.float64:  # x if x > 0 else slope · x
        slope = g.node("Mul", [x, g.const(f"layers.{i}.negative_slope", layer.negative_slope)])
        return g.node("Where", [_positive(g, i, x), x, slope])
    return g.node("LeakyRelu", [x], alpha=layer.negative_slope)


@register_lowering("ELU")
def _elu(g: _Graph, layer: Any, i: int, x: str) -> str:
    if g.dtype == np.float64:  # x if x > 0 else alpha · (e^min(x, 0) - 1)
        t = g.node("Min", [x, g.const(f"layers.{i}.zero", 0.0)])
        t = g.node("Exp", [t])
        t = g.node("Sub", [t, g.const(f"layers.{i}.one", 1.0)])
        t = g.node("Mul", [t, g.const(f"layers.{i}.alpha", layer.alpha)])
        return g.node("Where", [_positive(g, i, x), x, t])
    return g.node("Elu", [x], alpha=layer.alpha)


@register_lowering("Softplus")
def _softplus(g: _Graph, layer: Any, i: int, x: str) -> str:
    if g.dtype == np.float64:  # max(x, 0) + log(1 + e^-|x|), overflow-free
        t = g.node("Exp", [g.node("Neg", [g.node("Abs", [x])])])
        t = g.node("Log", [g.node("Add", [t, g.const(f"layers.{i}.one", 1.0)])])
        return g.node("Add", [g.node("Relu", [x]), t])
    return g.node("Softplus", [x])


def _positive(g: _Graph, i: int, x: str) -> str:
    """The boolean mask x > 0 (the ReLU family's branch; 0 takes the x ≤ 0 side)."""
    return g.node("Greater", [x, g.const(f"layers.{i}.zero_mask", 0.0)])


@register_lowering("GELU")
def _gelu(g: _Graph, layer: Any, i: int, x: str) -> str:
    """x · σ(2u), u = √(2/π)(xc + 0.044715 xc³), in GELU._sigmoid_2u's order of operations."""
    from ..nn.activations import _GELU_A, _GELU_CLIP, _GELU_K

    low = g.const(f"layers.{i}.clip_low", -_GELU_CLIP)
    high = g.const(f"layers.{i}.clip_high", _GELU_CLIP)
    xc = g.node("Clip", [x, low, high])
    t = g.node("Mul", [xc, xc])
    t = g.node("Mul", [t, g.const(f"layers.{i}.a", _GELU_A)])
    t = g.node("Add", [t, g.const(f"layers.{i}.one", 1.0)])
    t = g.node("Mul", [t, xc])
    t = g.node("Mul", [t, g.const(f"layers.{i}.two_k", 2 * _GELU_K)])
    s = g.node("Sigmoid", [t])
    return g.node("Mul", [x, s])


@register_lowering("Dropout")
def _dropout(g: _Graph, layer: Any, i: int, x: str) -> str:
    return g.node("Identity", [x])  # inverted dropout: evaluation mode is the identity


@register_lowering("BatchNorm")
def _batchnorm(g: _Graph, layer: Any, i: int, x: str) -> str:
    """Evaluation mode: x̂ = (x - running_mean) · (1 / √(running_var + eps)), y = γ x̂ + β."""
    inv_std = 1 / np.sqrt(layer.running_var + layer.eps)  # as BatchNorm computes it
    x = g.node("Sub", [x, g.const(f"layers.{i}.running_mean", layer.running_mean)])
    x = g.node("Mul", [x, g.const(f"layers.{i}.inv_std", inv_std)])
    return _affine(g, layer, i, x)


@register_lowering("LayerNorm")
def _layernorm(g: _Graph, layer: Any, i: int, x: str) -> str:
    if g.opset >= 17 and g.dtype == np.float32:  # onnxruntime's double kernel is not exact
        ones, zeros = np.ones(layer.features), np.zeros(layer.features)
        gamma = layer.params["gamma"] if layer.affine else ones
        beta = layer.params["beta"] if layer.affine else zeros
        scale, bias = g.const(f"layers.{i}.gamma", gamma), g.const(f"layers.{i}.beta", beta)
        return g.node("LayerNormalization", [x, scale, bias], axis=-1, epsilon=layer.eps)
    # Opsets 13-16, and float64: (x - μ) / √(σ² + eps) along the features, σ² biased.
    mean = _row_mean(g, i, x)
    centred = g.node("Sub", [x, mean])
    var = _row_mean(g, i, g.node("Mul", [centred, centred]))
    std = g.node("Sqrt", [g.node("Add", [var, g.const(f"layers.{i}.eps", layer.eps)])])
    return _affine(g, layer, i, g.node("Div", [centred, std]))


def _row_mean(g: _Graph, i: int, x: str) -> str:
    """The mean of each row, kept as a (N, 1) column."""
    if g.opset >= 18:  # the axes became an input in opset 18
        axes = f"layers.{i}.axes"
        if not any(t.name == axes for t in g.initializers):
            g.const(axes, [1], np.int64)
        return g.node("ReduceMean", [x, axes], keepdims=1)
    return g.node("ReduceMean", [x], axes=[1], keepdims=1)


def _affine(g: _Graph, layer: Any, i: int, x: str) -> str:
    """γ · x̂ + β of a normalisation layer (nothing without affine parameters)."""
    if not layer.affine:
        return x
    x = g.node("Mul", [x, g.const(f"layers.{i}.gamma", layer.params["gamma"])])
    return g.node("Add", [x, g.const(f"layers.{i}.beta", layer.params["beta"])])


@register_lowering("Softmax")
def _softmax(g: _Graph, layer: Any, i: int, x: str) -> str:
    return g.node("Softmax", [x], axis=-1)


__all__ = [
    "DEFAULT_OPSET",
    "INPUT_NAME",
    "MIN_OPSET",
    "OUTPUT_NAME",
    "Lowering",
    "export_onnx",
    "register_lowering",
]
