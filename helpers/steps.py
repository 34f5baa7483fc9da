"""steps_per_epoch arithmetic: the ceil rule, the floor rule, and what each means for an epoch.

* ceil (``math.ceil(samples / batch_size)``, what ``len(generator)`` returns): every image is seen once
  per epoch and the last batch is smaller when ``samples % batch_size != 0``. Use it for training and,
  above all, for validation, where every image should count.
* floor (``samples // batch_size``): only full batches. Older code used it to avoid a small last batch
  (e.g. for BatchNorm statistics or a fixed batch shape). The price: one batch per epoch is never
  reached: the ``samples % batch_size`` images of the partial batch when batches come in order, a full
  batch when ``fit`` shuffles the order of a ``PyDataset``'s batches; and Keras 3, which keeps one
  iterator across epochs, turns the left-over batch into a 1-step epoch of its own (lesson 03 measures it).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Literal

Rule = Literal["ceil", "floor"]
RULES: tuple[Rule, ...] = ("ceil", "floor")


def _whole_number(name: str, value: object, minimum: int) -> int:
    """``value`` as an int >= ``minimum``, or a ValueError/TypeError that names it and says what to pass."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float):
            raise TypeError(
                f"{name} must be a whole number, got the float {value!r}: Keras 3 refuses floats where it "
                f"counts. Round up with math.ceil(...), or let Keras use len(generator)."
            )
        raise TypeError(f"{name} must be a whole number, got {type(value).__name__} {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}.")
    return int(value)


def steps_for(samples: int, batch_size: int, rule: Rule = "ceil") -> int:
    """Steps (batches) per epoch for ``samples`` images in batches of ``batch_size``.

    ``rule="ceil"`` sees every image (the last batch may be smaller); ``rule="floor"`` uses full batches
    only, so one batch per epoch is never reached (and it returns 0 when samples < batch_size).
    """
    samples = _whole_number("samples", samples, 1)
    batch_size = _whole_number("batch_size", batch_size, 1)
    if rule not in RULES:
        raise ValueError(f"rule must be 'ceil' or 'floor', got {rule!r}.")
    return math.ceil(samples / batch_size) if rule == "ceil" else samples // batch_size


def validation_steps_for(samples: int, batch_size: int) -> int:
    """``validation_steps`` that evaluate every validation image exactly once: always the ceil rule.

    With floor, the ``samples % batch_size`` left-over images are never validated, and with a shuffled
    validation generator a different remainder is left out each epoch, so ``val_loss`` wobbles.
    """
    return steps_for(samples, batch_size, "ceil")


@dataclass(frozen=True)
class EpochPlan:
    """What one run of ``epochs`` epochs does with ``samples`` images, per the chosen rounding rule."""

    samples: int
    batch_size: int
    epochs: int
    replicas: int
    rule: Rule
    global_batch: int
    steps_per_epoch: int
    images_per_epoch: int
    skipped_per_epoch: int
    last_batch: int

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.epochs

    @property
    def images_per_run(self) -> int:
        return self.images_per_epoch * self.epochs

    def describe(self) -> str:
        """The calculator's answer, as a few plain lines (the arithmetic, then what Keras really does)."""
        if self.steps_per_epoch == 0:
            return (
                f"global batch: {self.batch_size} per replica x {self.replicas} replica(s) = {self.global_batch}\n"
                f"steps per epoch (floor): 0: the batch is larger than the {self.samples} samples, "
                "nothing would be trained. Use ceil."
            )
        smaller = " (smaller, and that is fine)" if self.last_batch < self.global_batch else ""
        lines = [
            f"global batch: {self.batch_size} per replica x {self.replicas} replica(s) = {self.global_batch}",
            f"steps per epoch ({self.rule}): {self.steps_per_epoch}",
            f"images seen per epoch: {self.images_per_epoch} of {self.samples}"
            + (f" ({self.skipped_per_epoch} skipped)" if self.skipped_per_epoch else ""),
            f"last batch: {self.last_batch} images{smaller}",
            f"whole run: {self.total_steps} steps, {self.images_per_run} images over {self.epochs} epoch(s)",
        ]
        if self.rule == "floor" and self.skipped_per_epoch:
            fewest = self.images_per_epoch - self.global_batch + self.skipped_per_epoch
            lines += [
                "  if fit shuffles the batch order (a PyDataset such as flow_from_directory), the batch left out",
                f"  is usually a full one: {fewest} images seen per epoch;",
                f"  Keras 3 keeps one iterator across epochs: epochs alternate {self.steps_per_epoch}, 1, "
                f"{self.steps_per_epoch}, 1, ... steps",
            ]
        return "\n".join(lines)


def epoch_plan(samples: int, batch_size: int, epochs: int = 1, replicas: int = 1, rule: Rule = "ceil") -> EpochPlan:
    """Steps, images seen and skipped, and the last batch, when ``replicas`` devices each take ``batch_size``.

    Under ``tf.distribute`` the batch you build is the GLOBAL batch, split across replicas, so steps follow
    ``batch_size * replicas``.
    """
    epochs = _whole_number("epochs", epochs, 1)
    replicas = _whole_number("replicas", replicas, 1)
    global_batch = _whole_number("batch_size", batch_size, 1) * replicas
    steps = steps_for(samples, global_batch, rule)
    seen = min(samples, steps * global_batch)
    remainder = samples - (steps - 1) * global_batch if steps else 0
    last_batch = remainder if rule == "ceil" else (global_batch if steps else 0)
    return EpochPlan(samples, batch_size, epochs, replicas, rule, global_batch, steps, seen, samples - seen, last_batch)
