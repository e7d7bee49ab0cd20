"""fit on data that is not in memory: memmaps, Zarr arrays, HDF5 datasets.

Memory is measured with tracemalloc (NumPy reports its allocations to it; the pages of a
memory-mapped file are not allocations and are not counted, as the OS can drop them).
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import shenjing as sj
from shenjing.training.rows import RowSource

ROWS, COLS = 100_000, 40  # 32 MB of float64: big beside a batch, quick to train on once


def _data(rows: int, cols: int, dtype="float64"):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, cols)).astype(dtype)
    y = x[:, :3].astype(np.float64) @ np.array([1.0, -2.0, 0.5])
    return x, y


def _net(cols: int):
    return sj.mlp(cols, [8], 1, activation="relu", seed=1)


def _fit(x, y, **kwargs):
    net = _net(x.shape[1])
    options = dict(loss="mse", optimizer="sgd", epochs=1, batch_size=64, seed=3)
    history = net.fit(x, y, **{**options, **kwargs})
    return net, history


def _bound(rows: int, val_rows: int, cols: int) -> int:
    """What fit may hold for (rows, cols) float64 inputs: the validation rows, 64 bytes a
    row of bookkeeping (targets, the split's and the shuffle's row orders) and 1 MB."""
    return val_rows * cols * 8 + 64 * rows + (1 << 20)


def _peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _same(a, b) -> None:
    for p, q in zip(a[0].parameters(), b[0].parameters(), strict=True):
        assert np.array_equal(p.value, q.value)
    assert a[1].loss == b[1].loss and a[1].per_epoch == b[1].per_epoch


def test_validation_split_of_a_memmap_copies_only_the_validation_rows(tmp_path):
    x, y = _data(ROWS, COLS)
    path = tmp_path / "x.npy"
    np.save(path, x)
    mapped = np.load(path, mmap_mode="r")
    size = mapped.nbytes
    peak = _peak_bytes(lambda: _fit(mapped, y, validation_split=0.1))
    # The validation rows (a tenth, 3.2 MB), the targets and the batch: a third of the
    # whole array, which the split copied before (peak above 0.9 x 32 MB).
    assert peak < _bound(ROWS, ROWS // 10, COLS) < 0.35 * size, f"peak {peak / 1e6:.1f} MB"
    in_memory = _peak_bytes(lambda: _fit(np.array(mapped), y, validation_split=0.1))
    assert in_memory > size  # the same fit given the array itself holds it all
    # And the training is the same as on the array in memory, bit for bit.
    _same(_fit(mapped, y, validation_split=0.1), _fit(x, y, validation_split=0.1))


def test_memmap_of_another_dtype_is_converted_a_batch_at_a_time(tmp_path):
    x, y = _data(ROWS, COLS, "float32")
    path = tmp_path / "x32.npy"
    np.save(path, x)
    mapped = np.load(path, mmap_mode="r")
    # float32 on disk, a float64 network: np.asarray would convert all 32 MB at once.
    peak = _peak_bytes(lambda: _fit(mapped, y, shuffle=True))
    assert peak < _bound(ROWS, 0, COLS) < 0.25 * x.size * 8, f"peak {peak / 1e6:.1f} MB"
    _same(_fit(mapped, y), _fit(x.astype(np.float64), y))


def test_unshuffled_fit_with_a_split_equals_the_in_memory_one(tmp_path):
    x, y = _data(2_000, 5)
    np.save(tmp_path / "x.npy", x)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    options = dict(validation_split=0.25, shuffle=False, metrics=["mae"])
    _same(_fit(mapped, y, **options), _fit(x, y, **options))


def test_zarr_array_trains_in_memory_that_does_not_grow_with_it():
    zarr = pytest.importorskip("zarr")
    peaks, arrays = [], []
    for rows in (5_000, 20_000):
        x, y = _data(rows, COLS)
        z = zarr.create_array(store={}, shape=x.shape, chunks=(250, COLS), dtype="float64")
        z[:] = x
        # In order: Zarr reads whole chunks, and a shuffled batch touches one per row.
        peaks.append(_peak_bytes(lambda z=z, y=y: _fit(z, y, validation_split=0.1, shuffle=False)))
        arrays.append(x.nbytes)
    # Four times the rows: the peak grows by the validation rows and the bookkeeping
    # only (Zarr's own buffers are the same), far less than the array does.
    assert peaks[1] - peaks[0] < 0.3 * (arrays[1] - arrays[0]), peaks
    small = _data(3_000, 7)
    z = zarr.create_array(store={}, shape=small[0].shape, chunks=(100, 7), dtype="float64")
    z[:] = small[0]
    _same(_fit(z, small[1], validation_split=0.1), _fit(*small, validation_split=0.1))


def test_hdf5_dataset_trains_like_the_array(tmp_path):
    h5py = pytest.importorskip("h5py")
    x, y = _data(5_000, 6)
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f.create_dataset("x", data=x, chunks=(500, 6))
    with h5py.File(tmp_path / "x.h5", "r") as f:
        got = _fit(f["x"], y, validation_split=0.2)
        assert sj.mlp(6, [8], 1, seed=1).fit(f["x"], y, loss="mse", epochs=1).epochs_run == 1
    _same(got, _fit(x, y, validation_split=0.2))


def test_a_row_source_is_checked_like_an_array():
    zarr = pytest.importorskip("zarr")
    x, y = _data(300, 4)
    x[250, 2] = np.nan
    z = zarr.create_array(store={}, shape=x.shape, chunks=(100, 4), dtype="float64")
    z[:] = x
    with pytest.raises(sj.DataError, match="NaN"):
        _fit(z, y)
    with pytest.raises(sj.ShapeError, match=r"\(N, 3\)"):
        sj.mlp(3, [4], 1, seed=0).fit(z, y, loss="mse")
    texts = zarr.create_array(store={}, shape=(3, 2), dtype="bool")
    assert isinstance(RowSource(texts, np.dtype("float64")), RowSource)  # booleans convert


def test_row_source_take_keeps_the_order_asked_for():
    x, _ = _data(50, 3)
    source = RowSource(x.astype(np.float32), np.dtype("float64"))
    rows = np.array([7, 2, 40, 3])
    out = np.empty((6, 3))
    assert np.array_equal(source.take(rows, out), x.astype(np.float32)[rows].astype(np.float64))
