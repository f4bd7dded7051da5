"""Result files: paths confined to the output folder, atomic writes, JSON without NaN."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import StorageError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


class OutputPathError(StorageError, ValueError):
    """A result path would leave the chosen output folder."""


def safe_path(out_dir: str | Path, relative: str | Path) -> Path:
    """``out_dir / relative``, refusing anything that resolves outside ``out_dir``."""
    root = Path(out_dir).resolve()
    target = (root / relative).resolve()
    if target != root and not target.is_relative_to(root):
        raise OutputPathError(f"{relative!s} would be written outside {root}")
    return target


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write via a temporary file in the same folder and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(out_dir: str | Path, relative: str, text: str) -> Path:
    """Atomically write text under ``out_dir``."""
    path = safe_path(out_dir, relative)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
    return path


def write_json(out_dir: str | Path, relative: str, data: Any) -> Path:
    """Atomically write JSON (NaN and infinities become null)."""
    return write_text(out_dir, relative, json.dumps(_jsonable(data), indent=2) + "\n")


def json_line(data: Any) -> str:
    """``data`` as one line of JSON (NaN and infinities become null), without the newline."""
    return json.dumps(_jsonable(data))


def write_csv(out_dir: str | Path, relative: str, frame: pd.DataFrame) -> Path:
    """Atomically write a CSV without the index."""
    path = safe_path(out_dir, relative)
    atomic_write(path, lambda p: frame.to_csv(p, index=False))
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
