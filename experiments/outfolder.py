"""Output folders: owned by one command and written by one process at a time (a lock file).

A command writes into a folder it creates, or one holding the same command's earlier results
(read from ``manifest.json`` / ``summary.json``); anything else (an existing file, a folder with
other files, another command's results) is refused before any work starts, unless ``force``
replaces it. While a command writes, ``OUT/.marketsim.lock`` (created with ``O_EXCL``) holds
its pid, host and start time: a second command into the same folder is refused, and a lock
left by a process that is no longer alive on this host is taken over.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim.errors import StorageError

LOCK_NAME = ".marketsim.lock"
#: a calibration folder is recognised by its fit and its scenario fragment
CALIBRATION_FRAGMENTS = {
    "repeat_fragment.yaml": "calibrate transactions",
    "demand_fragment.yaml": "calibrate demand",
}
UNREADABLE_LOCK_GRACE_S = 30.0  # a lock without content younger than this is being written
_SHOWN_FILES = 3


@dataclass(frozen=True)
class FolderLock:
    """The lock a command holds on its output folder (``OUT/.marketsim.lock``)."""

    path: Path
    pid: int
    host: str

    def release(self) -> None:
        """Remove the lock file if it is still ours."""
        holder = _read_lock(self.path)
        if holder is not None and holder.get("pid") == self.pid and holder.get("host") == self.host:
            self.path.unlink(missing_ok=True)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _read_lock(path: Path) -> dict[str, Any] | None:
    return _read_json(path)


def folder_owner(out: Path) -> str | None:
    """The command whose results ``out`` holds (``run``, ``run --reps``, ``compare``, ...)."""
    from experiments.outputs import MANIFEST, SUMMARY, command_of

    for name in (MANIFEST, SUMMARY):
        data = _read_json(out / name)
        owner = command_of(data, out) if data is not None else None
        if owner is not None:
            return owner
    for fragment, command in CALIBRATION_FRAGMENTS.items():  # calibrate writes no summary
        if (out / "fit.json").is_file() and (out / fragment).is_file():
            return command
    lock = _read_lock(out / LOCK_NAME)  # a command killed before it recorded anything
    command = lock.get("command") if lock is not None else None
    return command if isinstance(command, str) else None


def _own_file(name: str) -> bool:
    """The lock, or a temporary file of an interrupted atomic write."""
    return name == LOCK_NAME or (name.startswith(".") and name.endswith(".tmp"))


def _foreign_files(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if not _own_file(p.name))


def _refusal(out: Path, command: str) -> str | None:
    """Why ``command`` may not write into ``out`` (None: it may)."""
    if out.is_symlink() and not out.exists():
        return f"{out} is a broken symbolic link"
    if out.exists() and not out.is_dir():
        return f"{out} is a file, not a folder"
    if not out.exists():
        return None
    files = _foreign_files(out)
    if not files:
        return None
    owner = folder_owner(out)
    if owner == command:
        return None
    if owner is not None:
        return f"{out} holds the results of `marketsim {owner}`, not `{command}`"
    shown = ", ".join(files[:_SHOWN_FILES]) + (", ..." if len(files) > _SHOWN_FILES else "")
    return f"{out} is a folder with other files ({shown}), not marketsim `{command}` results"


def check_folder(out: str | Path, command: str, *, force: bool = False) -> None:
    """Refuse ``out`` unless ``command`` may write there (see the module docstring).

    Raises:
        StorageError: ``out`` is a file or holds other files or another command's results
            (``force`` allows it: the folder is then replaced).
    """
    why = _refusal(Path(out), command)
    if why is not None and not force:
        raise StorageError(f"--out: {why}; choose another --out, or add --force to replace it")
    if force:
        _check_replaceable(Path(out))


def _check_replaceable(out: Path) -> None:
    """``force`` never replaces the file system root, the home folder or the working folder."""
    target = out.resolve()
    cwd = Path.cwd().resolve()
    if (
        target == Path(target.anchor)
        or target == Path.home().resolve()
        or cwd.is_relative_to(target)
    ):
        raise StorageError(f"--force: refusing to replace {target} (root, home or working folder)")


def _replace(out: Path) -> None:
    """Empty ``out`` (keeping the lock) or remove the file (or link) at ``out``."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        out.unlink()
        return
    if not out.exists():
        return
    for child in out.iterdir():
        if child.name == LOCK_NAME:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, Linux), to tell a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def _stale(path: Path, holder: dict[str, Any] | None) -> bool:
    """A lock whose process is gone (same host; a reused pid counts as gone), or an empty
    one left long ago."""
    if holder is None:
        try:
            age = datetime.now(UTC).timestamp() - path.stat().st_mtime
        except FileNotFoundError:
            return True
        return age > UNREADABLE_LOCK_GRACE_S
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int):
        return False
    if pid == os.getpid():
        return False
    recorded = holder.get("pid_start")
    reused = recorded is not None and _process_start(pid) not in (None, recorded)
    return reused or not _alive(pid)


def _in_use(out: Path, holder: dict[str, Any] | None) -> StorageError:
    if holder is None:
        who = "another process (its lock is being written)"
    else:
        who = (
            f"`marketsim {holder.get('command')}` (pid {holder.get('pid')} on "
            f"{holder.get('host')}, since {holder.get('started')})"
        )
    return StorageError(
        f"--out: {out} is being written by {who}; wait for it to finish or choose another "
        f"--out (remove {out / LOCK_NAME} only if that process is gone)"
    )


def acquire_lock(out: Path, command: str) -> FolderLock:
    """Create ``OUT/.marketsim.lock`` atomically (taking over a stale one).

    Raises:
        StorageError: another live process holds the folder.
    """
    path = out / LOCK_NAME
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "pid_start": _process_start(os.getpid()),
    }
    for _attempt in range(3):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = _read_lock(path)
            if not _stale(path, holder):
                raise _in_use(out, holder) from None
            path.unlink(missing_ok=True)  # a dead process's lock: take it over
            continue
        except OSError as exc:
            raise StorageError(f"--out: cannot lock {out}: {exc.strerror or exc}") from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record, fh)
        return FolderLock(path, record["pid"], record["host"])  # type: ignore[arg-type]
    raise _in_use(out, _read_lock(path))


def claim_folder(out: str | Path, command: str, *, force: bool = False) -> FolderLock:
    """Check ``out`` for ``command``, create it, lock it and (with ``force``) empty it.

    Raises:
        StorageError: ``out`` is refused (see :func:`check_folder`) or locked by a live process.
    """
    out = Path(out)
    check_folder(out, command, force=force)
    if force and (out.is_symlink() or (out.exists() and not out.is_dir())):
        _replace(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"--out: cannot create {out}: {exc.strerror or exc}") from None
    lock = acquire_lock(out, command)
    try:
        if force:
            _replace(out)
        else:
            check_folder(out, command)  # again, now that no other command can change it
    except BaseException:
        lock.release()
        raise
    return lock


@contextmanager
def owned_folder(
    out: str | Path | None, command: str, *, force: bool = False
) -> Iterator[Path | None]:
    """Hold ``out`` for ``command`` during the block (nothing happens when ``out`` is None)."""
    if out is None:
        yield None
        return
    lock = claim_folder(out, command, force=force)
    try:
        yield Path(out)
    finally:
        lock.release()
