"""Batch arrays that an input pipeline fills again once nothing refers to them, aligned for TensorFlow."""

from __future__ import annotations

import sys
import threading

import numpy as np


class BatchArrays:
    """Float32 batch arrays, each used again once nothing refers to it any more (not TensorFlow, not a queue, not
    a caller's variable), and aligned to 64 bytes, which TensorFlow takes as they are (any other array it copies).

    Why: the kernel maps and zeroes a fresh 12 MB array's memory anew (about 400 page faults a batch, with the
    allocator settings that TensorFlow's ``from_generator`` leaves), and copying an unaligned one costs the hand-over
    0.3 ms a batch (what each costs the pipeline: README, "The fast input pipeline"). Each array is a view of one of
    ``owners``, and every view of it refers to its owner, so an owner that nothing else refers to is free to fill
    again.
    """

    ALIGNMENT = 64

    def __init__(self) -> None:
        self.owners: list[np.ndarray] = []
        self.lock = threading.Lock()
        self.owners.append(np.empty(0, np.uint8))
        self.unused = self._references(0)  # what an owner nothing else holds counts, measured the way take checks
        self.owners.clear()

    def _references(self, position: int) -> int:
        return sys.getrefcount(self.owners[position])

    def take(self, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 array of ``shape`` (contents undefined) that nothing else uses."""
        size = int(np.prod(shape)) * 4 + self.ALIGNMENT
        with self.lock:
            position = next(  # an index, not a loop variable: that would hold a reference of its own
                (
                    i
                    for i in range(len(self.owners))
                    if self.owners[i].size == size and self._references(i) == self.unused
                ),
                None,
            )
            if position is None:
                position = len(self.owners)
                self.owners.append(np.empty(size, np.uint8))
            start = -self.owners[position].ctypes.data % self.ALIGNMENT
            return self.owners[position][start : start + size - self.ALIGNMENT].view(np.float32).reshape(shape)

    def clear(self) -> None:
        """Let go of every owner (those still in use live on with their users)."""
        with self.lock:
            self.owners.clear()
