"""The lessons in a real browser: JupyterLab in headless Chromium, driven by Playwright.

Runs lesson 02 top to bottom, moves the augmentation explorer's controls and checks that the preview
image and its numbers change; runs the steps calculator of lesson 03 and reads its answer. Works on a
copy of the notebooks (JupyterLab's autosave must never touch the committed ones), saves screenshots
under .cache/browser/, and fails on any console error from the widgets.

The ``run_all`` tests (slow: ``make test-anywhere`` runs them with another seed on a busy machine) click
Run All in every lesson, as a student does: JupyterLab stops at the first error, so each lesson must reach
its last cell with no cell ending in an error.
"""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright

from helpers.calculator import calculator_text
from helpers.runtime import lesson_seed
from tests.lab_server import ROOT, Lab, running_lab

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = ROOT / ".cache" / "browser"
# No background networking: this machine has no internet, and Chromium's own calls would only fail.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDGET_ERROR_WORDS = ("widget", "ipywidgets", "jupyter-widgets", "fitgen", "model_id")
RUN_ALL_SECONDS = 240
# Start Run All without waiting for it: the command's promise settles only when every cell has run, and
# page.evaluate would wait for it with no limit; the wait_until_* helpers below wait with RUN_ALL_SECONDS.
RUN_ALL = "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    """JupyterLab on a copy of the lessons, with the app object exposed so the test can wait on kernel states."""
    if CHROMIUM is None:
        pytest.fail("no Chromium: install Debian's chromium package (sudo apt-get install chromium)")
    scratch = tmp_path_factory.mktemp("lab")
    tracker = scratch / "lab-settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text('{"windowingMode": "none"}')  # render every cell, so off-screen widgets exist too
    lessons = scratch / "notebooks"
    shutil.copytree(ROOT / "notebooks", lessons)
    with running_lab(lessons, scratch, "--LabApp.expose_app_in_browser=True") as server:
        yield server


@pytest.fixture(scope="module")
def page(lab: Lab):
    """One Chromium page; console errors are collected on ``page.console_errors``."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))
        yield page
        context.close()
        browser.close()


def open_notebook(page: Page, lab: Lab, name: str) -> None:
    """Open a lesson and wait until its kernel is idle."""
    page.goto(f"{lab.base}/lab/tree/{name}?token={lab.token}")
    page.wait_for_function(
        """name => {
            const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
            const kernel = widget && widget.sessionContext && widget.sessionContext.session
                && widget.sessionContext.session.kernel;
            return widget && widget.context.path.endsWith(name) && kernel && kernel.status === "idle";
        }""",
        arg=name,
        timeout=120_000,
    )


def wait_until_all_ran_or_stopped(page: Page) -> None:
    """The kernel is idle again after Run All, and either every code cell ran or one ended in an error (then
    JupyterLab runs no further cell)."""
    page.wait_for_function(
        """() => {
            const widget = window.jupyterapp.shell.currentWidget;
            const cells = Array.from(widget.content.model.cells).filter(c => c.type === "code");
            const ran = cells.every(c => c.executionCount !== null);
            const failed = cells.some(c => c.outputs.toJSON().some(output => output.output_type === "error"));
            return (ran || failed) && widget.sessionContext.session.kernel.status === "idle";
        }""",
        timeout=RUN_ALL_SECONDS * 1000,
        polling=1000,
    )


def setup_output(page: Page) -> str:
    """The text the lesson's first code cell (its setup cell) printed."""
    return page.evaluate(
        """() => Array.from(window.jupyterapp.shell.currentWidget.content.model.cells)
            .find(cell => cell.type === "code").outputs.toJSON()
            .map(output => [].concat(output.text || "").join("")).join("")"""
    )


def cells_not_run(page: Page) -> list[int]:
    return page.evaluate(
        """() => Array.from(window.jupyterapp.shell.currentWidget.content.model.cells)
            .map((cell, index) => [cell, index])
            .filter(([cell]) => cell.type === "code" && cell.executionCount === null)
            .map(([, index]) => index)"""
    )


def cells_with_errors(page: Page) -> list[int]:
    return page.evaluate(
        """() => Array.from(window.jupyterapp.shell.currentWidget.content.model.cells)
            .map((cell, index) => [cell, index])
            .filter(([cell]) => cell.type === "code"
                && cell.outputs.toJSON().some(output => output.output_type === "error"))
            .map(([, index]) => index)"""
    )


def set_slider(box: Locator, label: str, value: str) -> None:
    """Type a value into an ipywidgets slider's readout, as a student can, and confirm with Enter."""
    readout = box.locator(".widget-slider", has_text=label).locator(".widget-readout")
    readout.click()
    readout.press("Control+A")
    readout.type(value)
    readout.press("Enter")


def widget_errors(page: Page) -> list[str]:
    return [text for text in page.console_errors if any(word in text.lower() for word in WIDGET_ERROR_WORDS)]


def test_lesson_02_runs_and_its_explorer_responds(page: Page, lab: Lab) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    open_notebook(page, lab, "02_augmentation.ipynb")
    page.evaluate(RUN_ALL)
    wait_until_all_ran_or_stopped(page)
    assert cells_with_errors(page) == []

    explorer = page.locator(".fitgen-augmentation-explorer")
    explorer.scroll_into_view_if_needed()
    preview, numbers = explorer.locator("img").first, explorer.locator("pre").first
    expect(numbers).to_contain_text("no augmentation", timeout=30_000)
    before = preview.screenshot()
    explorer.screenshot(path=SCREENSHOTS / "02_explorer_before.png")

    set_slider(explorer, "shear (deg)", "30")
    expect(numbers).to_contain_text("shear_range=30.0")  # the HTML widget replaces its <pre>: wait on the locator
    after_shear = preview.screenshot()
    assert after_shear != before

    set_slider(explorer, "zoom range", "0.3")
    expect(numbers).to_contain_text("zoom_range=0.3")
    after_zoom = preview.screenshot()
    assert after_zoom != after_shear

    explorer.locator(".widget-checkbox", has_text="horizontal flip").locator("input").check()
    expect(numbers).to_contain_text("horizontal_flip=True")
    assert "mirrored: left-right" in numbers.inner_text()
    assert preview.screenshot() != after_zoom
    explorer.screenshot(path=SCREENSHOTS / "02_explorer_after.png")
    assert widget_errors(page) == []


def test_lesson_03_steps_calculator_answers(page: Page, lab: Lab) -> None:
    open_notebook(page, lab, "03_steps_per_epoch.ipynb")
    index = page.evaluate(
        """() => Array.from(window.jupyterapp.shell.currentWidget.content.model.cells)
            .findIndex(cell => cell.sharedModel.getSource().includes("steps_calculator()"))"""
    )
    assert index > 0
    page.evaluate(
        """index => {
            const notebook = window.jupyterapp.shell.currentWidget.content;
            notebook.activeCellIndex = index;
            return window.jupyterapp.commands.execute("notebook:run-cell");
        }""",
        arg=index,
    )
    calculator = page.locator(".fitgen-steps-calculator")
    calculator.wait_for(timeout=60_000)
    calculator.scroll_into_view_if_needed()
    answer = calculator.locator("pre").first
    expect(answer).to_have_text(calculator_text(1000, 64, 5, 1, "ceil").strip(), timeout=30_000)

    samples = calculator.locator(".widget-inline-hbox", has_text="samples").locator("input")
    samples.fill("1050")
    samples.press("Enter")
    set_slider(calculator, "batch size", "100")
    expected = calculator_text(1050, 100, 5, 1, "ceil").strip()
    expect(answer).to_have_text(expected)
    calculator.screenshot(path=SCREENSHOTS / "03_steps_calculator.png")
    assert widget_errors(page) == []


@pytest.mark.run_all
@pytest.mark.parametrize("lesson", sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb")))
def test_run_all_reaches_the_end_of_every_lesson_without_an_error(page: Page, lab: Lab, lesson: str) -> None:
    open_notebook(page, lab, lesson)
    page.evaluate(RUN_ALL)
    try:
        wait_until_all_ran_or_stopped(page)
        errors, not_run, setup = cells_with_errors(page), cells_not_run(page), setup_output(page)
    finally:  # one kernel at a time: a lesson's kernel holds up to 1.4 GB
        page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
    assert errors == [], f"{lesson}: Run All ended in an error in cell(s) {errors} (index among all cells)"
    assert not_run == [], f"{lesson}: Run All stopped before cell(s) {not_run}"
    assert f"seed {lesson_seed()}," in setup, f"{lesson}: the kernel did not get FITGEN_SEED: {setup!r}"
