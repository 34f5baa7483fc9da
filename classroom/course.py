"""Set up an nbgrader course folder from the lessons: ``make course COURSE=folder``.

Each lesson becomes one assignment named after its notebook (``source/03_steps_per_epoch/03_steps_per_epoch.ipynb``)
and the course gets the kit's ``nbgrader_config.py`` with the kit's path filled in. Files already there are kept: an
identical one is left alone, a different one stops the set-up before anything is written, so no edit is lost.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from classroom.make_student import SolutionError, nbgrader_problems, student_copy

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "classroom" / "nbgrader_config.py"
KIT_LINE = "KIT = Path(__file__).resolve().parent.parent  # `make course` writes the kit's absolute path here"
NBGRADER = ROOT / ".cache" / "nbgrader" / "bin" / "nbgrader"


class CourseError(ValueError):
    """The course cannot be set up; the message names the file or lesson and the fix."""


def assignment_name(lesson: Path) -> str:
    """The nbgrader assignment a lesson becomes: its file name without ``.ipynb``."""
    return lesson.stem


def course_config(kit: Path = ROOT) -> str:
    """The course's ``nbgrader_config.py``: the kit's template with the kit's absolute path written in."""
    template = TEMPLATE.read_text()
    if KIT_LINE not in template:
        raise CourseError(f"{TEMPLATE}: the line {KIT_LINE!r} is missing; restore it from git.")
    return template.replace(KIT_LINE, f"KIT = Path({str(kit)!r})  # the fitgen-kit this course grades with")


def course_files(lessons: list[Path], kit: Path = ROOT) -> dict[Path, bytes]:
    """Every file the course needs, by path inside the course; refuses a lesson nbgrader could not grade."""
    files = {Path("nbgrader_config.py"): course_config(kit).encode()}
    for lesson in lessons:
        if not lesson.is_file():
            raise CourseError(f"{lesson}: no such lesson; give notebooks/NN_name.ipynb files.")
        notebook = nbformat.read(lesson, as_version=4)
        problems = nbgrader_problems(notebook, lesson.name)
        try:
            student_copy(notebook, lesson.name)  # an exercise without a check cell stops here
        except SolutionError as error:
            problems.append(str(error))
        if problems:
            raise CourseError(f"{problems[0]} (fix the lesson, then run classroom/make_student.py --annotate on it)")
        files[Path("source") / assignment_name(lesson) / lesson.name] = lesson.read_bytes()
    return files


def make_course(course: Path, lessons: list[Path], kit: Path = ROOT) -> tuple[list[Path], list[Path]]:
    """Write the course's files; returns (written, already there and identical). Nothing is overwritten."""
    if course.exists() and not course.is_dir():
        raise CourseError(f"{course} is a file; give a folder for the course (it is created if missing).")
    files = course_files(lessons, kit)
    different = [
        path for path, content in files.items() if (course / path).exists() and _differs(course / path, content)
    ]
    if different:
        raise CourseError(
            f"{course / different[0]} exists and differs from the kit's version (it may hold your edits); nothing "
            "was written. Rename or move it, then run make course again."
        )
    written, kept = [], []
    for path, content in files.items():
        target = course / path
        if target.exists():
            kept.append(path)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        written.append(path)
    return written, kept


def _differs(path: Path, content: bytes) -> bool:
    return not path.is_file() or path.read_bytes() != content


def next_steps(course: Path, lessons: list[Path]) -> str:
    """What the teacher runs next, with this kit's paths (printed by ``make course``)."""
    first = assignment_name(lessons[0]) if lessons else "00_start_here"
    return "\n".join(
        [
            "Next (from the course folder; TEACHING.md, 'Grading with nbgrader', explains each step):",
            f"  cd {course}",
            f"  {NBGRADER} generate_assignment {first}      # writes release/{first}/ for students",
            f"  {NBGRADER} autograde {first}                # grades submitted/<student>/{first}/",
            f"  {NBGRADER} generate_feedback {first} && {NBGRADER} export",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("course", type=Path, help="the course folder (created if missing)")
    parser.add_argument("lessons", nargs="*", type=Path, help="lessons (default: notebooks/*.ipynb)")
    arguments = parser.parse_args(argv)
    lessons = arguments.lessons or sorted((ROOT / "notebooks").glob("*.ipynb"))
    try:
        written, kept = make_course(arguments.course, lessons)
    except CourseError as error:
        print(f"make course: {error}", file=sys.stderr)
        return 1
    print(f"course {arguments.course}: {len(written)} file(s) written, {len(kept)} already there and unchanged")
    print(next_steps(arguments.course.resolve(), lessons))
    return 0


if __name__ == "__main__":
    sys.exit(main())
