"""Lesson 07's summaries of what the cluster's workers reported: stable, rounded facts a notebook can print.

The workers write raw measurements (sample ids, steps, errors, times); these functions turn them into the
few numbers the lesson teaches and asserts, and leave timings to cells whose output nbval does not compare.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.checks import NotYetError, kind_of, require_answer
from helpers.cluster import ClusterRun, tf_config


@dataclass(frozen=True)
class FeedingRow:
    """One way of feeding the cluster, as every worker measured it during one epoch of ``fit``."""

    name: str
    steps: tuple[int, ...]  # per worker
    trained: tuple[int, ...]  # images each worker trained on (with repeats)
    distinct: tuple[int, ...]  # distinct images each worker trained on
    cluster_distinct: int  # distinct images the whole cluster trained on
    decoded: tuple[int, ...]  # images each worker decoded
    smallest_batch: int
    error: str | None = None


def feeding_rows(run: ClusterRun) -> list[FeedingRow]:
    """One row per experiment of the ``sharding`` step, gathered from every worker's report."""
    reports = [report["sharding"]["experiments"] for report in run.reports]
    rows = []
    for name in reports[0]:
        results = [report[name] for report in reports]
        errors = [result["error"] for result in results if "error" in result]
        if errors:
            rows.append(FeedingRow(name, (), (), (), 0, (), 0, errors[0]))
            continue
        ids = [result["trained_ids"] for result in results]
        rows.append(
            FeedingRow(
                name,
                tuple(result["steps"] for result in results),
                tuple(len(each) for each in ids),
                tuple(len(set(each)) for each in ids),
                len(set().union(*ids)),
                tuple(result["decoded"] for result in results),
                min(result["smallest_batch"] for result in results),
            )
        )
    return rows


def _same_or_each(values: Sequence[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "/".join(str(v) for v in values)


def decode_words(decoded: int, samples: int) -> str:
    """How much a worker decoded, in words that do not depend on read-ahead (which varies from run to run)."""
    return f"all {samples}" if decoded >= samples else "about what it trained on"


def describe_feeding(rows: Sequence[FeedingRow], samples: int) -> str:
    """A fixed-width table: steps, images each worker trained, distinct images in the cluster, decoding."""
    width = max(len(row.name) for row in rows) + 2
    lines = [
        f"{'how the data reaches fit':<{width}}{'steps':>7}{'trained/worker':>16}{'distinct in cluster':>22}"
        f"   decoded by each worker"
    ]
    for row in rows:
        if row.error:
            lines.append(f"{row.name:<{width}}  {row.error}")
            continue
        decoded = sorted({decode_words(count, samples) for count in row.decoded})
        lines.append(
            f"{row.name:<{width}}{_same_or_each(row.steps):>7}{_same_or_each(row.trained):>16}"
            f"{f'{row.cluster_distinct} of {samples}':>22}   {', '.join(decoded)}"
        )
    return "\n".join(lines)


def crash_facts(run: ClusterRun) -> dict:
    """Who died where, and what the survivors did: exit codes, the error each survivor got, and how soon."""
    crashed = [worker for worker in run.workers if "crash" in worker.report]
    if not crashed:
        raise ValueError("No worker of this run recorded a crash: was it started with crash_at=(epoch, step)?")
    dead = crashed[0]
    crash = dead.report["crash"]
    survivors = [worker for worker in run.workers if worker is not dead]
    return {
        "crashed_worker": dead.index,
        "how": crash.get("how", "kill"),
        "exit_code": dead.exit_code,
        "epoch": crash["epochs"][-1],
        "steps_done_in_epoch": crash["steps"][-1],
        "survivors": {
            worker.index: {
                "exit_code": worker.exit_code,
                "error": worker.report.get("train", {}).get("error"),
                "seconds_after_crash": worker.report.get("train", {}).get("error_time", float("nan")) - crash["time"],
            }
            for worker in survivors
        },
    }


def backup_epoch(folder: Path | str) -> int | None:
    """The last finished epoch (from 1) saved in a ``BackupAndRestore`` folder, or None when it holds none.

    Read from the checkpoint itself: tf-keras stores the 0-based epoch as ``ckpt_saved_epoch``
    (``WorkerTrainingState`` in ``tf_keras/src/distribute/worker_training_state.py``).
    """
    from helpers.runtime import quiet_import

    tf = quiet_import("tensorflow")
    places = [Path(folder) / "chief", Path(folder)]  # a cluster's chief writes into chief/, one process into the folder
    found = [place for place in places if (place / "checkpoint").is_file()]
    prefix = tf.train.latest_checkpoint(str(found[0])) if found else None
    if prefix is None:
        return None
    return int(tf.train.load_variable(prefix, "ckpt_saved_epoch/.ATTRIBUTES/VARIABLE_VALUE")) + 1


def id_ranges(ids: Sequence[int], shown: int = 3) -> str:
    """Sorted sample ids as runs of consecutive numbers, the first ``shown`` of them: ``0-31, 64-95, ...``."""
    runs: list[list[int]] = []
    for number in sorted(set(ids)):
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    text = ", ".join(f"{first}-{last}" if last > first else str(first) for first, last in runs[:shown])
    return text + (", ..." if len(runs) > shown else "")


def largest_weight_difference(first: Path | str, second: Path | str) -> float:
    """The largest absolute difference between the chief's final weights of two runs (``final-weights.npz``)."""
    with np.load(Path(first) / "final-weights.npz") as one, np.load(Path(second) / "final-weights.npz") as two:
        if one.files != two.files or any(one[key].shape != two[key].shape for key in one.files):
            raise ValueError("The two runs trained different models: their weights cannot be compared.")
        return max(float(np.max(np.abs(one[key] - two[key]))) for key in one.files)


def host_commands(hosts: Sequence[str], arguments: Sequence[str], port: int = 2222) -> str:
    """The command to type on each machine, in the kit's folder, to run the same training on real hosts."""
    addresses = [f"{host}:{port}" for host in hosts]
    worker = " ".join(shlex.quote(part) for part in [".venv/bin/python", "-m", "helpers.cluster_worker", *arguments])
    return "\n".join(
        f"# on {host}:\nTF_CONFIG={shlex.quote(tf_config(addresses, index))} {worker}"
        for index, host in enumerate(hosts)
    )


def saved_files(run: ClusterRun) -> list[str]:
    """What each worker's save wrote and whether it is still there: only the chief's file is kept."""
    lines = []
    for worker in run.workers:
        saved = worker.report["train"]["saved"]
        role = "chief" if worker.report["cluster"]["chief"] else "worker"
        state = "kept" if saved["kept"] else "deleted after writing"
        lines.append(f"worker {worker.index} ({role}): wrote {Path(saved['path']).name}, {state}")
    return lines


def check_shards(exercise: str, share: object) -> None:
    """Check a student's ``share(names, workers, index)``: each name to exactly one worker, shares within one.

    It is called for a few clusters, including one with fewer files than workers; a function that raises, or
    returns something other than a list of names, gets its own message.
    """
    require_answer(exercise, share)
    if not callable(share):
        raise NotYetError(f"{exercise}: expected a function share(names, workers, index), got {kind_of(share)}.")
    for count, workers in ((10, 2), (7, 3), (2, 4)):
        names = [f"image_{number}.jpg" for number in range(count)]
        call = f"share(<{count} names>, {workers}, index)"
        try:
            shares = [share(list(names), workers, index) for index in range(workers)]
            if any(isinstance(part, str) or not hasattr(part, "__iter__") for part in shares):
                wrong = next(part for part in shares if isinstance(part, str) or not hasattr(part, "__iter__"))
                raise NotYetError(f"{exercise}: {call} should return a list of file names, not {kind_of(wrong)}.")
            shares = [list(part) for part in shares]
        except NotYetError:
            raise
        except Exception as error:  # noqa: BLE001 - any error in student code becomes one clear message
            raise NotYetError(f"{exercise}: {call} raised {type(error).__name__}: {error}") from None
        strange = next((name for part in shares for name in part if not isinstance(name, str)), None)
        if strange is not None:
            raise NotYetError(
                f"{exercise}: {call} should return file names (str) from `names`, not {kind_of(strange)} ({strange!r})."
            )
        taken = [name for part in shares for name in part]
        if sorted(taken) == sorted(names * workers):
            raise NotYetError(f"{exercise}: every worker got every file: that is no sharding (AutoShardPolicy.OFF).")
        twice = sorted({name for name in taken if taken.count(name) > 1})
        if twice:
            raise NotYetError(f"{exercise}: {call}: {twice[0]} went to more than one worker.")
        missing = sorted(set(names) - set(taken))
        if missing:
            raise NotYetError(f"{exercise}: {call}: {missing[0]} went to no worker, so it would never be trained on.")
        sizes = [len(part) for part in shares]
        if max(sizes) - min(sizes) > 1:
            raise NotYetError(f"{exercise}: {call} gave shares of {sizes} files: the biggest sets everyone's pace.")
    print(f"{exercise}: correct (every file went to exactly one worker; shares differ by at most one).")
