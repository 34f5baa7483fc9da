"""Memory arithmetic, batch descriptions, class trees for experiments, and measured source capabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers.batches import (
    capabilities,
    capability_table,
    copy_class_tree,
    count_batches,
    dataset_memory,
    describe_batch,
    human_bytes,
)


def test_dataset_memory_and_human_bytes() -> None:
    assert dataset_memory(25_000, 224, 224) == 25_000 * 224 * 224 * 3 * 4
    assert dataset_memory(10, 8, 8, channels=1, dtype="uint8") == 640
    assert human_bytes(dataset_memory(25_000, 224, 224)) == "14.0 GiB"
    assert human_bytes(512) == "512 bytes" and human_bytes(2048) == "2.0 KiB"
    assert human_bytes(5 * 1024**5) == "5120.0 TiB"
    assert human_bytes(1_048_575) == "1.0 MiB"  # not "1024.0 KiB"
    assert dataset_memory(np.int64(1000), 128, 128) == 1000 * 128 * 128 * 12


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((0, 224, 224), "images must be a positive whole number, got 0"),
        ((10, 224.0, 224), "height must be a positive whole number, got 224.0"),
        ((10, 224, -1), "width must be a positive whole number"),
    ],
)
def test_dataset_memory_bad_input(arguments: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataset_memory(*arguments)
    with pytest.raises(ValueError, match="dtype must be one of"):
        dataset_memory(1, 1, 1, dtype="int7")
    with pytest.raises(ValueError, match="cannot be negative"):
        human_bytes(-1)


def test_describe_batch_forms() -> None:
    x = np.zeros((4, 8, 8, 3), np.float32)
    x[0, 0, 0, 0] = 1
    assert describe_batch((x, np.array([0, 1, 1, 1.0]))) == (
        "tuple of 2: x (4, 8, 8, 3) float32, values 0 to 1\ny (4,) float64, label counts {0: 1, 1: 3}"
    )
    assert describe_batch(x) == "ndarray: x (4, 8, 8, 3) float32, values 0 to 1"
    one_hot = np.array([[1, 0], [0, 1], [0, 1], [0, 1.0]])
    assert describe_batch((x, one_hot)).endswith("label counts {0: 1, 1: 3}")
    with pytest.raises(ValueError, match="got a tuple of 4"):
        describe_batch((x, x, x, x))


def test_copy_class_tree_copies_and_never_overwrites(tiny_dataset: Path, tmp_path: Path) -> None:
    tree = copy_class_tree(tiny_dataset / "train" / "circle", tmp_path / "tree", ["Dog", "cat"], per_class=2)
    assert sorted(p.name for p in tree.iterdir()) == ["Dog", "cat"]
    assert sorted(p.name for p in (tree / "cat").iterdir()) == ["cat_000.jpg", "cat_001.jpg"]
    before = {p: p.read_bytes() for p in tree.rglob("*.jpg")}
    with pytest.raises(FileExistsError, match="already exists"):
        copy_class_tree(tiny_dataset / "train" / "circle", tree, ["a", "b"], per_class=1)
    assert {p: p.read_bytes() for p in tree.rglob("*.jpg")} == before  # nothing modified
    for clash in (["a", "a"], ["dog", "Dog"]):
        with pytest.raises(ValueError, match="differ beyond upper/lower case"):
            copy_class_tree(tiny_dataset / "train" / "circle", tmp_path / "other", clash, per_class=1)
    assert not (tmp_path / "other").exists()  # refused before writing anything
    with pytest.raises(ValueError, match="fewer than per_class=99"):
        copy_class_tree(tiny_dataset / "train" / "circle", tmp_path / "more", ["a", "b"], per_class=99)
    with pytest.raises(ValueError, match="is not a folder"):
        copy_class_tree(tmp_path / "missing", tmp_path / "x", ["a", "b"], per_class=1)


def test_capabilities_of_a_generator_a_list_and_an_endless_iterator() -> None:
    generator = (n for n in range(5))
    assert capabilities(generator) == {
        "len()": "no (TypeError)",
        "source[0]": "no (TypeError)",
        "1st for-loop": "5",
        "2nd for-loop": "0",
    }

    class Endless:
        def __len__(self) -> int:
            return 2

        def __getitem__(self, index: int) -> int:
            return index

        def __iter__(self):
            while True:
                yield 0

    row = capabilities(Endless())
    assert row["1st for-loop"] == "never ends (stopped after 5)" and row["source[0]"] == "yes"
    assert count_batches([1, 2, 3], limit=2) == 2
    assert capabilities([])["source[0]"] == "no (IndexError)"
    table = capability_table({"list": capabilities([1, 2]), "endless": row})
    assert table.splitlines()[0].split() == ["source", "len()", "source[0]", "1st", "for-loop", "2nd", "for-loop"]
    assert table.splitlines()[1].split()[:3] == ["list", "2", "yes"]
