"""JupyterHub for one class on one server (``make hub``): each student gets their own copy of the lessons and cache.

``classroom/hub.py`` starts the hub with this file and sets the ``FITGEN_HUB_*`` variables it reads. Students log in,
find the lessons (student copies: no solutions) in ``lessons/`` of their own home folder, and run them on the kit's
kernel; what a lesson writes goes to their own ``FITGEN_CACHE``. A lesson a student deleted is given back at their
next start; a lesson they changed is never overwritten. Every student runs as the hub's own Unix user, so
nothing is protected from them (other students' folders, the kit and its answer key): a hub for practice, not for
graded work. TEACHING.md, "One server for a class", says what to use instead.
"""

import os
import shutil
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent
TOOLS = KIT / ".cache" / "hub"
HOMES = Path(os.environ.get("FITGEN_HUB_HOMES", TOOLS / "homes"))
STATE = Path(os.environ.get("FITGEN_HUB_STATE", TOOLS / "state"))
LESSONS = Path(os.environ.get("FITGEN_HUB_LESSONS", KIT / "student"))  # `make hub` writes the student copies here
PORT = int(os.environ.get("FITGEN_HUB_PORT", "8000"))


def give_lessons(spawner) -> None:
    """Copy each lesson the student does not have into their ``lessons/`` (never overwriting one they have)."""
    folder = HOMES / spawner.user.name / "lessons"
    folder.mkdir(parents=True, exist_ok=True)
    given = []
    for lesson in sorted(LESSONS.glob("*.ipynb")):
        if not (folder / lesson.name).exists():
            shutil.copyfile(lesson, folder / lesson.name)
            given.append(lesson.name)
    if given:
        spawner.log.info("fitgen-kit: %s gets %d lesson(s): %s", spawner.user.name, len(given), ", ".join(given))


def own_cache(spawner) -> str:
    return str(HOMES / spawner.user.name / ".fitgen-cache")


STATE.mkdir(parents=True, exist_ok=True)
c = get_config()  # noqa: F821 - JupyterHub's config loader defines get_config
c.JupyterHub.bind_url = f"http://127.0.0.1:{PORT}"  # put a TLS-terminating web server in front for a real class
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{os.environ.get('FITGEN_HUB_INTERNAL_PORT', '8081')}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('FITGEN_HUB_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [str(TOOLS / "node" / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")

# Who may log in: FITGEN_HUB_STUDENTS="alice bob" (and FITGEN_HUB_ADMINS for teachers). The default authenticator
# takes any password: replace it for a real class (TEACHING.md names the usual ones).
c.JupyterHub.authenticator_class = os.environ.get("FITGEN_HUB_AUTHENTICATOR", "dummy")
c.Authenticator.allowed_users = set(os.environ.get("FITGEN_HUB_STUDENTS", "").split())
c.Authenticator.admin_users = set(os.environ.get("FITGEN_HUB_ADMINS", "").split())
if os.environ.get("FITGEN_HUB_TOKEN"):  # a token for scripts (the tests): create users, start servers, run lessons
    c.JupyterHub.services = [{"name": "fitgen-kit", "api_token": os.environ["FITGEN_HUB_TOKEN"]}]
    c.JupyterHub.load_roles = [
        {
            "name": "fitgen-kit",
            "scopes": ["admin:users", "admin:servers", "access:servers", "list:users"],
            "services": ["fitgen-kit"],
        }
    ]

# Every student runs as the hub's own Unix user, in their own home folder (see TEACHING.md on isolation).
c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
c.SimpleLocalProcessSpawner.home_dir_template = str(HOMES / "{username}")
c.Spawner.cmd = [str(TOOLS / "python" / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab/tree/lessons/00_start_here.ipynb"
c.Spawner.args = ["--allow-root"] if os.getuid() == 0 else []  # containers and CI run as root
c.Spawner.pre_spawn_hook = give_lessons
c.Spawner.environment = {
    "FITGEN_CACHE": own_cache,
    "FITGEN_DATA": str(KIT / "data"),  # one shared copy of the datasets (not write-protected)
    "JUPYTER_PATH": str(KIT / ".venv" / "share" / "jupyter"),  # the kit's kernel, "Python (fitgen-kit)"
}
# Measured (TEACHING.md): a lesson kernel peaks at up to 1.4 GB (lesson 06), lesson 07 with its two workers at about
# 2.3 GB. This spawner cannot enforce a limit (it only tells JupyterLab); systemdspawner, DockerSpawner and
# KubeSpawner enforce the same setting.
c.Spawner.mem_limit = os.environ.get("FITGEN_HUB_MEM_LIMIT", "3G")
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
