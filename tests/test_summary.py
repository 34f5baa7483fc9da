"""The printable summary (make summary): each rule's measured numbers say what the lessons assert, on one page.

Measuring loads TensorFlow, both Kerases and the kit's CNN (about half a minute), so it runs in make test-classroom.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from classroom.summary import Rule, as_html, as_markdown, measured_rules
from helpers.steps import epoch_plan

pytestmark = pytest.mark.classroom


@pytest.fixture(scope="module")
def rules() -> dict[str, Rule]:
    return {rule.lesson: rule for rule in measured_rules()}


def numbers(text: str) -> list[float]:
    return [float(number) for number in re.findall(r"-?\d+(?:\.\d+)?", text)]


def test_steps_and_class_order_are_what_keras_does(rules: dict[str, Rule]) -> None:
    plan = epoch_plan(1000, 64)
    assert f"{plan.steps_per_epoch} batches, the last with {plan.last_batch} images" in rules["03"].measured
    assert "never trains on 40 of them" in rules["03"].measured
    assert "{'10': 0, '2': 1}" in rules["01"].measured  # string order, not numeric (lesson 01 shows the same)


def test_shear_is_in_degrees(rules: dict[str, Rule]) -> None:
    tiny, real = numbers(rules["02"].measured.split("->", 1)[1])[0], numbers(rules["02"].measured)[-1]
    assert tiny < 1 and 18 <= real <= 20  # 200 uniform draws up to 20 degrees reach above 18 (p < 1e-9 otherwise)


def test_rescaling_rows_show_accuracy_and_confidence(rules: dict[str, Rule]) -> None:
    text = rules["05"].measured
    correct, raw, twice = (
        re.search(rf"{name}: accuracy ([\d.]+), (\d+)%", text).groups()
        for name in ("correct", "no rescale", "rescaled twice")
    )
    assert float(correct[0]) >= 0.9 and float(raw[0]) >= float(correct[0]) - 0.02 and int(raw[1]) >= 95
    assert abs(float(twice[0]) - 0.5) <= 0.05  # one class for every image on a balanced test set


def test_fit_generator_is_gone_from_keras_3_only(rules: dict[str, Rule]) -> None:
    assert re.search(
        r"Keras 3\.[\d.]+: Model.fit_generator exists: False; tf-keras 2\.[\d.]+: True", rules["04"].measured
    )


def test_page_prints_on_one_a4_page(rules: dict[str, Rule], tmp_path: Path) -> None:
    page = tmp_path / "summary.html"
    page.write_text(as_html(list(rules.values()), "test machine"))
    assert as_markdown(list(rules.values()), "m").count("- **Lesson") == len(rules) == 5
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium prints the page (.ci/run installs it)"
    pdf = tmp_path / "summary.pdf"
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
    ]
    subprocess.run([*command, page.as_uri()], capture_output=True, timeout=120, check=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes())) == 1
