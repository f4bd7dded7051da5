"""What a study compares: its scenarios, objectives, robust rule, replications and space."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from experiments.tuning.inputs import ScenarioInput
from experiments.tuning.objectives import Objective, RobustRule
from experiments.tuning.space import SearchSpace


@dataclass(frozen=True)
class TunePlan:
    """Everything that makes the trial values of one study comparable."""

    inputs: tuple[ScenarioInput, ...]
    objectives: tuple[Objective, ...]
    robust: RobustRule
    reps: int
    space: SearchSpace

    @property
    def multi(self) -> bool:
        """Whether the study has several objectives (a Pareto front, no pruning)."""
        return len(self.objectives) > 1

    @property
    def metric_names(self) -> list[str]:
        """The objective KPI names, in order (the study's metric names)."""
        return [o.kpi for o in self.objectives]

    def objectives_meta(self) -> list[dict[str, str]]:
        """The objectives as recorded in the manifest and summary."""
        return [{"kpi": o.kpi, "direction": o.direction} for o in self.objectives]

    def setup(self) -> dict[str, Any]:
        """Stored on the study and checked when resuming (plain JSON data)."""
        data = {
            "scenarios": [
                {"label": s.label, "sha256": s.sha256, "seed": s.seed, "days": s.days}
                for s in self.inputs
            ],
            "objectives": self.metric_names,
            "robust": str(self.robust),
            "reps": self.reps,
            "search_space": self.space.describe(),
        }
        return json.loads(json.dumps(data))
