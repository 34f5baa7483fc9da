"""nbgrader settings for a fitgen-kit course; `make course COURSE=folder` copies this file there, with KIT filled in.

Run nbgrader from the course folder with the kit's own nbgrader: ``$KIT/.cache/nbgrader/bin/nbgrader ...``.
"""

import os
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent  # `make course` writes the kit's absolute path here
NBGRADER_BIN = KIT / ".cache" / "nbgrader" / "bin"

# The lessons run on the kit's kernel ("fitgen-kit", registered inside .venv) and nbgrader calls `alembic` from
# its own environment: both are found through these variables, so no shell set-up is needed.
kernels = [str(KIT / ".venv" / "share" / "jupyter"), os.environ.get("JUPYTER_PATH", "")]
os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, kernels))
os.environ["PATH"] = os.pathsep.join([str(NBGRADER_BIN), os.environ.get("PATH", "")])
# Graded lessons write their trained model and checkpoints into the course folder, not the kit's .cache/.
os.environ.setdefault("FITGEN_CACHE", str(Path(__file__).resolve().parent / ".fitgen-cache"))

c = get_config()  # noqa: F821 - nbgrader's config loader defines get_config
c.CourseDirectory.course_id = "fitgen-kit"
# Feedback pages show each graded cell's code: without this, they would print the hidden tests and their answers
# (nbgrader's default, jupyter/nbgrader#917). The autograded notebooks keep them, for the teacher.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# The kit's own limit per cell; nbgrader's default (30 s) is too short for lesson 07's cluster on a busy machine.
c.Execute.timeout = 300
