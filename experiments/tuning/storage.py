"""Optuna storages for a study: opening them by URL, hiding passwords, study-wide locks.

Default storage ``sqlite:///OUT/study.db`` (absolute path; a normal RDB storage, so
``optuna-dashboard sqlite:///...`` opens it); without an output folder, an in-memory
storage. Any Optuna RDB URL works (``postgresql://user:pass@host/db``), and ``journal:PATH``
is a journal file (``JournalStorage(JournalFileBackend(PATH))``) for shared filesystems.

Every storage comes with a :class:`StudyLock` shared by all processes using it (PostgreSQL
``pg_advisory_lock`` on a dedicated connection, MySQL ``GET_LOCK``, an ``fcntl`` lock file
next to a SQLite database or journal file). It serializes creating the tables and the study,
and makes the trial budget exact (see :func:`experiments.tuning.trials.run_budget`).
Passwords in storage URLs are shown as ``user:***@`` in the manifest, logs and summary.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.tuning.liveness import GRACE_FACTOR
from sim.errors import StorageError

LOCK_SCHEMA = "marketsim:schema"
IN_MEMORY = "in-memory"

_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*):([^@\s]*)@")


def redact(text: str) -> str:
    """Hide passwords of URLs in ``text``: ``scheme://user:pass@host`` -> ``user:***@``."""
    return _URL_PASSWORD.sub(r"\1:***@", str(text))


def _scrub(text: str, url: str) -> str:
    """``text`` with every password of ``url`` replaced (error messages may echo them)."""
    out = redact(text)
    for m in _URL_PASSWORD.finditer(url):
        if m.group(2):
            out = out.replace(m.group(2), "***")
    return out


def storage_reason(exc: BaseException, url: str = "") -> str:
    """Why a storage failed, in one line, without the passwords of ``url``."""
    if isinstance(exc, ImportError):
        missing = getattr(exc.__cause__, "name", None) or getattr(exc, "name", None)
        what = f" ({missing})" if missing else ""
        return f"the database driver for this URL is not installed{what}"
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return _scrub(f"{type(exc).__name__}: {first}", url)


# ---------------------------------------------------------------------------- locks
class StudyLock:
    """A lock shared by every process using one storage; ``hold(name)`` is a context manager.

    It makes "count the trials, then ask for a new one" atomic across processes and
    machines, so the trial budget is never overshot, and it serializes creating tables,
    studies and the start-up bookkeeping. Held for milliseconds, never during a trial. This
    base class is a process-local lock (in-memory storages and unknown databases).
    """

    def __init__(self) -> None:
        self._local = threading.Lock()

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        """Hold the lock called ``name`` for the ``with`` block."""
        with self._local:
            self._acquire(name)
            try:
                yield
            finally:
                self._release(name)

    def _acquire(self, name: str) -> None:
        pass

    def _release(self, name: str) -> None:
        pass

    def close(self) -> None:
        """Give back the lock's connection or file."""


def _lock_key(name: str) -> int:
    """A signed 64-bit key for ``pg_advisory_lock`` from a lock name."""
    digest = hashlib.sha256(f"marketsim:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class _AdvisoryLock(StudyLock):
    """PostgreSQL ``pg_advisory_lock`` (MySQL/MariaDB ``GET_LOCK``) on a dedicated connection.

    The server releases a session's locks when its connection drops, so a killed process
    never leaves the lock held.
    """

    def __init__(self, url: str, backend: str, connect_args: Mapping[str, Any]):
        import sqlalchemy
        from sqlalchemy.pool import NullPool

        super().__init__()
        self.backend = backend
        self._engine = sqlalchemy.create_engine(
            url, poolclass=NullPool, connect_args=dict(connect_args)
        )
        self._conn: Any = None

    def _execute(self, sql: str, params: Mapping[str, Any]) -> None:
        import sqlalchemy

        if self._conn is None:
            self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._conn.execute(sqlalchemy.text(sql), dict(params)).fetchall()

    def _acquire(self, name: str) -> None:
        if self.backend == "postgresql":
            self._execute("SELECT pg_advisory_lock(:k)", {"k": _lock_key(name)})
        else:
            self._execute("SELECT GET_LOCK(:n, -1)", {"n": f"ms{_lock_key(name):x}"[:64]})

    def _release(self, name: str) -> None:
        if self.backend == "postgresql":
            self._execute("SELECT pg_advisory_unlock(:k)", {"k": _lock_key(name)})
        else:
            self._execute("SELECT RELEASE_LOCK(:n)", {"n": f"ms{_lock_key(name):x}"[:64]})

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        self._engine.dispose()


class _FileLock(StudyLock):
    """A POSIX ``fcntl`` lock on a file next to the SQLite database or journal file.

    The kernel (or the NFS lock manager) releases it when the process dies. One lock per
    file: ``name`` is not used.
    """

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self._fd: int | None = None

    def _acquire(self, name: str) -> None:
        import fcntl

        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.lockf(self._fd, fcntl.LOCK_EX)

    def _release(self, name: str) -> None:
        import fcntl

        if self._fd is not None:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _lock_file(path: Path) -> Path:
    return path.with_name(f".{path.name}.marketsim-lock")


# ---------------------------------------------------------------------------- storages
@dataclass(frozen=True)
class StorageInfo:
    """An opened Optuna storage, with its URL safe to show and how processes share it.

    ``heartbeat``/``grace`` are seconds (``None``: no liveness check, RUNNING trials of other
    processes are not counted); ``journal`` marks a journal storage, whose heartbeats
    marketsim records itself (trial system attribute ``marketsim_heartbeat``).
    """

    storage: Any
    shown: str
    dashboard: str | None
    lock: StudyLock = field(default_factory=StudyLock)
    heartbeat: int | None = None
    grace: int | None = None
    journal: bool = False
    stale_callback: Callable | None = None


@dataclass(frozen=True)
class _Liveness:
    """The heartbeat arguments of :func:`open_storage`, with the grace period defaulted."""

    heartbeat: int | None
    grace: int | None
    callback: Callable | None


def _open_journal(url: str, live: _Liveness) -> StorageInfo:
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    raw = url[len("journal:") :]
    if not raw:
        raise ValueError("journal: needs a file path, e.g. journal:/shared/study.log")
    path = Path(raw).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = _FileLock(_lock_file(path))
    try:
        with lock.hold(LOCK_SCHEMA):
            storage = JournalStorage(JournalFileBackend(str(path)))
    except BaseException:
        lock.close()
        raise
    shown = f"journal:{path}"
    return StorageInfo(
        storage,
        shown,
        f"optuna-dashboard {path}",
        lock,
        live.heartbeat,
        live.grace,
        True,
        live.callback,
    )


def _rdb_lock(url: str, backend: str, database: str | None, engine_kwargs: dict) -> StudyLock:
    if backend in ("postgresql", "mysql", "mariadb"):
        return _AdvisoryLock(url, backend, engine_kwargs.get("connect_args", {}))
    if backend == "sqlite" and database not in (None, "", ":memory:"):
        return _FileLock(_lock_file(Path(database).expanduser().resolve()))  # type: ignore[arg-type]
    return StudyLock()


def _open_rdb(url: str, live: _Liveness) -> StorageInfo:
    import optuna
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    backend = parsed.get_backend_name()
    engine_kwargs: dict[str, Any] = {}
    if backend == "postgresql":
        engine_kwargs["connect_args"] = {"connect_timeout": 10}
    lock = _rdb_lock(url, backend, parsed.database, engine_kwargs)
    try:
        with lock.hold(LOCK_SCHEMA), warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=live.heartbeat,
                grace_period=live.grace,
                heartbeat_stale_trial_callback=live.callback,
            )
    except BaseException:
        lock.close()
        raise
    shown = redact(url)
    return StorageInfo(
        storage,
        shown,
        f"optuna-dashboard {shown}",
        lock,
        live.heartbeat,
        live.grace,
        False,
        live.callback,
    )


def open_storage(
    url: str | None,
    out: Path | None,
    *,
    heartbeat_interval: int | None = None,
    grace_period: int | None = None,
    heartbeat_stale_trial_callback: Callable | None = None,
) -> StorageInfo:
    """Open ``url`` (default ``sqlite:///OUT/study.db``; ``journal:PATH`` for a journal file).

    Without ``url`` and ``out``, the study lives in memory (no liveness, a process-local
    lock). Heartbeat arguments go to :class:`optuna.storages.RDBStorage` (``grace_period``
    defaults to 3 heartbeats); a journal storage gets the same behaviour from marketsim
    (see :func:`~experiments.tuning.trials.run_budget`). The returned :class:`StudyLock` is a
    PostgreSQL advisory lock (MySQL ``GET_LOCK``) for those databases, an ``fcntl`` lock
    file next to a SQLite database or journal file, and a process-local lock otherwise.

    Raises:
        StorageError: naming the (redacted) storage and why it cannot be used.
    """
    if url is None and out is None:
        import optuna

        return StorageInfo(optuna.storages.InMemoryStorage(), IN_MEMORY, None)
    grace = grace_period
    if heartbeat_interval is not None and grace is None:
        grace = GRACE_FACTOR * heartbeat_interval
    live = _Liveness(
        heartbeat_interval,
        grace if heartbeat_interval is not None else None,
        heartbeat_stale_trial_callback,
    )
    try:
        if url is None:
            out.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
            url = f"sqlite:///{(out / 'study.db').resolve()}"  # type: ignore[operator]
        if url.startswith("journal:"):
            return _open_journal(url, live)
        return _open_rdb(url, live)
    except Exception as exc:  # SQLAlchemy/driver/Optuna errors: one clear message, exit 2
        shown = redact(url or "")
        reason = storage_reason(exc, url or "")
        raise StorageError(f"--storage: cannot open storage {shown}: {reason}") from None
