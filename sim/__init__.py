"""The market model: scenario schema, Mesa agents, SimPy lanes, choice maths, KPIs (no I/O)."""
