#!/usr/bin/env python3
"""Build an offline image dataset in the flow_from_directory layout (no network needed).

Examples:
    python data_scripts/make_shapes.py                      # data/shapes: circle vs square
    python data_scripts/make_shapes.py --kind arrows        # data/arrows: left vs right
    python data_scripts/make_shapes.py --out /tmp/mini --train 20 --val 5 --test 5 --seed 7
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tqdm import tqdm  # noqa: E402

from helpers.datasets import DEFAULT_SPECS, DatasetError, DatasetSpec, data_root, describe_manifest, write_dataset  # noqa: E402
from helpers.shapes import KINDS  # noqa: E402


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1, with a message that names the bad value."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Build an offline, byte-reproducible image dataset: data/<name>/{train,val,test}/<class>/*.jpg "
        "plus manifest.json. Refuses to write into a non-empty folder it did not create unless --force.",
        epilog="Classes: " + "; ".join(f"{kind}: {' vs '.join(classes)}" for kind, classes in KINDS.items()),
    )
    parser.add_argument("--kind", choices=sorted(KINDS), default="shapes", help="which dataset (default: shapes)")
    parser.add_argument("--out", type=Path, help="target folder (default: data/<kind>, or $FITGEN_DATA/<kind>)")
    parser.add_argument("--train", type=positive_int, help="training images per class")
    parser.add_argument("--val", type=positive_int, help="validation images per class")
    parser.add_argument("--test", type=positive_int, help="test images per class")
    parser.add_argument("--size", type=positive_int, help="stored image side in pixels (default 128)")
    parser.add_argument("--seed", type=int, help="random seed (default 42); same seed, same bytes")
    parser.add_argument(
        "--force", action="store_true", help="replace an existing dataset or write into a non-empty folder"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    default = DEFAULT_SPECS[arguments.kind]
    overrides = {
        key: getattr(arguments, key)
        for key in ("train", "val", "test", "size", "seed")
        if getattr(arguments, key) is not None
    }
    target = arguments.out or data_root() / arguments.kind
    started = time.perf_counter()
    try:
        spec = DatasetSpec(**{**default.__dict__, **overrides})
        manifest = write_dataset(
            target,
            spec,
            force=arguments.force,
            progress=lambda files: tqdm(
                files, desc=f"{arguments.kind} -> {target}", unit="img", disable=arguments.quiet
            ),
        )
    except DatasetError as error:
        print(f"make_shapes: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # read-only folder, full disk, ...
        print(
            f"make_shapes: error: cannot write {error.filename or target}: {error.strerror or error}. "
            "Choose a folder you can write to with --out (or set FITGEN_DATA).",
            file=sys.stderr,
        )
        return 2
    seconds = time.perf_counter() - started
    if manifest["status"] == "already present":
        print(f"{target} already holds this dataset; nothing to do (use --force to rebuild).")
    else:
        print(f"wrote {manifest['total']} images to {target} in {seconds:.1f} s")
    print(describe_manifest(manifest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
