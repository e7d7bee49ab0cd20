"""A generated corpus of hostile model files and CSV files, and a guarded reader of them.

Every family the reliability issue names is generated from one seed: truncation, bit
flips, zip structure (member counts, duplicate, compressed, encrypted or misplaced
members, end records), JSON paths and values (huge integers, deep nesting, long
strings, NaN, wrong types), ``.npy`` headers, shapes, non-finite weights, and special
files (a FIFO, ``/dev/zero``, ``/dev/urandom``, a folder). :func:`try_file` reads one
with an audit hook armed and tracemalloc on, and says what happened.

``python tests/_hostile.py [N_MODEL_FILES] [N_CSV_FILES]`` prints the counts.
"""

from __future__ import annotations

import json
import os
import random
import struct
import sys
import time
import tracemalloc
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

import shenjing as sj

#: Audit events that would mean a file made shenjing run something.
FORBIDDEN_EVENTS = (
    "exec",
    "compile",
    "pickle.find_class",
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "ctypes.dlopen",
)
_watch = {"on": False, "seen": []}


def _audit(event: str, args: Any) -> None:
    if _watch["on"] and event.startswith(FORBIDDEN_EVENTS):
        _watch["seen"].append(event)


_installed = False


def install_audit_hook() -> None:
    """Install the hook once per process; it records only while a file is being read."""
    global _installed
    if not _installed:
        sys.addaudithook(_audit)
        _installed = True


@dataclass
class Outcome:
    family: str
    kind: str  # "refused" (the library's error), "read" (a valid file) or "bad: …"
    seconds: float
    peak_bytes: int
    size: int


def _tabular_model_file(folder: str) -> str:
    import pandas as pd

    frame = pd.DataFrame(
        {
            "age": [str(20 + 3 * i) for i in range(12)],
            "city": ["a", "b", "c"] * 4,
            "y": ["no", "yes"] * 6,
        }
    )
    model = sj.TabularModel.fit(frame, "y", hidden=[4], epochs=1, batch_size=4, seed=0)
    path = os.path.join(folder, "tabular.shj")
    model.save(path)
    return path


def _plain_model_file(folder: str) -> str:
    net = sj.Sequential(sj.Linear(3, 4, seed=0), sj.Tanh(), sj.Maxout(4, 2, pieces=2, seed=1))
    path = os.path.join(folder, "plain.shj")
    sj.save(net, path, metadata={"note": "x"})
    return path


def _members(path: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        raw = {n: zf.read(n) for n in zf.namelist()}
    return json.loads(raw["shenjing.json"]), raw


def _zip(members: list[tuple[str, bytes]], compress: int = zipfile.ZIP_STORED) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compress) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buffer.getvalue()


def _json_paths(obj: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _json_paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _json_paths(value, (*prefix, i))


def _set(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    obj[path[0]] = _set(obj[path[0]], path[1:], value)
    return obj


_HOSTILE_JSON = [
    None,
    True,
    -1,
    0,
    2**64,
    "9" * 400,  # spliced in raw below: a 400-digit integer
    1e308,
    "NaN",
    "x" * 70_000,
    [],
    {},
    [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]],
    {"__class__": "os.system"},
    "os.system",
    "Linear",
    [1e6, 1e6],
    [-1],
]


def _json_text(doc: Any, path: tuple[Any, ...], value: Any) -> bytes:
    copy = json.loads(json.dumps(doc))
    marker = "@@RAW@@"
    raw_value: str | None = None
    if value == "9" * 400:
        raw_value, value = "9" * 400, marker
    elif value == "NaN":
        raw_value, value = "NaN", marker
    text = json.dumps(_set(copy, path, value))
    if raw_value is not None:
        text = text.replace(json.dumps(marker), raw_value)
    return text.encode()


def model_corpus(folder: str, n: int, seed: int = 0) -> Iterator[tuple[str, Callable[[], str]]]:
    """``n`` hostile model files (and the special files), as (family, make-the-file)."""
    rng = random.Random(seed)
    sources = [_plain_model_file(folder), _tabular_model_file(folder)]
    parsed = [_members(p) for p in sources]
    contents = []
    for source in sources:
        with open(source, "rb") as f:
            contents.append(f.read())
    out = os.path.join(folder, "hostile.shj")

    def writer(data: bytes) -> Callable[[], str]:
        def make() -> str:
            with open(out, "wb") as f:
                f.write(data)
            return out

        return make

    for special in ("/dev/zero", "/dev/urandom", folder):
        if os.path.exists(special):
            yield "special file", lambda special=special: special
    if hasattr(os, "mkfifo"):
        fifo = os.path.join(folder, "fifo")
        os.mkfifo(fifo)
        yield "special file", lambda: fifo

    families = ["truncation", "bit flips", "zip structure", "json", "npy header", "shape", "nan"]
    for i in range(n):
        family = families[i % len(families)]
        which = rng.randrange(len(sources))
        data = contents[which]
        doc, members = parsed[which]
        names = list(members)
        if family == "truncation":
            yield family, writer(data[: rng.randrange(len(data))])
        elif family == "bit flips":
            flipped = bytearray(data)
            for _ in range(rng.choice([1, 2, 8, 64])):
                at = rng.randrange(len(flipped))
                flipped[at] ^= 1 << rng.randrange(8)
            yield family, writer(bytes(flipped))
        elif family == "zip structure":
            choice = rng.randrange(7)
            items = list(members.items())
            if choice == 0:  # many members
                extra = [(f"params/x{k}.npy", b"") for k in range(rng.choice([10, 5000]))]
                yield family, writer(_zip(items + extra))
            elif choice == 1:  # a duplicate name
                yield family, writer(_zip([*items, items[-1]]))
            elif choice == 2:  # deflated
                yield family, writer(_zip(items, zipfile.ZIP_DEFLATED))
            elif choice == 3:  # members in another order, or one missing
                rng.shuffle(items)
                yield family, writer(_zip(items[: rng.randrange(1, len(items) + 1)]))
            elif choice == 4:  # the end record's counts rewritten
                patched = bytearray(data)
                end = patched.rfind(b"PK\x05\x06")
                struct.pack_into("<HH", patched, end + 8, 0xFFFF, 0xFFFF)
                struct.pack_into("<I", patched, end + 12, rng.choice([0, 2**32 - 1]))
                yield family, writer(bytes(patched))
            elif choice == 5:  # encrypted flag set on a member
                patched = bytearray(data)
                at = patched.find(b"PK\x01\x02")
                patched[at + 8] |= 1
                yield family, writer(bytes(patched))
            else:  # a declared size rewritten (a zip bomb)
                patched = bytearray(data)
                at = patched.rfind(b"PK\x01\x02")
                struct.pack_into("<I", patched, at + 24, rng.choice([2**31, 2**32 - 1]))
                yield family, writer(bytes(patched))
        elif family == "json":
            path = rng.choice(list(_json_paths(doc)))
            text = _json_text(doc, path, rng.choice(_HOSTILE_JSON))
            if rng.random() < 0.1:  # very deep nesting, or a huge number of containers
                text = b'{"x": ' + b"[" * 5000 + b"]" * 5000 + b"}"
            yield family, writer(_zip([("shenjing.json", text), *list(members.items())[1:]]))
        elif family == "npy header":
            npy = [n for n in names if n.endswith(".npy")]
            target = rng.choice(npy)
            body = bytearray(members[target])
            header_len = struct.unpack("<H", body[8:10])[0]
            header = body[10 : 10 + header_len].decode("latin1")
            header = rng.choice(
                [
                    header.replace("<f", ">f"),
                    header.replace("False", "True"),
                    header.replace("'shape': (", "'shape': (99999999, "),
                    header.replace("<f", "|O"),
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (" + "9" * 50 + ",), }",
                    header[: len(header) // 2],
                ]
            )
            encoded = header.encode("latin1")
            body = body[:8] + struct.pack("<H", len(encoded)) + encoded + body[10 + header_len :]
            if rng.random() < 0.3:
                body[6] = 2  # .npy version 2.0
            replaced = [(n, bytes(body) if n == target else b) for n, b in members.items()]
            yield family, writer(_zip(replaced))
        elif family == "shape":
            params = [(i, k) for i, layer in enumerate(doc["layers"]) for k in layer["params"]]
            layer_i, key = rng.choice(params)
            shape = rng.choice([[10**6, 10**6], [0], [1, 2, 3], [2**62, 4], [1] * 40, []])
            text = _json_text(doc, ("layers", layer_i, "params", key, "shape"), shape)
            yield family, writer(_zip([("shenjing.json", text), *list(members.items())[1:]]))
        else:  # non-finite weights, written as they would be after divergence
            npy = [n for n in names if n.endswith(".npy")]
            target = rng.choice(npy)
            body = bytearray(members[target])
            header_len = struct.unpack("<H", body[8:10])[0]
            start = 10 + header_len
            itemsize = 4 if "<f4" in body[10:start].decode("latin1") else 8
            if len(body) > start:
                at = start + itemsize * rng.randrange((len(body) - start) // itemsize)
                bad = rng.choice([np.nan, np.inf, -np.inf])
                body[at : at + itemsize] = np.array([bad], f"<f{itemsize}").tobytes()
            replaced = [(n, bytes(body) if n == target else b) for n, b in members.items()]
            yield family, writer(_zip(replaced))


def csv_corpus(folder: str, n: int, seed: int = 0) -> Iterator[tuple[str, Callable[[], str]]]:
    """``n`` hostile CSV files (and the special files), as (family, make-the-file)."""
    rng = random.Random(seed)
    out = os.path.join(folder, "hostile.csv")
    base = "age,city,y\n" + "".join(
        f"{20 + i},c{i % 3},{'yes' if i % 2 else 'no'}\n" for i in range(20)
    )

    def writer(data: bytes) -> Callable[[], str]:
        def make() -> str:
            with open(out, "wb") as f:
                f.write(data)
            return out

        return make

    for special in ("/dev/zero", "/dev/urandom", folder):
        if os.path.exists(special):
            yield "special file", lambda special=special: special
    if hasattr(os, "mkfifo"):
        fifo = os.path.join(folder, "fifo.csv")
        os.mkfifo(fifo)
        yield "special file", lambda: fifo
    makers: list[tuple[str, Callable[[], bytes]]] = [
        ("long cell", lambda: (base + f"1,{'x' * rng.choice([140_000, 500_000])},no\n").encode()),
        ("long line", lambda: b"a,b\n" + b"1" * (2**20 + rng.randrange(10)) + b",2\n"),
        ("many columns", lambda: (",".join(f"c{i}" for i in range(100_000)) + "\n").encode() * 2),
        (
            "many categories",
            lambda: ("id,y\n" + "".join(f"u{i},{i % 2}\n" for i in range(1500))).encode(),
        ),
        ("open quote", lambda: (base + '1,"never closed,no\n' + base).encode()),
        ("binary", lambda: rng.randbytes(rng.randrange(1, 4000))),
        ("bad encoding", lambda: base.encode() + b"\xff\xfe,\x80\n"),
        ("nul bytes", lambda: base.encode().replace(b",", b"\0", 3)),
        ("ragged", lambda: (base + "1,2\n1,2,3,4\n").encode()),
        ("truncation", lambda: base.encode()[: rng.randrange(len(base))]),
        ("formula cells", lambda: (base + "=1+1,@SUM(A1),-cmd\n").encode()),
        ("infinite", lambda: (base + "inf,c1,no\n1e999,c2,yes\n").encode()),
    ]
    for i in range(n):
        family, make = makers[i % len(makers)]
        yield family, writer(make())


def try_file(
    family: str, path: str, read: Callable[[str], Any], refused: tuple[type, ...]
) -> Outcome:
    """Read ``path`` with the audit hook armed; the outcome, its time and peak memory."""
    size = os.stat(path).st_size if os.path.isfile(path) else 0
    tracemalloc.start()
    _watch["seen"].clear()
    _watch["on"] = True
    start = time.process_time()
    try:
        read(path)
        kind = "read"
    except refused as exc:
        message = str(exc)
        kind = "refused"
        if "\n" in message or len(message) > 1000:
            kind = f"bad: a message of {len(message)} characters"
    except Exception as exc:  # the probe's whole point: anything else is a finding
        kind = f"bad: {type(exc).__name__}: {str(exc)[:100]}"
    finally:
        _watch["on"] = False
        seconds = time.process_time() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    if _watch["seen"]:
        kind = f"bad: audit events {sorted(set(_watch['seen']))}"
    return Outcome(family, kind, seconds, peak, size)


def read_model(path: str) -> Any:
    """What ``shenjing predict`` does first: the tabular model, else the plain network."""
    try:
        return sj.TabularModel.load(path)
    except sj.ModelFileError as exc:
        if "a plain network" not in str(exc):
            raise
    return sj.load(path)


def read_table(path: str) -> Any:
    frame = sj.read_csv(path)
    return sj.Preprocessor().fit(frame.drop(columns=[frame.columns[-1]]))


def run(folder: str, n_models: int, n_csvs: int, seed: int = 0) -> list[Outcome]:
    install_audit_hook()
    outcomes = []
    for family, make in model_corpus(folder, n_models, seed):
        outcomes.append(try_file(family, make(), read_model, (sj.ModelFileError, sj.DTypeError)))
    for family, make in csv_corpus(folder, n_csvs, seed):
        outcomes.append(
            try_file(f"csv: {family}", make(), read_table, (sj.DataError, sj.ConfigError))
        )
    return outcomes


if __name__ == "__main__":
    import tempfile

    n_models = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    n_csvs = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        outcomes = run(folder, n_models, n_csvs)
        wall = time.perf_counter() - began
    by_family = Counter((o.family, o.kind) for o in outcomes)
    for (family, kind), count in sorted(by_family.items()):
        print(f"{count:6}  {family:24} {kind}")
    slowest = max(outcomes, key=lambda o: o.seconds)
    print(
        f"{len(outcomes)} files in {wall:.1f} s; "
        f"{sum(o.kind in ('refused', 'read') for o in outcomes)} handled; "
        f"slowest {slowest.seconds:.3f} s CPU ({slowest.family}); "
        f"largest peak {max(o.peak_bytes for o in outcomes) / 2**20:.1f} MiB"
    )
