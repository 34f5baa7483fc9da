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

from helpers.command_line import OneLineParser, non_negative_int, positive_int, printable_output  # noqa: E402
from helpers.datasets import (  # noqa: E402
    DEFAULT_SPECS,
    DatasetError,
    DatasetSpec,
    data_root,
    describe_extra_files,
    describe_manifest,
    write_dataset,
)
from helpers.shapes import KINDS  # noqa: E402


def image_side(text: str) -> int:
    """argparse type: an image side the drawing code supports, 16 to 1024 pixels."""
    side = positive_int(text)
    if not 16 <= side <= 1024:
        raise argparse.ArgumentTypeError(f"expected 16 to 1024 pixels, got {side}")
    return side


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OneLineParser(
        prog="make_shapes.py",
        description="Build an offline, byte-reproducible image dataset: data/<name>/{train,val,test}/<class>/*.jpg "
        "plus manifest.json. Refuses to write into a non-empty folder it did not create unless --force.",
        epilog="Classes: "
        + "; ".join(f"{kind}: {' vs '.join(classes)}" for kind, classes in KINDS.items())
        + ". Exit status: 0 done or nothing to do, 1 error (one line on stderr), 2 bad arguments, 130 interrupted.",
    )
    parser.add_argument("--kind", choices=sorted(KINDS), default="shapes", help="which dataset (default: shapes)")
    parser.add_argument("--out", type=Path, help="target folder (default: data/<kind>, or $FITGEN_DATA/<kind>)")
    parser.add_argument("--train", type=positive_int, help="training images per class")
    parser.add_argument("--val", type=positive_int, help="validation images per class")
    parser.add_argument("--test", type=positive_int, help="test images per class")
    parser.add_argument("--size", type=image_side, help="stored image side in pixels, 16 to 1024 (default 128)")
    parser.add_argument("--seed", type=non_negative_int, help="random seed (default 42); same seed, same bytes")
    parser.add_argument(
        "--force", action="store_true", help="replace an existing dataset or write into a non-empty folder"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    printable_output()
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
        print(f"make_shapes.py: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # read-only folder, full disk, ...
        print(
            f"make_shapes.py: error: cannot write {error.filename or target}: {error.strerror or error}. "
            "Choose a folder you can write to with --out (or set FITGEN_DATA).",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print(
            f"make_shapes.py: interrupted; rerun the same command to finish {target} (what was written is kept).",
            file=sys.stderr,
        )
        return 130
    seconds = time.perf_counter() - started
    if manifest["status"] == "already present":
        print(f"{target} already holds this dataset; nothing to do (use --force to rebuild).")
    else:
        print(f"wrote {manifest['total']} images to {target} in {seconds:.1f} s")
    print(describe_manifest(manifest))
    note = describe_extra_files(target, manifest["extra_files"])
    if note:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
