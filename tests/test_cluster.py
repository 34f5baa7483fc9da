"""helpers.cluster (start, wait, always stop), the worker's arguments, and lesson 07's summaries.

Process tests use tests/fake_worker.py (no TensorFlow, milliseconds); the real workers run in lesson 07.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import cluster
from helpers.checks import NotYetError
from helpers.cluster import (
    ClusterRun,
    WorkerFailed,
    WorkerResult,
    free_loopback_ports,
    prepare_folder,
    run_cluster,
    tf_config,
)
from helpers.cluster_experiments import error_line
from helpers.cluster_reports import (
    backup_epoch,
    check_shards,
    crash_facts,
    decode_words,
    describe_feeding,
    feeding_rows,
    host_commands,
    id_ranges,
    largest_weight_difference,
    saved_files,
)
from helpers.cluster_worker import read_tf_config, watch_parent, worker_arguments
from helpers.datasets import REPO_ROOT

FAKE = "tests.fake_worker"


def gone(pid: int) -> bool:
    """True when the process no longer runs (absent, or a zombie waiting to be reaped by init)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def all_gone_soon(pids: list[int], seconds: float = 10.0) -> bool:
    """True once every process has ended; False if one still runs after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not all(gone(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_free_ports_are_distinct_and_free() -> None:
    ports = free_loopback_ports(3)
    assert len(set(ports)) == 3
    for port in ports:
        cluster.check_port_free(port)


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "2"])
def test_a_cluster_needs_a_whole_positive_number_of_workers(tmp_path: Path, bad: object) -> None:
    with pytest.raises(ValueError, match="workers must be a whole number of at least 1"):
        run_cluster(bad, ["ok"], tmp_path / "run", module=FAKE)
    assert not (tmp_path / "run").exists()


def test_a_port_in_use_is_named_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ValueError, match=f"Port {port} on 127.0.0.1 is already in use"):
            run_cluster(2, ["ok"], tmp_path / "run", ports=[port, free_loopback_ports(1)[0]], module=FAKE)
    assert not (tmp_path / "run").exists()
    with pytest.raises(ValueError, match="one port per worker"):
        run_cluster(2, ["ok"], tmp_path / "run", ports=[1234], module=FAKE)
    for ports, words in (([port, port], "a port of its own"), ([0, 1], "from 1 to 65535"), ([70000, 1], "65535")):
        with pytest.raises(ValueError, match=words):
            run_cluster(2, ["ok"], tmp_path / "run", ports=ports, module=FAKE)
    for timeout in (0, -1, "60", None):
        with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
            run_cluster(2, ["ok"], tmp_path / "run", timeout=timeout, module=FAKE)
    with pytest.raises(ValueError, match="arguments must be a list of strings"):
        run_cluster(2, "--steps train", tmp_path / "run", module=FAKE)
    assert not (tmp_path / "run").exists()


def test_each_worker_gets_its_own_tf_config_and_report(tmp_path: Path) -> None:
    run = run_cluster(np.int64(3), ["ok"], tmp_path / "run", module=FAKE)
    assert [worker.exit_code for worker in run.workers] == [0, 0, 0]
    assert [worker.report["index"] for worker in run.workers] == [0, 1, 2]
    addresses = run.workers[0].report["workers"]
    assert len(set(addresses)) == 3 and all(address.startswith("127.0.0.1:") for address in addresses)
    assert all(worker.report["workers"] == addresses for worker in run.workers)
    assert "fake worker 2 started" in run.workers[2].log


def test_a_worker_that_raises_is_named_with_its_exit_code_and_log(tmp_path: Path) -> None:
    with pytest.raises(WorkerFailed) as failure:
        run_cluster(2, ["raise"], tmp_path / "run", module=FAKE)
    message = str(failure.value)
    assert message.startswith("worker 1 exited with code 1.")
    assert "ZeroDivisionError: the worker script failed on purpose" in message
    assert failure.value._render_traceback_() == [f"WorkerFailed: {message}"]
    run = run_cluster(2, ["raise"], tmp_path / "run", module=FAKE, check=False)
    assert [worker.exit_code for worker in run.workers] == [0, 1]


def test_the_first_failure_stops_the_cluster_at_once(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(WorkerFailed, match="worker 1 exited with code 1"):
        run_cluster(2, ["raise-while-0-hangs"], tmp_path / "run", timeout=600, module=FAKE)
    assert time.monotonic() - started < 300  # far from the 600 s timeout: worker 0 was stopped when worker 1 failed
    assert gone(json.loads((tmp_path / "run" / "worker-0.json").read_text())["pid"])


def test_a_frozen_worker_ends_the_wait_and_is_killed(tmp_path: Path) -> None:
    run = run_cluster(2, ["freeze"], tmp_path / "run", timeout=600, module=FAKE, check=False)
    assert [worker.exit_code for worker in run.workers] == [0, -9]  # returned (a timeout would have raised)
    assert gone(run.workers[1].report["pid"])


def test_a_worker_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    script = (
        "import os, subprocess, sys, time\n"
        "env = {**os.environ, 'FITGEN_CLUSTER_PARENT': str(os.getpid())}\n"
        "code = 'import time; from helpers.cluster_worker import watch_parent; watch_parent(); time.sleep(60)'\n"
        "child = subprocess.Popen([sys.executable, '-c', code], env=env, start_new_session=True)\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(1)\n"
    )
    parent = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    orphan = int(parent.stdout)
    assert all_gone_soon([orphan])
    watch_parent()  # without the variable (a worker started by hand) it watches nothing and returns


def test_a_hung_worker_and_its_children_are_killed(tmp_path: Path) -> None:
    with pytest.raises(WorkerFailed, match=r"worker 0 was still running after timeout=2 s and was stopped"):
        run_cluster(2, ["hang-with-child"], tmp_path / "run", timeout=2, module=FAKE)
    reports = [json.loads((tmp_path / "run" / f"worker-{index}.json").read_text()) for index in (0, 1)]
    pids = [pid for report in reports for pid in (report["pid"], report["child"])]
    assert len(pids) == 4 and all_gone_soon(pids)  # the children die a moment after their group is killed


def test_an_interrupted_cell_leaves_no_worker_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cluster.subprocess, "Popen", recording_popen)
    monkeypatch.setattr(cluster.time, "sleep", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_cluster(2, ["hang"], tmp_path / "run", module=FAKE)
    assert len(started) == 2 and all(process.poll() is not None for process in started)


def test_a_run_folder_is_emptied_only_if_the_kit_made_it(tmp_path: Path) -> None:
    mine = prepare_folder(tmp_path / "run")
    (mine / "old.log").write_text("from the last run")
    (mine / "nested").mkdir()
    (mine / "nested" / "file").write_text("x")
    prepare_folder(mine)
    assert sorted(path.name for path in mine.iterdir()) == [cluster.FOLDER_MARK]
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="was not made by the kit, so it is left untouched"):
        prepare_folder(theirs)
    assert (theirs / "notes.txt").read_text() == "keep me"


def test_worker_arguments_are_checked_before_a_process_starts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for name in ("cat", "dog"):
        (data / name).mkdir(parents=True)
        (data / name / "1.jpg").write_bytes(b"")
    arguments = worker_arguments(data, ["train"], per_replica_batch=np.int64(8), epochs=4, crash_at=(3, 6), backup="b")
    assert arguments == [
        "--data", str(data), "--steps", "train", "--per-replica-batch", "8", "--epochs", "4",
        "--backup", "b", "--crash-at", "3:6", "--crash", "kill",
    ]  # fmt: skip
    for bad, words in (
        ({"per_replica_batch": 0}, "per_replica_batch must be a whole number of at least 1, got 0"),
        ({"epochs": -2}, "epochs must be"),
        ({"crash_at": (0, 1)}, "crash_at's epoch must be"),
        ({"crash_at": (3,)}, "crash_at must be \\(epoch, step\\)"),
        ({"crash_at": (9, 6)}, "is never reached"),
        ({"crash_at": (3, 6), "crash": "explode"}, "crash must be one of"),
        ({"steps": ["trian"]}, "steps must be a list of some of"),
        ({"steps": "train"}, "steps must be a list of some of"),
        ({"steps": []}, "steps must be a list of some of"),
    ):
        with pytest.raises(ValueError, match=words):
            worker_arguments(data, **({"steps": ["train"]} | bad))
    with pytest.raises(ValueError, match="is not a folder"):
        worker_arguments(tmp_path / "missing", ["train"])
    (data / "dog" / "1.jpg").unlink()
    with pytest.raises(ValueError, match=r"at least two class folders with images; .* has \['cat'\]"):
        worker_arguments(data, ["train"])


def test_the_worker_command_refuses_bad_arguments_in_one_line(tmp_path: Path) -> None:
    for arguments, words in (
        (["--per-replica-batch", "0"], "--per-replica-batch: expected a whole number >= 1, got '0'"),
        (["--steps", "sharding,fly"], "--steps: unknown step 'fly'"),
        (["--crash-at", "three"], "expected EPOCH:STEP such as 3:6"),
    ):
        command = [sys.executable, "-m", "helpers.cluster_worker", "--data", "data", "--report", str(tmp_path)]
        result = subprocess.run([*command, *arguments], capture_output=True, text=True, cwd=REPO_ROOT, check=False)
        assert result.returncode == 2 and words in result.stderr and len(result.stderr.splitlines()) == 1


def test_tf_config_round_trips_and_bad_ones_are_explained() -> None:
    addresses = ["10.0.0.1:2222", "10.0.0.2:2222"]
    assert read_tf_config(tf_config(addresses, 1)) == (addresses, 1)
    for text, words in (
        (None, "TF_CONFIG is not set"),
        ("{not json", "TF_CONFIG is not valid"),
        ('{"cluster": {}}', "TF_CONFIG is not valid"),
        (json.dumps({"cluster": {"worker": addresses}, "task": {"type": "worker", "index": 2}}), "from 0 to 1"),
        (json.dumps({"cluster": {"worker": addresses}, "task": {"type": "chief", "index": 0}}), "must be a worker"),
    ):
        with pytest.raises(ValueError, match=words):
            read_tf_config(text)


def test_error_line_keeps_the_message_and_drops_tensorflow_noise() -> None:
    graph = (
        "Graph execution error:\n\nDetected at node MultiDeviceIteratorGetNextFromShard defined at (most recent "
        "call last):\n<stack traces unavailable>\nCould not apply FILE based sharding: the dataset only has 1 "
        "file(s), which is not enough for the required 2 shards/workers. If you are using ...\n\t [[{{node X}}]]"
    )
    assert error_line(RuntimeError(graph)) == (
        "RuntimeError: Could not apply FILE based sharding: the dataset only has 1 file(s), which is not enough "
        "for the required 2 shards/workers"
    )
    dump = '{{function_node __wrapped__X}} Found an unshardable source dataset: goo.gle/debugonly  \nname: "T"'
    assert error_line(LookupError(dump)) == "LookupError: Found an unshardable source dataset"
    replica = "Attempt to convert a value (PerReplica:{\n  0: <tf.Tensor: ...>\n}) with an unsupported type"
    assert (
        error_line(ValueError(replica))
        == "ValueError: Attempt to convert a value (PerReplica:{...}) with an unsupported type"
    )


def fake_run(experiments: list[dict], folder: Path = Path(".")) -> ClusterRun:
    """A ClusterRun whose workers reported these sharding experiments (one dict per worker)."""
    workers = tuple(
        WorkerResult(index, 0, {"sharding": {"experiments": report}, "cluster": {"chief": index == 0}}, "")
        for index, report in enumerate(experiments)
    )
    return ClusterRun(workers, 1.0, folder)


def test_feeding_rows_gather_both_workers() -> None:
    half = {"steps": 2, "trained_ids": [0, 2], "decoded": 4, "smallest_batch": 2}
    other = {"steps": 2, "trained_ids": [1, 3], "decoded": 2, "smallest_batch": 1}
    same = {"steps": 2, "trained_ids": [0, 1], "decoded": 3, "smallest_batch": 2}
    failed = {"error": "NotFoundError: Found an unshardable source dataset"}
    run = fake_run([{"a": half, "b": same, "c": failed}, {"a": other, "b": same, "c": failed}])
    rows = {row.name: row for row in feeding_rows(run)}
    assert rows["a"].cluster_distinct == 4 and rows["a"].trained == (2, 2) and rows["a"].smallest_batch == 1
    assert rows["b"].cluster_distinct == 2 and sum(rows["b"].trained) == 4
    assert rows["c"].error == failed["error"]
    table = describe_feeding(list(rows.values()), samples=4)
    assert "4 of 4" in table and "2 of 4" in table and "NotFoundError" in table
    assert "all 4" in table and "about what it trained on" in table


def test_decode_words() -> None:
    assert decode_words(1064, 1000) == "all 1000"
    assert decode_words(500, 1000) == decode_words(576, 1000) == "about what it trained on"


def test_crash_facts_name_the_dead_worker_and_the_survivors_error() -> None:
    dead = WorkerResult(1, -9, {"crash": {"epochs": [1, 2, 3], "steps": [16, 16, 5], "time": 100.0}}, "")
    survivor = WorkerResult(0, 1, {"train": {"error": "UnavailableError: Socket closed", "error_time": 100.25}}, "")
    facts = crash_facts(ClusterRun((survivor, dead), 3.0, Path(".")))
    assert facts["crashed_worker"] == 1 and facts["epoch"] == 3 and facts["steps_done_in_epoch"] == 5
    assert facts["survivors"][0]["exit_code"] == 1 and facts["survivors"][0]["seconds_after_crash"] == 0.25
    with pytest.raises(ValueError, match="No worker of this run recorded a crash"):
        crash_facts(ClusterRun((survivor,), 1.0, Path(".")))


def test_backup_epoch_reads_the_saved_epoch_from_the_checkpoint(tmp_path: Path) -> None:
    from helpers.runtime import quiet_import

    tf = quiet_import("tensorflow")
    assert backup_epoch(tmp_path) is None
    checkpoint = tf.train.Checkpoint(ckpt_saved_epoch=tf.Variable(1, dtype=tf.int64))
    manager = tf.train.CheckpointManager(checkpoint, str(tmp_path / "chief"), max_to_keep=1)
    manager.save()
    assert backup_epoch(tmp_path) == 2  # tf-keras stores the 0-based epoch
    checkpoint.ckpt_saved_epoch.assign(4)
    manager.save()
    assert backup_epoch(tmp_path) == 5


def test_id_ranges() -> None:
    assert id_ranges([*range(32), *range(64, 96), *range(128, 160), 200]) == "0-31, 64-95, 128-159, ..."
    assert id_ranges([5, 3, 4, 9]) == "3-5, 9"


def test_weight_differences(tmp_path: Path) -> None:
    first, second, other = (tmp_path / name for name in ("first", "second", "other"))
    for folder, shift in ((first, 0.0), (second, 0.5)):
        folder.mkdir()
        np.savez(folder / "final-weights.npz", np.zeros((2, 2)), np.full(3, shift))
    assert largest_weight_difference(first, second) == 0.5
    assert largest_weight_difference(first, first) == 0.0
    other.mkdir()
    np.savez(other / "final-weights.npz", np.zeros((3, 2)))
    with pytest.raises(ValueError, match="different models"):
        largest_weight_difference(first, other)


def test_host_commands_give_each_machine_a_tf_config_it_can_read() -> None:
    text = host_commands(["10.0.0.1", "10.0.0.2"], ["--data", "my data", "--steps", "train"], port=2345)
    commands = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(commands) == 2
    for index, line in enumerate(commands):
        words = shlex.split(line)
        assert words[0].startswith("TF_CONFIG=")
        assert read_tf_config(words[0].removeprefix("TF_CONFIG=")) == (["10.0.0.1:2345", "10.0.0.2:2345"], index)
        assert words[1:6] == [".venv/bin/python", "-m", "helpers.cluster_worker", "--data", "my data"]


def test_saved_files_say_only_the_chief_keeps_its_model() -> None:
    reports = [
        {"train": {"saved": {"path": "/x/final.keras", "kept": True}}, "cluster": {"chief": True}},
        {"train": {"saved": {"path": "/x/final.worker-1.tmp.keras", "kept": False}}, "cluster": {"chief": False}},
    ]
    run = ClusterRun(tuple(WorkerResult(i, 0, report, "") for i, report in enumerate(reports)), 1.0, Path("."))
    assert saved_files(run) == [
        "worker 0 (chief): wrote final.keras, kept",
        "worker 1 (worker): wrote final.worker-1.tmp.keras, deleted after writing",
    ]


def strided(names, workers, index):
    return names[index::workers]


def blocks(names, workers, index):
    return [name for number, name in enumerate(names) if number * workers // len(names) == index]


def by_modulo(names, workers, index):
    return (name for number, name in enumerate(names) if number % workers == index)


@pytest.mark.parametrize("share", [strided, blocks, by_modulo])
def test_check_shards_accepts_answers_written_other_ways(share, capsys: pytest.CaptureFixture) -> None:
    check_shards("Exercise 2", share)
    assert "Exercise 2: correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("share", "words"),
    [
        (lambda names, workers, index: names, "that is no sharding"),
        (lambda names, workers, index: names[index], "should return a list of file names"),
        (lambda names, workers, index: names[: len(names) // workers + 1], "went to more than one worker"),
        (
            lambda names, workers, index: names[index * (len(names) // workers) :][: len(names) // workers],
            "went to no worker",
        ),
        (lambda names, workers, index: names if index == 0 else [], "the biggest sets everyone's pace"),
        (lambda names, workers, index: names[index :: workers - 1], "more than one worker"),
        (lambda names, workers: names, "raised TypeError"),
        (lambda names, workers, index: (nme for nme in names[index::workers] if typo), "raised NameError"),  # noqa: F821
        (lambda names, workers, index: [Path(name) for name in names[index::workers]], "should return file names"),
        (lambda names, workers, index: [names[index::workers]], "should return file names"),
        (..., "not answered yet"),
        ("names[index::workers]", "expected a function"),
    ],
)
def test_check_shards_names_each_typical_mistake(share, words: str) -> None:
    with pytest.raises(NotYetError, match=words):
        check_shards("Exercise 2", share)


def test_no_process_of_this_module_outlives_the_tests() -> None:
    mine = [line for line in os.popen("ps -eo pid,args").read().splitlines() if FAKE in line and "ps -eo" not in line]
    assert mine == []
