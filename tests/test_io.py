"""Tests of the model file format: round trips, atomic writes and hostile files."""

from __future__ import annotations

import io
import json
import os
import pathlib
import pickle
import struct
import warnings
import zipfile

import numpy as np
import pytest
from shenjing.activations import ACTIVATIONS

import shenjing as sj
from shenjing.interop.modelfile import LAYER_TYPES

# -- helpers ------------------------------------------------------------------------


def small_net(dtype: str = "float32") -> sj.Sequential:
    net = sj.Sequential(
        sj.Linear(2, 3, seed=0, dtype=dtype), sj.Tanh(), sj.Linear(3, 1, seed=1, dtype=dtype)
    )
    # Non-zero biases, so a flipped bias bit changes the model.
    for layer in net.layers:
        if "b" in layer.params:
            layer.params["b"][...] = np.arange(1, layer.params["b"].size + 1) / 7
    return net


def assert_same_network(a: sj.Sequential, b: sj.Sequential) -> None:
    assert [type(layer) for layer in a] == [type(layer) for layer in b]
    for la, lb in zip(a, b, strict=True):
        assert la.get_config() == lb.get_config()
        assert list(la.params) == list(lb.params)
        for name, value in la.params.items():
            other = lb.params[name]
            assert (value.dtype, value.shape) == (other.dtype, other.shape)
            assert value.tobytes() == other.tobytes(), f"{la!r}.{name} differs"
        state_a, state_b = la.persistent_state(), lb.persistent_state()
        assert list(state_a) == list(state_b)
        assert all(state_a[k].tobytes() == state_b[k].tobytes() for k in state_a)
        assert la.rng_state == lb.rng_state
    assert a.metadata == b.metadata


def read_members(path: pathlib.Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def write_members(
    path: pathlib.Path, members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names, made on purpose
        with zipfile.ZipFile(path, "w", compression) as zf:
            for name, data in members:
                zf.writestr(name, data)


def edit_document(path: pathlib.Path, change) -> None:
    """Rewrite ``shenjing.json`` as ``change(doc)`` returns it (or ``doc``, changed in place)."""
    members = read_members(path)
    doc = json.loads(dict(members)["shenjing.json"])
    new = change(doc)
    new = doc if new is None else new
    text = new if isinstance(new, bytes) else json.dumps(new).encode()
    write_members(path, [(n, text if n == "shenjing.json" else d) for n, d in members])


def replace_member(path: pathlib.Path, name: str, data: bytes) -> None:
    members = read_members(path)
    assert name in dict(members)
    write_members(path, [(n, data if n == name else d) for n, d in members])


def npy_bytes(array: np.ndarray, **kwargs) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, **kwargs)
    return buf.getvalue()


def central_entry(data: bytes, name: str) -> int:
    """Offset of ``name``'s central directory header in a ZIP file's bytes."""
    start = data.rindex(b"PK\x05\x06")  # end of central directory record
    offset = struct.unpack_from("<I", data, start + 16)[0]
    while data[offset : offset + 4] == b"PK\x01\x02":
        n_name, n_extra, n_comment = struct.unpack_from("<HHH", data, offset + 28)
        if data[offset + 46 : offset + 46 + n_name] == name.encode():
            return offset
        offset += 46 + n_name + n_extra + n_comment
    raise AssertionError(f"no member {name}")


def member_data_ranges(data: bytes) -> list[tuple[int, int]]:
    """Byte ranges of every member's stored data."""
    ranges = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            n_name, n_extra = struct.unpack_from("<HH", data, info.header_offset + 26)
            start = info.header_offset + 30 + n_name + n_extra
            ranges.append((start, start + info.compress_size))
    return ranges


class Touch:
    """Unpickling this creates ``path``: the proof that a pickle was run."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path

    def __reduce__(self):
        return (pathlib.Path.touch, (self.path,))


@pytest.fixture
def model_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "model.shj"
    sj.save(small_net(), path)
    return path


# -- round trips ----------------------------------------------------------------------


def _layer_cases():
    def with_linear(make):
        return lambda dt: [sj.Linear(3, 4, seed=1, dtype=dt), make()]

    cases = {
        "Linear": lambda dt: [sj.Linear(3, 4, seed=1, dtype=dt)],
        "Linear-no-bias": lambda dt: [sj.Linear(3, 4, bias=False, seed=1, dtype=dt)],
        "Maxout-2": lambda dt: [sj.Maxout(3, 4, pieces=2, seed=1, dtype=dt)],
        "Maxout-3": lambda dt: [sj.Maxout(3, 4, pieces=3, seed=1, dtype=dt)],
        "Maxout-3-no-bias": lambda dt: [sj.Maxout(3, 4, pieces=3, bias=False, seed=1, dtype=dt)],
        "LeakyReLU-0.2": with_linear(lambda: sj.LeakyReLU(negative_slope=0.2)),
        "ELU-0.5": with_linear(lambda: sj.ELU(alpha=0.5)),
        "BatchNorm": lambda dt: [
            sj.Linear(3, 4, seed=1, dtype=dt),
            sj.BatchNorm(4, momentum=0.3, eps=1e-3, dtype=dt),
        ],
        "BatchNorm-no-affine": lambda dt: [
            sj.Linear(3, 4, seed=1, dtype=dt),
            sj.BatchNorm(4, affine=False, dtype=dt),
        ],
        "LayerNorm": lambda dt: [sj.Linear(3, 4, seed=1, dtype=dt), sj.LayerNorm(4, dtype=dt)],
        "LayerNorm-no-affine": lambda dt: [
            sj.Linear(3, 4, seed=1, dtype=dt),
            sj.LayerNorm(4, eps=1e-3, affine=False, dtype=dt),
        ],
        "Dropout": with_linear(lambda: sj.Dropout(0.25, seed=3)),
        "Softmax": with_linear(sj.Softmax),
    }
    for name in ACTIVATIONS.names():
        cls = ACTIVATIONS.get(name)
        cases[cls.__name__] = with_linear(cls)
    return cases


LAYER_CASES = _layer_cases()


def shenjing_layer_types() -> dict[str, type]:
    """LAYER_TYPES less the layers that test modules register (test_layer_registry.py)."""
    ours = {n: cls for n, cls in LAYER_TYPES.items() if cls.__module__.startswith("shenjing.")}
    from_tests = {cls.__module__ for n, cls in LAYER_TYPES.items() if n not in ours}
    assert all(m.rsplit(".", 1)[-1].startswith("test_") for m in from_tests), from_tests
    return ours


def test_layer_cases_cover_every_layer_type():
    built = {type(layer).__name__ for make in LAYER_CASES.values() for layer in make("float32")}
    assert built == set(shenjing_layer_types())


def test_layer_types_are_the_fixed_table():
    activations = {ACTIVATIONS.get(name) for name in ACTIVATIONS.names()}
    others = {sj.BatchNorm, sj.Dropout, sj.LayerNorm, sj.Softmax}
    assert set(shenjing_layer_types().values()) == {sj.Linear, sj.Maxout, *others, *activations}
    assert all(LAYER_TYPES[name].__name__ == name for name in LAYER_TYPES)
    with pytest.raises(TypeError):
        LAYER_TYPES["System"] = os.system  # type: ignore[index]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(LAYER_CASES))
def test_round_trip_is_bit_exact(tmp_path, rng, case, dtype):
    net = sj.Sequential(*LAYER_CASES[case](dtype), sj.Linear(4, 2, seed=2, dtype=dtype))
    # Random bit patterns: NaNs with payloads, infinities, -0.0 and subnormals included.
    for _, value, _ in net.parameters():
        value[...] = np.frombuffer(rng.bytes(value.nbytes), value.dtype).reshape(value.shape)
    sj.save(net, tmp_path / "m.shj")
    loaded = sj.load(tmp_path / "m.shj")
    assert_same_network(net, loaded)
    assert loaded.dtype == np.dtype(dtype)
    assert loaded.metadata == {} and loaded.loss is None

    # Ordinary weights, so that the predictions are numbers worth comparing.
    for _, value, _ in net.parameters():
        value[...] = rng.normal(size=value.shape)
    sj.save(net, tmp_path / "m.shj")
    loaded = sj.load(tmp_path / "m.shj")
    x = rng.normal(size=(7, 3))
    expected = net.predict(x)
    assert np.isfinite(expected).all()
    assert loaded.predict(x).tobytes() == expected.tobytes()


def test_network_of_activations_only_round_trips(tmp_path):
    net = sj.Sequential(sj.ReLU(), sj.ELU(alpha=0.5))
    sj.save(net, tmp_path / "m.shj")
    loaded = sj.load(tmp_path / "m.shj")
    assert_same_network(net, loaded)
    assert [layer.alpha for layer in loaded.layers[1:]] == [0.5]


def test_a_single_layer_is_saved_as_a_network_of_one(tmp_path):
    layer = sj.Maxout(2, 3, pieces=3, seed=4)
    sj.save(layer, tmp_path / "m.shj")
    loaded = sj.load(tmp_path / "m.shj")
    assert isinstance(loaded, sj.Sequential) and len(loaded) == 1
    assert_same_network(sj.Sequential(layer), loaded)


def test_str_and_pathlike_paths(tmp_path):
    net = small_net()
    sj.save(net, str(tmp_path / "a.shj"))
    sj.save(net, tmp_path / "b.shj")
    assert (tmp_path / "a.shj").read_bytes() == (tmp_path / "b.shj").read_bytes()
    assert_same_network(net, sj.load(str(tmp_path / "b.shj")))


def test_metadata_round_trips(tmp_path):
    meta = {
        "epochs": 200,
        "lr": 0.002,
        "classes": ["nein", "ja", "是"],
        "note": None,
        "nested": {"ok": True, "sizes": [1, 2.5, -3e-300]},
    }
    net = small_net()
    net.metadata = {"from": "net"}
    sj.save(net, tmp_path / "given.shj", metadata=meta)
    sj.save(net, tmp_path / "default.shj")
    assert sj.load(tmp_path / "given.shj").metadata == meta
    assert sj.load(tmp_path / "default.shj").metadata == {"from": "net"}
    assert net.metadata == {"from": "net"}  # save does not change the network


def test_loaded_network_trains_like_the_original(tmp_path, rng):
    x = rng.normal(size=(64, 3))
    y = np.sin(x).sum(axis=1, keepdims=True)
    net = sj.Sequential(
        sj.Linear(3, 8, seed=0), sj.Tanh(), sj.Maxout(8, 4, pieces=2, seed=1), sj.Linear(4, 1)
    )
    net.fit(x, y, loss="mse", optimizer=sj.Adam(lr=0.01), epochs=2, seed=0)
    sj.save(net, tmp_path / "m.shj")
    copy = sj.load(tmp_path / "m.shj")
    before = net.layers[0].W.copy()
    histories = [
        n.fit(
            x,
            y,
            loss="mse",
            optimizer=sj.SGD(lr=0.05, momentum=0.9),
            epochs=3,
            batch_size=16,
            seed=1,
        )
        for n in (net, copy)
    ]
    assert not np.array_equal(net.layers[0].W, before)  # it did train
    assert_same_network(net, copy)
    assert histories[0].loss == histories[1].loss
    assert net.predict(x).tobytes() == copy.predict(x).tobytes()


# -- the documented format ----------------------------------------------------------------


def test_file_layout_matches_the_documentation(tmp_path):
    net = sj.Sequential(sj.Linear(2, 3, seed=0), sj.LeakyReLU(0.2), sj.Linear(3, 1, bias=False))
    sj.save(net, tmp_path / "m.shj", metadata={"task": "xor"})
    with zipfile.ZipFile(tmp_path / "m.shj") as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == [
            "shenjing.json",
            "params/0.W.npy",
            "params/0.b.npy",
            "params/2.W.npy",
        ]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos)
        doc = json.loads(zf.read("shenjing.json").decode("utf-8"))
        assert doc == {
            "format": "shenjing-model",
            "version": 1,
            "shenjing_version": sj.__version__,
            "dtype": "float32",
            "layers": [
                {
                    "type": "Linear",
                    "config": {
                        "in_features": 2,
                        "out_features": 3,
                        "bias": True,
                        "init": "xavier",
                        "dtype": "float32",
                    },
                    "params": {
                        "W": {"shape": [2, 3], "dtype": "float32"},
                        "b": {"shape": [3], "dtype": "float32"},
                    },
                },
                {"type": "LeakyReLU", "config": {"negative_slope": 0.2}, "params": {}},
                {
                    "type": "Linear",
                    "config": {
                        "in_features": 3,
                        "out_features": 1,
                        "bias": False,
                        "init": "xavier",
                        "dtype": "float32",
                    },
                    "params": {"W": {"shape": [3, 1], "dtype": "float32"}},
                },
            ],
            "metadata": {"task": "xor"},
        }
        raw = zf.read("params/0.W.npy")
    assert raw.startswith(b"\x93NUMPY\x01\x00")
    header_len = struct.unpack_from("<H", raw, 8)[0]
    header = raw[10 : 10 + header_len].decode("ascii")
    assert "'descr': '<f4'" in header and "'fortran_order': False" in header
    assert "'shape': (2, 3)" in header
    data = raw[10 + header_len :]
    assert data == net.layers[0].W.astype("<f4").tobytes()


def test_same_network_gives_the_same_bytes(tmp_path):
    sj.save(small_net(), tmp_path / "a.shj")
    sj.save(small_net(), tmp_path / "b.shj")
    assert (tmp_path / "a.shj").read_bytes() == (tmp_path / "b.shj").read_bytes()


def test_big_endian_parameters_are_stored_little_endian(tmp_path):
    net = small_net("float64")
    expected = [p.value.copy() for p in net.parameters()]
    for layer in net.layers:
        for name in layer.params:
            layer.params[name] = layer.params[name].astype(">f8")
    sj.save(net, tmp_path / "m.shj")
    with zipfile.ZipFile(tmp_path / "m.shj") as zf:
        assert b"'descr': '<f8'" in zf.read("params/0.W.npy")
    loaded = sj.load(tmp_path / "m.shj")
    for want, got in zip(expected, loaded.parameters(), strict=True):
        assert got.value.tobytes() == want.tobytes()


# -- saving: errors and atomicity ---------------------------------------------------------


@pytest.mark.parametrize(
    "metadata",
    [
        {"loss": float("nan")},
        {"loss": float("inf")},
        {"nested": [1, {"x": -float("inf")}]},
        {"optimizer": sj.SGD()},
        {"weights": np.zeros(3)},
        {"n": np.int64(3)},
        ["not", "a", "dict"],
        "text",
    ],
    ids=["nan", "inf", "nested-inf", "object", "array", "numpy-int", "list", "str"],
)
def test_metadata_that_is_not_json_is_refused_before_writing(tmp_path, metadata):
    with pytest.raises(sj.ConfigError, match="metadata"):
        sj.save(small_net(), tmp_path / "m.shj", metadata=metadata)
    assert list(tmp_path.iterdir()) == []


def test_circular_metadata_is_refused(tmp_path):
    meta: dict = {}
    meta["self"] = meta
    net = small_net()
    net.metadata = meta
    with pytest.raises(sj.ConfigError, match="metadata"):
        sj.save(net, tmp_path / "m.shj")
    assert list(tmp_path.iterdir()) == []


def test_bad_metadata_leaves_an_existing_file_alone(model_file):
    before = model_file.read_bytes()
    with pytest.raises(sj.ConfigError, match="metadata"):
        sj.save(small_net("float64"), model_file, metadata={"x": float("nan")})
    assert model_file.read_bytes() == before
    assert [p.name for p in model_file.parent.iterdir()] == ["model.shj"]


class Linear(sj.Linear):
    """A subclass with the name of a registered class: still not storable."""


@pytest.mark.parametrize(
    "make",
    [
        lambda: sj.Neuron([1.0, 2.0]),
        lambda: sj.Sequential(sj.ReLU(), sj.Sequential(sj.Linear(2, 2))),
        lambda: sj.Sequential(Linear(2, 2)),
        lambda: Linear(2, 2),
    ],
    ids=["Neuron", "nested-Sequential", "subclass", "single-subclass"],
)
def test_layers_outside_the_table_are_refused(tmp_path, make):
    with pytest.raises(sj.ConfigError, match="cannot store"):
        sj.save(make(), tmp_path / "m.shj")
    assert list(tmp_path.iterdir()) == []


def test_saving_something_else_is_a_type_error(tmp_path):
    with pytest.raises(sj.DTypeError, match="net"):
        sj.save([sj.Linear(2, 2)], tmp_path / "m.shj")


def test_mixed_dtypes_are_refused(tmp_path):
    net = small_net()
    net.layers[2].astype("float64")
    with pytest.raises(sj.DTypeError, match="float64"):
        sj.save(net, tmp_path / "m.shj")
    assert list(tmp_path.iterdir()) == []


def test_saving_into_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(sj.ModelFileError, match="does not exist"):
        sj.save(small_net(), tmp_path / "missing" / "m.shj")
    assert list(tmp_path.iterdir()) == []


def test_saving_onto_a_folder_is_refused(tmp_path):
    (tmp_path / "m.shj").mkdir()
    with pytest.raises(sj.ModelFileError, match="folder"):
        sj.save(small_net(), tmp_path / "m.shj")
    assert [p.name for p in tmp_path.iterdir()] == ["m.shj"]


def test_save_replaces_an_existing_file_and_leaves_no_temporary(model_file):
    net = small_net("float64")
    sj.save(net, model_file, metadata={"v": 2})
    assert [p.name for p in model_file.parent.iterdir()] == ["model.shj"]
    loaded = sj.load(model_file)
    assert loaded.dtype == np.float64 and loaded.metadata == {"v": 2}


def test_the_temporary_file_is_written_beside_the_target(model_file, monkeypatch):
    seen = []
    write_array = np.lib.format.write_array

    def spy(*args, **kwargs):
        seen.append(sorted(p.name for p in model_file.parent.iterdir()))
        return write_array(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", spy)
    sj.save(small_net(), model_file)
    names = seen[0]
    assert len(names) == 2 and "model.shj" in names
    temp = next(n for n in names if n != "model.shj")
    assert temp.startswith(".model.shj.") and temp.endswith(".tmp")


class Interrupt(BaseException):
    """Stands for KeyboardInterrupt: not an Exception, so ``except Exception`` misses it."""


@pytest.mark.parametrize("error", [OSError("disk full"), Interrupt()], ids=["OSError", "Interrupt"])
@pytest.mark.parametrize("where", ["write_array", "replace"])
def test_a_failed_save_leaves_the_old_file_untouched(model_file, monkeypatch, error, where):
    before = model_file.read_bytes()

    def fail(fp, *args, **kwargs):
        if where == "write_array":
            fp.write(b"half an array")
        raise error

    if where == "write_array":
        monkeypatch.setattr(np.lib.format, "write_array", fail)
    else:
        monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(type(error)):
        sj.save(small_net("float64"), model_file, metadata={"new": True})
    monkeypatch.undo()
    assert model_file.read_bytes() == before
    assert [p.name for p in model_file.parent.iterdir()] == ["model.shj"]


def test_a_failed_first_save_leaves_no_file(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", fail)
    with pytest.raises(OSError, match="disk full"):
        sj.save(small_net(), tmp_path / "m.shj")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_permissions_are_those_of_a_plain_open(tmp_path):
    umask = os.umask(0o022)
    try:
        sj.save(small_net(), tmp_path / "m.shj")
        assert (tmp_path / "m.shj").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0o600
        (tmp_path / "m.shj").chmod(0o640)
        sj.save(small_net(), tmp_path / "m.shj")
        assert (tmp_path / "m.shj").stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(umask)


# -- loading bad files ----------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(sj.ModelFileError, match="No such file") as info:
        sj.load(tmp_path / "nothing.shj")
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_a_folder(tmp_path):
    with pytest.raises(sj.ModelFileError) as info:
        sj.load(tmp_path)
    assert isinstance(info.value.__cause__, OSError)


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00", b"hello, world\n", b"PK\x05\x06" + b"\x00" * 18, b"PK\x03\x04" * 100],
    ids=["empty", "nul", "text", "empty-zip", "zip-magic"],
)
def test_not_a_model_file(tmp_path, content):
    (tmp_path / "m.shj").write_bytes(content)
    with pytest.raises(sj.ModelFileError) as info:
        sj.load(tmp_path / "m.shj")
    assert "m.shj" in str(info.value)


def test_every_truncation_is_refused(model_file):
    data = model_file.read_bytes()
    for length in range(len(data)):
        model_file.write_bytes(data[:length])
        with pytest.raises(sj.ModelFileError):
            sj.load(model_file)


def test_single_bit_flips_are_refused_or_harmless(model_file):
    data = model_file.read_bytes()
    original = sj.load(model_file)
    checked = [range(a, b) for a, b in member_data_ranges(data)]
    harmless = tried = 0
    for position in range(len(data)):
        must_fail = any(position in r for r in checked)
        # Half the bits of each byte of the ZIP structure (odd or even, alternately); in
        # the members' data, where the CRC-32 catches any single flip, one bit a byte.
        for bit in [position % 8] if must_fail else range(position % 2, 8, 2):
            flipped = bytearray(data)
            flipped[position] ^= 1 << bit
            model_file.write_bytes(flipped)
            tried += 1
            try:
                loaded = sj.load(model_file)
            except sj.ModelFileError:
                continue
            assert not must_fail, f"flip at byte {position}, bit {bit} went unnoticed"
            assert_same_network(original, loaded)
            harmless += 1
    # Timestamps, "version made by", the local headers' copies of the sizes and CRC:
    # zipfile ignores them. Everything else is checked.
    assert harmless < tried // 3


def test_a_flip_in_the_json_or_the_arrays_is_caught_by_the_crc(model_file):
    data = model_file.read_bytes()
    ranges = member_data_ranges(data)
    assert len(ranges) == 5  # the json and four arrays
    for start, end in ranges:
        flipped = bytearray(data)
        flipped[(start + end) // 2] ^= 0x10
        model_file.write_bytes(flipped)
        with pytest.raises(sj.ModelFileError, match="CRC"):
            sj.load(model_file)


def _bump(key, value):
    def change(doc):
        doc[key] = value

    return change


def _layer(i, key, value):
    def change(doc):
        doc["layers"][i][key] = value

    return change


def _config(i, key, value):
    def change(doc):
        doc["layers"][i]["config"][key] = value

    return change


def _param(i, name, key, value):
    def change(doc):
        doc["layers"][i]["params"][name][key] = value

    return change


def _delete(*keys):
    def change(doc):
        obj = doc
        for key in keys[:-1]:
            obj = obj[key]
        del obj[keys[-1]]

    return change


DOCUMENT_CHANGES = {
    "list": (lambda doc: [doc], "format"),
    "string": (lambda doc: "shenjing-model", "format"),
    "null": (lambda doc: b"null", "format"),
    "other-format": (_bump("format", "keras-model"), "not a model file"),
    "no-format": (_delete("format"), "not a model file"),
    "newer-version": (_bump("version", 3), r"version 3 .*versions \[1, 2\]"),
    "version-0": (_bump("version", 0), r"versions \[1, 2\]"),
    "version-string": (_bump("version", "1"), r"versions \[1, 2\]"),
    "version-true": (_bump("version", True), r"versions \[1, 2\]"),
    "version-float": (_bump("version", 1.0), r"versions \[1, 2\]"),
    "no-version": (_delete("version"), r"versions \[1, 2\]"),
    "no-shenjing-version": (_delete("shenjing_version"), "missing keys"),
    "no-dtype": (_delete("dtype"), "missing keys"),
    "no-layers": (_delete("layers"), "missing keys"),
    "no-metadata": (_delete("metadata"), "missing keys"),
    "extra-key": (_bump("pickle", "cos\nsystem\n"), "unexpected keys"),
    "shenjing-version-int": (_bump("shenjing_version", 1), "must be a string"),
    "dtype-float16": (_bump("dtype", "float16"), "float16"),
    "dtype-object": (_bump("dtype", "object"), "object"),
    "layers-object": (_bump("layers", {}), "must be an array"),
    "layers-empty": (_bump("layers", []), "empty"),
    "metadata-list": (_bump("metadata", []), "must be an object"),
    "layer-string": (lambda doc: doc["layers"].__setitem__(1, "Tanh"), "must be a JSON object"),
    "layer-no-config": (_delete("layers", 1, "config"), "missing keys"),
    "layer-extra-key": (_layer(1, "module", "os"), "unexpected keys"),
    "type-os.system": (_layer(1, "type", "os.system"), "unknown layer type 'os.system'"),
    "type-__import__": (_layer(1, "type", "__import__"), "unknown layer type"),
    "type-eval": (_layer(1, "type", "builtins.eval"), "unknown layer type"),
    "type-lowercase": (_layer(1, "type", "tanh"), "unknown layer type"),
    "type-Sequential": (_layer(1, "type", "Sequential"), "unknown layer type"),
    "type-Layer": (_layer(1, "type", "Layer"), "unknown layer type"),
    "type-Neuron": (_layer(1, "type", "Neuron"), "unknown layer type"),
    "type-int": (_layer(1, "type", 7), "must be a string"),
    "config-list": (_layer(0, "config", [2, 3]), "must be an object"),
    "config-unknown-key": (_config(0, "evil", 1), "cannot build Linear"),
    "config-negative": (_config(0, "in_features", -2), "cannot build Linear"),
    "config-string": (_config(0, "in_features", "2"), "cannot build Linear"),
    "config-init": (_config(0, "init", "os.system"), "cannot build Linear"),
    "config-dtype": (_config(0, "dtype", "float64"), "needs float64"),
    "config-bias": (_config(0, "bias", False), "has parameters"),
    "config-width": (_config(0, "out_features", 2), r"needs float32 \(2, 2\)"),
    "config-huge": (_config(0, "in_features", 10**9), "asks for more"),
    "config-tanh-arg": (_config(1, "alpha", 1.0), "cannot build Tanh"),
    "params-list": (_layer(0, "params", []), "must be an object"),
    "param-dropped": (_delete("layers", 0, "params", "b"), "unexpected members"),
    "param-added": (
        lambda doc: doc["layers"][1]["params"].update(c={"shape": [1], "dtype": "float32"}),
        "missing members",
    ),
    "param-shape": (_param(0, "W", "shape", [3, 2]), "holds"),
    "param-shape-bigger": (_param(0, "W", "shape", [4, 3]), "holds"),
    "param-shape-huge": (_param(0, "W", "shape", [10**6, 10**6]), "claims"),
    "param-shape-negative": (_param(0, "W", "shape", [-2, -3]), ">= 0"),
    "param-shape-bool": (_param(0, "W", "shape", [True, 3]), ">= 0"),
    "param-shape-float": (_param(0, "W", "shape", [2.0, 3]), ">= 0"),
    "param-shape-string": (_param(0, "W", "shape", "2x3"), "must be an array"),
    "param-dtype": (_param(0, "W", "dtype", "float64"), "float64"),
    "param-dtype-object": (_param(0, "W", "dtype", "object"), "object"),
    "param-no-dtype": (_delete("layers", 0, "params", "W", "dtype"), "missing keys"),
}


@pytest.mark.parametrize("name", list(DOCUMENT_CHANGES))
def test_bad_documents_are_refused(model_file, name):
    change, match = DOCUMENT_CHANGES[name]
    edit_document(model_file, change)
    with pytest.raises(sj.ModelFileError, match=match):
        sj.load(model_file)


def test_unchanged_document_still_loads(model_file):
    """The editing helpers themselves break nothing, so the refusals above are real."""
    edit_document(model_file, lambda doc: None)
    assert_same_network(small_net(), sj.load(model_file))


def _with_text(old: str, new: str):
    def change(doc):
        text = json.dumps(doc)
        assert old in text
        return text.replace(old, new).encode()

    return change


def _with_metadata_text(text: str):
    return _with_text('"metadata": {}', f'"metadata": {text}')


RAW_DOCUMENTS = {
    "nan": _with_metadata_text('{"loss": NaN}'),
    "infinity": _with_metadata_text('{"loss": -Infinity}'),
    "overflow": _with_metadata_text('{"loss": 1e999}'),
    "duplicate-key": _with_metadata_text('{"a": 1, "a": 2}'),
    "duplicate-version": _with_text('"version": 1', '"version": 1, "version": 2'),
    "latin-1": lambda doc: json.dumps({**doc, "metadata": {"x": "é"}}, ensure_ascii=False).encode(
        "latin-1"
    ),
    "utf-16": lambda doc: json.dumps(doc).encode("utf-16"),
    "bom": lambda doc: b"\xef\xbb\xbf" + json.dumps(doc).encode(),
    "truncated-json": lambda doc: json.dumps(doc).encode()[:-1],
    "deep": lambda doc: b"[" * 100_000 + b"]" * 100_000,
    "huge-int": _with_text('"version": 1', '"version": 1' + "0" * 5000),
}


@pytest.mark.parametrize("name", list(RAW_DOCUMENTS))
def test_bad_json_is_refused(model_file, name):
    edit_document(model_file, RAW_DOCUMENTS[name])
    with pytest.raises(sj.ModelFileError):
        sj.load(model_file)


def test_json_is_limited_to_16_mib(model_file):
    edit_document(model_file, lambda doc: json.dumps(doc).encode() + b" " * 2**24)
    with pytest.raises(sj.ModelFileError, match=r"shenjing\.json claims"):
        sj.load(model_file)


def test_json_just_under_the_limit_loads(model_file):
    edit_document(model_file, lambda doc: json.dumps(doc).encode().ljust(2**24))
    assert_same_network(small_net(), sj.load(model_file))


def test_layers_that_do_not_fit_together(tmp_path):
    sj.save(sj.Linear(2, 3, seed=0), tmp_path / "a.shj")
    sj.save(sj.Linear(4, 1, seed=0), tmp_path / "b.shj")
    a, b = read_members(tmp_path / "a.shj"), read_members(tmp_path / "b.shj")
    doc = json.loads(dict(a)["shenjing.json"])
    doc["layers"] += json.loads(dict(b)["shenjing.json"])["layers"]
    members = [("shenjing.json", json.dumps(doc).encode()), *a[1:]]
    members += [(n.replace("params/0.", "params/1."), d) for n, d in b[1:]]
    write_members(tmp_path / "m.shj", members)
    with pytest.raises(sj.ModelFileError, match="do not fit") as info:
        sj.load(tmp_path / "m.shj")
    assert isinstance(info.value.__cause__, sj.ShapeError)


# -- members --------------------------------------------------------------------------


def test_extra_member(model_file):
    write_members(model_file, [*read_members(model_file), ("run_me.py", b"import os")])
    with pytest.raises(sj.ModelFileError, match=r"unexpected members \['run_me.py'\]"):
        sj.load(model_file)


@pytest.mark.parametrize("name", ["params/0.W.npy", "params/2.b.npy"])
def test_missing_member(model_file, name):
    write_members(model_file, [m for m in read_members(model_file) if m[0] != name])
    with pytest.raises(sj.ModelFileError, match="missing members"):
        sj.load(model_file)


def test_missing_json(model_file):
    write_members(model_file, read_members(model_file)[1:])
    with pytest.raises(sj.ModelFileError, match=r"no shenjing\.json"):
        sj.load(model_file)


@pytest.mark.parametrize("index", [0, 1], ids=["json", "array"])
def test_duplicate_member_names(model_file, index):
    members = read_members(model_file)
    name, data = members[index]
    if name == "shenjing.json":
        data = data.replace(b'"metadata": {}', b'"metadata": {"second": true}')
    write_members(model_file, [*members, (name, data)])
    with pytest.raises(sj.ModelFileError, match="same name"):
        sj.load(model_file)


def test_compressed_members_are_refused(model_file):
    write_members(model_file, read_members(model_file), zipfile.ZIP_DEFLATED)
    with pytest.raises(sj.ModelFileError, match="compressed"):
        sj.load(model_file)


@pytest.mark.parametrize("method", [8, 12, 14, 99], ids=["deflate", "bzip2", "lzma", "aes"])
def test_compression_methods_other_than_stored_are_refused(model_file, method):
    data = bytearray(model_file.read_bytes())
    struct.pack_into("<H", data, central_entry(data, "params/0.W.npy") + 10, method)
    model_file.write_bytes(data)
    with pytest.raises(sj.ModelFileError, match="compressed or encrypted"):
        sj.load(model_file)


def test_encrypted_members_are_refused(model_file):
    data = bytearray(model_file.read_bytes())
    data[central_entry(data, "params/0.W.npy") + 8] |= 0x01
    model_file.write_bytes(data)
    with pytest.raises(sj.ModelFileError, match="encrypted"):
        sj.load(model_file)


@pytest.mark.parametrize("member", ["params/0.W.npy", "shenjing.json"])
@pytest.mark.parametrize("sizes", [(None, 2**31), (2**31, 2**31), (None, 10**6)])
def test_declared_sizes_are_checked_before_reading(model_file, monkeypatch, member, sizes):
    """A zip bomb: the central directory claims a huge uncompressed member."""
    data = bytearray(model_file.read_bytes())
    entry = central_entry(data, member)
    compressed, uncompressed = sizes
    if compressed is not None:
        struct.pack_into("<I", data, entry + 20, compressed)
    struct.pack_into("<I", data, entry + 24, uncompressed)
    model_file.write_bytes(data)
    opened = []
    open_member = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return open_member(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    with pytest.raises(sj.ModelFileError, match=f"{member} claims"):
        sj.load(model_file)
    assert member not in opened


# -- the .npy members -------------------------------------------------------------------


W = small_net().layers[0].W  # (2, 3) float32, what params/0.W.npy must hold

NPY_MEMBERS = {
    "float64": (npy_bytes(W.astype(np.float64)), "holds"),
    "float16-padded": (npy_bytes(np.zeros((2, 6), np.float16)), "holds"),
    "big-endian": (npy_bytes(W.astype(">f4")), "holds"),
    "fortran-order": (npy_bytes(np.asfortranarray(W)), "holds"),
    "transposed": (npy_bytes(W.T.copy()), "holds"),
    "int32": (npy_bytes(W.view(np.int32)), "holds"),
    "version-2": (npy_bytes(W, version=(2, 0)), "version"),
    "trailing-bytes": (npy_bytes(W) + b"\x00" * 4, "28 data bytes, not 24"),
    "short": (npy_bytes(W)[:-4], "20 data bytes, not 24"),
    "not-npy": (b"\x00" * len(npy_bytes(W)), "cannot read"),
    "bad-header": (npy_bytes(W).replace(b"'shape'", b"'shapz'"), "cannot read"),
}


@pytest.mark.parametrize("name", list(NPY_MEMBERS))
def test_bad_npy_members_are_refused(model_file, name):
    data, match = NPY_MEMBERS[name]
    replace_member(model_file, "params/0.W.npy", data)
    with pytest.raises(sj.ModelFileError, match=match):
        sj.load(model_file)


def test_a_rewritten_npy_member_loads(model_file):
    """``replace_member`` and ``npy_bytes`` are sound, so the refusals above are real."""
    replace_member(model_file, "params/0.W.npy", npy_bytes(W * 2))
    assert np.array_equal(sj.load(model_file).layers[0].W, W * 2)


# -- pickles ------------------------------------------------------------------------------


def test_the_pickle_payload_is_live(tmp_path):
    """The sentinel tests below could fail: unpickling these payloads does touch a file."""
    sentinel = tmp_path / "ran"
    pickle.loads(pickle.dumps(Touch(sentinel)))
    assert sentinel.exists()
    sentinel.unlink()
    buf = io.BytesIO(npy_bytes(np.array([Touch(sentinel)] * 6, object).reshape(2, 3)))
    np.lib.format.read_array(buf, allow_pickle=True)
    assert sentinel.exists()


def test_a_raw_pickle_is_refused(tmp_path):
    sentinel = tmp_path / "ran"
    path = tmp_path / "m.shj"
    path.write_bytes(pickle.dumps(Touch(sentinel)))
    with pytest.raises(sj.ModelFileError):
        sj.load(path)
    path.write_bytes(npy_bytes(np.array([Touch(sentinel)], object), allow_pickle=True))
    with pytest.raises(sj.ModelFileError):
        sj.load(path)
    assert not sentinel.exists()


def test_an_npz_of_pickles_is_refused(tmp_path):
    sentinel = tmp_path / "ran"
    np.savez(tmp_path / "m.npz", W=np.array([Touch(sentinel)], object))
    with pytest.raises(sj.ModelFileError):
        sj.load(tmp_path / "m.npz")
    assert not sentinel.exists()


@pytest.mark.parametrize("declared", [None, "object"], ids=["declared-float32", "declared-object"])
def test_a_pickled_parameter_is_never_unpickled(model_file, declared):
    sentinel = model_file.parent / "ran"
    payload = np.array([Touch(sentinel)] * 6, object).reshape(2, 3)
    # By hand, as an attacker would: np.save's own allow_pickle path.
    buf = io.BytesIO()
    np.save(buf, payload, allow_pickle=True)
    replace_member(model_file, "params/0.W.npy", buf.getvalue())
    if declared:
        edit_document(model_file, lambda doc: doc.update(dtype=declared))
    with pytest.raises(sj.ModelFileError):
        sj.load(model_file)
    assert not sentinel.exists()


def test_a_file_saved_before_the_package_was_split_into_layers_still_loads():
    # Written by shenjing 0.1.0 with the flat module layout (commit e94a2a3): Linear, ReLU,
    # Maxout, GELU, Linear; its predictions on np.ones((5, 3)) were saved beside it.
    data = pathlib.Path(__file__).parent / "data"
    net = sj.load(data / "v0.1-flat-layout.shj")
    assert [type(layer).__name__ for layer in net] == ["Linear", "ReLU", "Maxout", "GELU", "Linear"]
    assert net.metadata == {"a": 1}
    expected = np.load(data / "v0.1-flat-layout-pred.npy", allow_pickle=False)
    np.testing.assert_array_equal(net.predict(np.ones((5, 3))), expected)
