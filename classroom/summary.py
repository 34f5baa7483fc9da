"""A one-page summary of five rules the lessons prove (``make summary``), every number measured as it is written.

Each rule is measured again on this machine with the kit's own data and helpers (a real ``flow_from_directory``,
the legacy generator's own matrices, the kit's trained CNN), so the page never says what the stack no longer does.
It writes ``dist/fitgen-kit-summary.html`` (prints on one A4 page) and ``dist/fitgen-kit-summary.md``.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from helpers.runtime import quiet_import

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "dist" / "fitgen-kit-summary"


@dataclass(frozen=True)
class Rule:
    """One rule of the page: the lesson that proves it, the rule in a line, and what was measured for it."""

    lesson: str
    rule: str
    measured: str


def steps_rule(shapes: Path) -> Rule:
    from helpers.augmentation import legacy_generator

    flow = legacy_generator().flow_from_directory(shapes / "train", target_size=(8, 8), batch_size=64, shuffle=False)
    last = len(flow[len(flow) - 1][1])
    floor = flow.samples // 64
    return Rule(
        "03",
        "steps_per_epoch = ceil(images / batch), a whole number; the last batch is smaller, never an error.",
        f"{flow.samples} images in batches of 64: {len(flow)} batches, the last with {last} images; "
        f"floor ({floor}) never trains on {flow.samples - floor * 64} of them in an epoch.",
    )


def class_order_rule(shapes: Path) -> Rule:
    from helpers.augmentation import legacy_generator
    from helpers.batches import copy_class_tree
    from helpers.images import class_folders

    with tempfile.TemporaryDirectory() as folder:
        tree = copy_class_tree(class_folders(shapes / "train")[0], Path(folder) / "digits", ["2", "10"], 1)
        order = legacy_generator().flow_from_directory(tree, target_size=(8, 8)).class_indices
    return Rule(
        "01",
        "Labels follow the folder names sorted as strings; pass classes=[...] to fix the order.",
        f"folders 2 and 10 get class_indices {order}.",
    )


def shear_rule() -> Rule:
    from helpers.augmentation import measure_draws

    tiny = measure_draws("legacy", 200, seed=0, shear_range=0.2).largest_shear_degrees
    real = measure_draws("legacy", 200, seed=0, shear_range=20).largest_shear_degrees
    return Rule(
        "02",
        "shear_range is in degrees (since Keras 2.1.3): 0.2 is a fifth of a degree, not 20 %.",
        f"largest slant over 200 draws: shear_range=0.2 -> {tiny:.1f} degrees (too small to see), "
        f"shear_range=20 -> {real:.0f} degrees.",
    )


def rescaling_rule(shapes: Path) -> Rule:
    from helpers.images import load_image_folder
    from helpers.models import shapes_model
    from helpers.pitfalls import try_preparation

    model = shapes_model().model
    pixels, labels, _ = load_image_folder(shapes / "test", (64, 64), "nearest")
    rows = {}
    for name, batch in (
        ("correct", pixels.astype("float32") / 255),
        ("no rescale", pixels.astype("float32")),
        ("rescaled twice", pixels.astype("float32") / 255 / 255),
    ):
        rows[name] = try_preparation(name, "", lambda batch=batch: model.predict(batch, verbose=0), labels, batch)
    shown = "; ".join(
        f"{name}: accuracy {row.accuracy:.2f}, {row.saturated:.0%} of probabilities saturated"
        for name, row in rows.items()
    )
    return Rule(
        "05",
        "Predict with exactly the training preprocessing: check accuracy AND confidence, not one of them.",
        f"the kit's CNN on {len(labels)} test images: {shown}.",
    )


def migration_rule() -> Rule:
    keras, tf_keras = quiet_import("keras"), quiet_import("tf_keras")

    return Rule(
        "04",
        "Keras 3 has no fit_generator: pass the generator or dataset to fit(); tf-keras (Keras 2) still has it.",
        f"Keras {keras.__version__}: Model.fit_generator exists: {hasattr(keras.Model, 'fit_generator')}; "
        f"tf-keras {tf_keras.__version__}: {hasattr(tf_keras.Model, 'fit_generator')}.",
    )


def measured_rules() -> list[Rule]:
    """Every rule of the page, measured now (about half a minute on 2 cores with the kit's CNN cached)."""
    from helpers.datasets import ensure_dataset

    shapes = ensure_dataset("shapes")
    rules = [class_order_rule(shapes), shear_rule(), steps_rule(shapes), migration_rule(), rescaling_rule(shapes)]
    return sorted(rules, key=lambda rule: rule.lesson)


def as_markdown(rules: list[Rule], machine: str) -> str:
    lines = ["# fitgen-kit: the rules the lessons prove", "", f"Measured by `make summary` on {machine}.", ""]
    lines += [f"- **Lesson {rule.lesson}.** {rule.rule} *Measured:* {rule.measured}" for rule in rules]
    return "\n".join(lines) + "\n"


def as_html(rules: list[Rule], machine: str) -> str:
    items = "\n".join(
        f"<li><b>Lesson {rule.lesson}.</b> {html.escape(rule.rule)}<br>"
        f"<i>Measured:</i> {html.escape(rule.measured)}</li>"
        for rule in rules
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fitgen-kit: the rules the lessons prove</title>
<style>@page {{ size: A4; margin: 15mm; }} body {{ font: 11pt/1.4 sans-serif; max-width: 180mm; }}
li {{ margin-bottom: 0.8em; }} footer {{ font-size: 9pt; color: #555; }}</style></head>
<body><h1>fitgen-kit: the rules the lessons prove</h1>
<ul>
{items}
</ul>
<footer>Every number was measured by <code>make summary</code> on {html.escape(machine)}.</footer>
</body></html>
"""


def machine_words() -> str:
    import platform

    keras, tf = quiet_import("keras"), quiet_import("tensorflow")
    versions = f"TensorFlow {tf.__version__}, Keras {keras.__version__}"
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {versions}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT, help="path without extension (.html and .md are written)")
    arguments = parser.parse_args(argv)
    rules = measured_rules()
    machine = machine_words()
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.with_suffix(".html").write_text(as_html(rules, machine))
    arguments.out.with_suffix(".md").write_text(as_markdown(rules, machine))
    print(as_markdown(rules, machine))
    print(f"written: {arguments.out.with_suffix('.html')} (print it: one A4 page) and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
