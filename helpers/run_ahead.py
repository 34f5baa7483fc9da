"""The run-ahead behind ``opencv_dataset``: each pass over it is the next epoch, its batches made by our threads."""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from helpers.opencv_pipeline import _Epochs


class RunAhead:
    """Each pass over it is the next epoch's batches, in order, made by a pool of threads that keeps ``ahead``
    batches in the works, and near a pass's end the next epoch's first batch per thread: when ``fit`` starts an
    epoch (a new pass, unless ``steps_per_epoch`` is set), the threads have not idled while it started.

    The pool lives from a pass's start until its early batches are made: TensorFlow keeps ``from_generator``'s
    function, and so this object, for the life of the process, so idle threads must not stay with it; ``forget``
    drops the early batches and the batch arrays when the dataset is gone. A pass stopped early (``take``, an
    interrupted ``fit``) drops what was made for it; the next pass is a new epoch.
    """

    def __init__(self, epochs: _Epochs, workers: int) -> None:
        self.epochs, self.workers, self.ahead = epochs, workers, 2 * workers
        self.pool: ThreadPoolExecutor | None = None
        self.window: deque = deque()  # (epoch, index, future), in the order they are wanted
        self.passes = 0  # passes started; pass p is epoch p
        self.forgotten = False  # the dataset is gone: a pass that still runs keeps nothing once it ends
        self.lock = threading.Lock()

    def _top_up(self) -> None:
        """Submit the batches after the window's last (or from the current pass's first) until ``ahead`` are in
        the works, or the next epoch's first ``workers`` are."""
        while len(self.window) < self.ahead:
            epoch, index = (self.window[-1][0], self.window[-1][1] + 1) if self.window else (self.passes - 1, 0)
            if index == len(self.epochs):
                epoch, index = epoch + 1, 0
            if epoch > self.passes or (epoch == self.passes and (self.forgotten or index >= self.workers)):
                return  # the next epoch: one batch per thread, enough to keep them busy while it starts
            if self.pool is None:
                self.pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="opencv_dataset")
            self.window.append((epoch, index, self.pool.submit(self.epochs.batch, epoch, index)))

    def _release_pool(self) -> None:
        """Let the threads finish what they were given, then end (a new pool starts with the next pass)."""
        if self.pool is not None:
            self.pool.shutdown(wait=False)
            self.pool = None

    def _drop_window(self) -> None:
        for *_, future in self.window:
            future.cancel()
        self.window.clear()

    def forget(self) -> None:
        """The dataset is gone: drop the next epoch's batches made ahead and the batch arrays, and make none ahead
        from now on (a pass that TensorFlow still runs, through a ``tf.function`` that captured it, keeps its own
        batches and lets go of its arrays when it ends)."""
        with self.lock:
            self.forgotten = True
            while self.window and self.window[-1][0] >= self.passes:
                self.window.pop()[2].cancel()
            if not self.window:
                self._release_pool()
            self.epochs.arrays.clear()  # arrays in use live on with their users; a running pass makes new ones

    def one_pass(self):
        """The batches of the next epoch (a generator for ``tf.data.Dataset.from_generator``)."""
        with self.lock:
            epoch, self.passes = self.passes, self.passes + 1
            if self.window and self.window[0][:2] != (epoch, 0):  # made for a pass that stopped early
                self._drop_window()
        finished = False
        try:
            for _ in range(len(self.epochs)):
                with self.lock:
                    if self.passes != epoch + 1:
                        raise RuntimeError(
                            "two passes over this opencv_dataset ran at once (zip of the dataset with itself, or a "
                            "loop over it inside another); iterate one pass at a time, or build one dataset per loop."
                        )
                    self._top_up()
                    future = self.window.popleft()[2]
                yield future.result()
            finished = True
        finally:
            with self.lock:
                if self.passes == epoch + 1:  # still the latest pass
                    if finished and not self.forgotten:
                        self._top_up()  # the next epoch's first batches, while fit ends this epoch
                    else:
                        self._drop_window()  # stopped early, or the dataset is gone: its batches are of no use
                if self.forgotten:
                    self.epochs.arrays.clear()
                self._release_pool()
