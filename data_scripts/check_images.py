#!/usr/bin/env python3
"""Check every image of a dataset for what would stop training or be converted silently; optionally move bad files out.

Examples:
    python data_scripts/check_images.py data/cats_vs_dogs                 # report only
    python data_scripts/check_images.py data/cats_vs_dogs/original/PetImages --quarantine /tmp/petimages-bad
    python data_scripts/check_images.py --undo /tmp/petimages-bad/quarantine-log.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.command_line import OneLineParser, positive_int, printable_output, visible  # noqa: E402
from helpers.health import check_image_tree, quarantine, undo_quarantine  # noqa: E402
from helpers.images import MAX_PIXELS, ImageFolderError  # noqa: E402

PROG = "check_images.py"
EXIT_ERRORS_FOUND = 3


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OneLineParser(
        prog=PROG,
        description="Read every image under FOLDER (a dataset root with train/val/test, or one split with a "
        "sub-folder per class) and list what a Keras generator would choke on: errors stop training "
        "(truncated, unreadable, empty, not an image), warnings are converted silently (grayscale, "
        "transparency, CMYK, 16-bit, tiny or huge images, empty classes, stray files, duplicates). "
        "Changes nothing unless --quarantine is given; files are moved, never deleted.",
        epilog=f"Exit status: 0 no errors left, 1 could not run (one line on stderr), 2 bad arguments, "
        f"{EXIT_ERRORS_FOUND} errors found (report only).",
    )
    parser.add_argument("folder", nargs="?", type=Path, metavar="FOLDER", help="the dataset or split folder to check")
    parser.add_argument(
        "--quarantine", type=Path, metavar="DIR", help="move files with errors to DIR (outside FOLDER), with a log"
    )
    parser.add_argument("--include-warnings", action="store_true", help="with --quarantine: move warned files too")
    parser.add_argument("--undo", type=Path, metavar="LOG", help="move the files of a quarantine log back")
    parser.add_argument("--min-side", type=positive_int, default=32, metavar="PX", help="smaller is 'too small' (32)")
    parser.add_argument(
        "--max-pixels", type=positive_int, default=MAX_PIXELS, metavar="N", help=f"more is 'huge' ({MAX_PIXELS})"
    )
    arguments = parser.parse_args(argv)
    if arguments.undo and (arguments.folder or arguments.quarantine):
        parser.error("--undo LOG works alone; do not give FOLDER or --quarantine with it")
    if not arguments.undo and arguments.folder is None:
        parser.error("give the FOLDER to check (or --undo LOG)")
    if arguments.include_warnings and not arguments.quarantine:
        parser.error("--include-warnings only makes sense with --quarantine DIR")
    return arguments


def main(argv: list[str] | None = None) -> int:
    printable_output()
    arguments = parse_arguments(argv)
    try:
        if arguments.undo:
            moved = undo_quarantine(arguments.undo)
            print(f"moved {moved} file(s) back" if moved else f"{arguments.undo} was already undone; nothing to do.")
            return 0
        report = check_image_tree(arguments.folder, arguments.min_side, arguments.max_pixels)
        print(visible(report.describe()))
        if not arguments.quarantine:
            return EXIT_ERRORS_FOUND if report.errors else 0
        log = quarantine(report, arguments.quarantine, include_warnings=arguments.include_warnings)
        moved = len(json.loads(log.read_text())["files"])
        print(f"moved {moved} file(s) to {arguments.quarantine}; to put them back: {PROG} --undo {log}")
        return 0
    except ImageFolderError as error:
        print(visible(f"{PROG}: error: {error}"), file=sys.stderr)
        return 1
    except OSError as error:
        print(
            f"{PROG}: error: {error.filename or 'a file'}: {error.strerror or error}; check that you may read it "
            "(and write to the quarantine folder).",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
