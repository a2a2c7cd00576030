"""Fuzzing the whole inference path in-process: valid files of every accepted format, mutated
(bit flips, truncation, header fields set to extremes, random bytes under input names).

Whatever the bytes, `predict` must give records for every input, in order, as strict JSON,
raise nothing and finish promptly. `make test` runs a few hundred examples; `make fuzz` runs
the long campaign (HYPOTHESIS_PROFILE=fuzz).
"""

import gzip
import io
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mnist_edge.core.arrayfiles import write_idx
from mnist_edge.runtime.pipeline import predict_paths
from mnist_edge.runtime.records import dumps, record

settings.register_profile(
    "default", max_examples=300, deadline=5000, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz", max_examples=20_000, deadline=5000, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
ARRAY_SUFFIXES = (".npy", ".npz", "-idx3-ubyte", "-idx3-ubyte.gz")


def seed_files(x_test: np.ndarray) -> dict[str, bytes]:
    """One valid file per accepted format, a few 28x28 to 84x84 digits each."""
    seeds = {}
    for suffix, options in {
        ".png": {},
        ".jpg": {"quality": 90},
        ".bmp": {},
        ".gif": {},
        ".tif": {},
        ".webp": {"lossless": True},
    }.items():
        buffer = io.BytesIO()
        Image.fromarray(255 - x_test[1]).resize((84, 84)).save(
            buffer, format=Image.registered_extensions()[suffix], **options
        )
        seeds[suffix] = buffer.getvalue()
    buffer = io.BytesIO()
    np.save(buffer, x_test[:3])
    seeds[".npy"] = buffer.getvalue()
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x_test=x_test[:3], y_test=np.array([7, 2, 1], np.uint8))
    seeds[".npz"] = buffer.getvalue()
    with tempfile.TemporaryDirectory() as folder:
        write_idx(Path(folder, "raw"), x_test[:3])
        seeds["-idx3-ubyte"] = Path(folder, "raw").read_bytes()
    seeds["-idx3-ubyte.gz"] = gzip.compress(seeds["-idx3-ubyte"])
    return seeds


@st.composite
def mutated(draw, seeds: dict[str, bytes]) -> tuple[str, bytes]:
    """(suffix, bytes): a seed file after one of the mutations, or random bytes."""
    suffix = draw(st.sampled_from(sorted(seeds)))
    data = bytearray(seeds[suffix])
    how = draw(st.sampled_from(["flip", "truncate", "header", "random", "keep"]))
    if how == "flip":
        for position in draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=8)):
            data[position] ^= 1 << draw(st.integers(0, 7))
    elif how == "truncate":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif how == "header":  # a field near the start set to an extreme value
        start = draw(st.integers(0, min(len(data), 128) - 1))
        extreme = draw(st.sampled_from([b"\x00", b"\xff", b"\x7f", b"\x80"]))
        width = draw(st.sampled_from([1, 2, 4, 8]))
        data[start : start + width] = extreme * width
    elif how == "random":
        data = bytearray(draw(st.binary(max_size=2048)))
    return suffix, bytes(data)


@pytest.fixture(scope="module")
def seeds(x_test) -> dict[str, bytes]:
    return seed_files(x_test)


def test_any_bytes_give_records_in_order(seeds, predictor):
    @given(files=st.lists(mutated(seeds), min_size=1, max_size=4))
    def check(files: list[tuple[str, bytes]]) -> None:
        with tempfile.TemporaryDirectory() as folder:
            names = [f"{index:02d}{suffix}" for index, (suffix, _) in enumerate(files)]
            for name, (_, data) in zip(names, files, strict=True):
                Path(folder, name).write_bytes(data)
            records = [record(p, top_k=3) for p in predict_paths(predictor, [Path(folder)])]
        for line in records:
            dumps(line)  # strict JSON: no NaN, no infinity
            assert set(line) in (
                {"source", "error"},
                {"source", "label", "probability", "probabilities", "top_k"},
            ), line
            assert "\n" not in line.get("error", "")
        assert_in_order(records, folder, names)

    check()


def assert_in_order(records: list[dict], folder: str, names: list[str]) -> None:
    """Each file's records together, files in order; image files one record, array files
    one per image (#0, #1, ...) or one error naming the file."""
    sources = [r["source"].removeprefix(f"{folder}/") for r in records]
    position = 0
    for name in names:
        mine = [s for s in sources[position:] if s == name or s.startswith(f"{name}#")]
        assert mine and sources[position : position + len(mine)] == mine, (name, sources)
        if not name.endswith(ARRAY_SUFFIXES):
            assert mine == [name]
        elif mine != [name]:
            numbered = [int(re.sub(r".*#", "", s)) for s in mine if "#" in s]
            assert numbered == list(range(len(numbered))), mine
        position += len(mine)
    assert position == len(sources)
