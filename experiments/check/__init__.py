"""`marketsim check`: theory checks, the stylized-fact table and lever directions."""

from __future__ import annotations

from experiments.check.suite import CheckResult, check

__all__ = ["CheckResult", "check"]
