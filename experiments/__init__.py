"""Running things: scenario files, replications, comparisons, tuning, calibration, reports, CLI."""
