"""Valid answers for every intake step (see intake.samples), under the names the tests use."""

from __future__ import annotations

from intake.samples import fill_intake, sample_steps, submitted_intake

valid_steps = sample_steps

__all__ = ["fill_intake", "submitted_intake", "valid_steps"]
