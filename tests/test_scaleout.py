"""Scaling out on real services over loopback (no mocks): Dask workers killed mid-`compare`,
tuning processes sharing one PostgreSQL study (one killed mid-trial), resume, a shared
journal file, and storage credentials kept out of every output.

PostgreSQL is started from the installed binaries (``initdb``/``pg_ctl``) into a temporary
directory; as root they run as the ``postgres`` user (or ``nobody``) through ``runuser``,
because ``initdb`` refuses to run as root. Without the binaries the PostgreSQL tests skip
(CI installs the ``postgresql`` package in ``.ci/run``). Dask runs as a ``dask scheduler`` and
two ``dask worker`` processes on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import optuna
import pandas as pd
import pytest

from experiments.store import read_manifest
from experiments.tuning import WORKER_ATTR
from tests.golden.check import table_hash
from tests.helpers import VARIANTS

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "scenarios" / "tiny.yaml"
MARKETSIM = [sys.executable, "-m", "experiments.cli"]
TABLES = ("replications.csv", "differences.csv", "ranking.csv")

COMPARE_REPS, COMPARE_DAYS = 12, 60  # 24 replications of ~0.3 s: long enough to kill a worker
# A result fetched from a worker at the moment it dies waits for Dask's connect timeout
# (30 s by default) before it is recomputed elsewhere: keep that short in the tests.
DASK_ENV = {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "5s"}


# ============================================================================ helpers
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _run(args: list[str], timeout: float = 240, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*MARKETSIM, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
    )


def _runs_recorded(out: Path) -> int:
    try:
        return len(read_manifest(out / "manifest.json")["runs"])  # with the journal
    except (OSError, json.JSONDecodeError, KeyError):
        return 0


def _table_hashes(out: Path) -> dict[str, str]:
    """The behaviour lock's hash of every result table (tests/golden/check.py)."""
    return {name: table_hash(out / name) for name in TABLES}


def _assert_same_tables(a: Path, b: Path) -> None:
    assert _table_hashes(a) == _table_hashes(b)


# ============================================================================ PostgreSQL
def _pg_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres (newest Debian version first)."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    )
    for d in candidates:
        if all((Path(d) / b).exists() for b in ("initdb", "pg_ctl", "postgres")):
            return Path(d)
    found = [shutil.which(b) for b in ("initdb", "pg_ctl", "postgres")]
    if all(found):
        return Path(os.path.realpath(found[0])).parent  # type: ignore[arg-type]
    return None


INITDB_OPTIONS = ("-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")


@dataclass
class Postgres:
    """A throw-away PostgreSQL server on 127.0.0.1."""

    port: int
    user: str  # a role with a password (scram-sha-256 over TCP)
    password: str

    def admin_url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def url(self, db: str) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{db}"

    def admin(self, sql: str, **params: str) -> None:
        """Run one statement as the superuser (outside a transaction)."""
        import sqlalchemy

        engine = sqlalchemy.create_engine(self.admin_url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sqlalchemy.text(sql), params)
        finally:
            engine.dispose()

    def new_database(self, name: str) -> str:
        """Create database ``name`` owned by the password role; its URL with the password."""
        self.admin(f'CREATE DATABASE "{name}" OWNER "{self.user}"')
        return self.url(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in "
            "/usr/lib/postgresql/*/bin or on PATH; install the `postgresql` package "
            "(.ci/run does this in CI)"
        )
    try:
        import sqlalchemy

        sqlalchemy.create_engine("postgresql://127.0.0.1/x")  # imports the default driver
    except ImportError as exc:
        pytest.skip(f"no PostgreSQL driver for SQLAlchemy ({exc}); pip install -e '.[test]'")
    prefix: list[str] = []
    owner = None
    if os.geteuid() == 0:  # initdb refuses to run as root: use an unprivileged user
        for name in ("postgres", "nobody"):
            with contextlib.suppress(KeyError):
                owner = pwd.getpwnam(name)
                break
        runuser = shutil.which("runuser") or shutil.which("setpriv")
        if owner is None or runuser is None:
            pytest.skip("running as root without a `postgres`/`nobody` user or runuser/setpriv")
        if runuser.endswith("runuser"):
            prefix = [runuser, "-u", owner.pw_name, "--"]
        else:
            prefix = [runuser, f"--reuid={owner.pw_uid}", f"--regid={owner.pw_gid}"]
            prefix += ["--init-groups", "--"]
    base = Path(tempfile.mkdtemp(prefix="marketsim-pg-"))  # not under pytest's 0700 root dir
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data, log = base / "data", base / "server.log"
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C"}
    password = "pw-" + secrets.token_hex(12)
    server = Postgres(port, "tuner", password)
    try:
        subprocess.run(
            [*prefix, str(bindir / "initdb"), "-D", str(data), *INITDB_OPTIONS],
            check=True,
            capture_output=True,
            env=env,
            cwd=base,
        )
        # the password role must really authenticate over TCP; everything else is trusted
        (data / "pg_hba.conf").write_text(
            "local all all trust\n"
            f"host all {server.user} 127.0.0.1/32 scram-sha-256\n"
            "host all all 127.0.0.1/32 trust\n"
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off"
        options += " -c max_connections=200 -c password_encryption=scram-sha-256"
        start = ["-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options, "start"]
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), *start],
            check=True,
            capture_output=True,
            env=env,
            cwd=base,
        )
        server.admin(f"CREATE ROLE {server.user} LOGIN PASSWORD '{password}'")
        yield server
    except subprocess.CalledProcessError as exc:
        tail = log.read_text()[-2000:] if log.exists() else ""
        pytest.fail(f"PostgreSQL did not start: {exc.stderr!r}\n{tail}")
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            env=env,
            cwd=base,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


# ============================================================================ Dask
@dataclass
class DaskCluster:
    address: str
    scheduler: subprocess.Popen
    kept: subprocess.Popen  # a worker under a nanny
    victim: subprocess.Popen  # a worker without nanny: SIGKILL really removes it


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[DaskCluster]:
    pytest.importorskip("distributed")
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    dask = [sys.executable, "-m", "dask"]
    procs: list[subprocess.Popen] = []

    def start(name: str, args: list[str]) -> subprocess.Popen:
        with open(logs / f"{name}.log", "wb") as fh:
            proc = subprocess.Popen(
                [*dask, *args],
                cwd=ROOT,
                stdout=fh,
                stderr=subprocess.STDOUT,
                env={**os.environ, **DASK_ENV},
            )
        procs.append(proc)
        return proc

    try:
        scheduler = start(
            "scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]
        )
        _wait_port(port)
        common = ["worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard"]
        common += ["--host", "127.0.0.1", "--local-directory", str(tmp_path / "dask-space")]
        kept = start("kept", [*common, "--name", "kept"])
        victim = start("victim", [*common, "--name", "victim", "--no-nanny"])
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield DaskCluster(address, scheduler, kept, victim)
    finally:
        for proc in reversed(procs):
            _stop(proc)


def _compare_args(variants: Path, out: Path, *extra: str) -> list[str]:
    return [
        "compare",
        str(TINY),
        "--variants",
        str(variants),
        "--reps",
        str(COMPARE_REPS),
        "--days",
        str(COMPARE_DAYS),
        "--out",
        str(out),
        *extra,
    ]


@pytest.fixture(scope="module")
def single_process_compare(tmp_path_factory) -> Path:
    """The reference: the same compare in one process (``--workers 1``)."""
    base = tmp_path_factory.mktemp("reference")
    variants = base / "variants.yaml"
    variants.write_text(VARIANTS)
    out = base / "out"
    res = _run(_compare_args(variants, out, "--workers", "1"))
    assert res.returncode == 0, res.stderr
    return out


def test_dask_worker_killed_mid_compare(tmp_path, dask_cluster, single_process_compare) -> None:
    """SIGKILL one of two Dask workers while `compare` runs on them: the scheduler moves its
    tasks to the other worker, the command completes and its tables equal a single-process
    run exactly."""
    variants = tmp_path / "variants.yaml"
    variants.write_text(VARIANTS)
    out = tmp_path / "dask"
    args = _compare_args(variants, out, "--executor", "dask", "--scheduler", dask_cluster.address)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*MARKETSIM, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **DASK_ENV},
    )
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and _runs_recorded(out) < 3:
        time.sleep(0.02)
    recorded = _runs_recorded(out)
    if proc.poll() is not None:
        pytest.fail(f"compare ended before a worker could be killed: {proc.communicate()[1]}")
    os.kill(dask_cluster.victim.pid, signal.SIGKILL)
    dask_cluster.victim.wait(10)
    _, stderr = proc.communicate(timeout=180)
    elapsed = time.perf_counter() - started
    assert proc.returncode == 0, stderr
    total = 2 * COMPARE_REPS
    print(f"worker killed after {recorded}/{total} replications; compare took {elapsed:.1f} s")
    assert 3 <= recorded < total
    assert _runs_recorded(out) == total
    assert dask_cluster.kept.poll() is None and dask_cluster.victim.poll() == -signal.SIGKILL
    _assert_same_tables(out, single_process_compare)


def test_one_and_two_workers_and_dask_give_identical_table_hashes(
    tmp_path, single_process_compare
) -> None:
    """Determinism across executors: 1 worker, 2 local workers and `--executor dask` (a local
    cluster started and stopped by the command) write tables with identical hashes."""
    pytest.importorskip("distributed")
    variants = tmp_path / "variants.yaml"
    variants.write_text(VARIANTS)
    runs = {"2 workers": ("--workers", "2"), "dask": ("--executor", "dask", "--workers", "2")}
    for label, extra in runs.items():
        out = tmp_path / label.replace(" ", "-")
        started = time.perf_counter()
        res = _run(_compare_args(variants, out, *extra))
        assert res.returncode == 0, res.stderr
        print(f"{label} compare: {time.perf_counter() - started:.1f} s")
        assert _table_hashes(out) == _table_hashes(single_process_compare), label


def test_scheduler_without_dask_executor_or_unreachable_exits_2(tmp_path) -> None:
    variants = tmp_path / "variants.yaml"
    variants.write_text(VARIANTS)
    port = _free_port()  # nothing listens there
    res = _run(_compare_args(variants, tmp_path / "a", "--scheduler", f"tcp://127.0.0.1:{port}"))
    assert res.returncode == 2 and "needs --executor dask" in res.stderr
    assert "Traceback" not in res.stderr
    pytest.importorskip("distributed")
    bad = ["--executor", "dask", "--scheduler", f"tcp://127.0.0.1:{port}"]
    quick = {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    res = _run(_compare_args(variants, tmp_path / "b", *bad), timeout=120, **quick)
    assert res.returncode == 2, res.stderr
    assert "cannot use the Dask scheduler" in res.stderr and "Traceback" not in res.stderr


# ============================================================================ tuning
TUNE_DAYS, TUNE_REPS = 60, 2  # ~0.5 s per trial: long enough to be killed in the middle


def _tune_args(storage: str, out: Path, trials: int, *extra: str) -> list[str]:
    return [
        "tune",
        str(TINY),
        "--trials",
        str(trials),
        "--reps",
        str(TUNE_REPS),
        "--days",
        str(TUNE_DAYS),
        "--workers",
        "1",
        "--storage",
        storage,
        "--out",
        str(out),
        *extra,
    ]


def _spawn(args: list[str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as fh:
        return subprocess.Popen([*MARKETSIM, *args], cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)


def _counts(trials) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in trials:
        out[t.state.name] = out.get(t.state.name, 0) + 1
    return out


def _owner_pid(trial) -> int | None:
    worker = trial.system_attrs.get(WORKER_ATTR)
    return int(worker.rsplit(":", 1)[1]) if worker else None


def _kill_one_mid_trial(
    procs: list[subprocess.Popen], storage, study_name: str, killed: dict, dead: set
) -> None:
    """SIGKILL a `tune` process while it simulates a trial (number >= 8); record it in
    ``killed`` (trial number -> pid) when the trial was still RUNNING, and its pid in ``dead``."""
    deadline = time.time() + 120
    while not killed and time.time() < deadline and len(dead) < 2:
        try:
            study = optuna.load_study(study_name=study_name, storage=storage)
        except KeyError:  # not created yet
            time.sleep(0.1)
            continue
        for t in study.get_trials(states=(optuna.trial.TrialState.RUNNING,)):
            pid = _owner_pid(t)
            live = [p for p in procs if p.pid == pid and p.poll() is None]
            # "variant" is stored once the parameters are: the trial is simulating now
            # (an age threshold alone let a loaded machine kill it before its parameters)
            if t.number >= 8 and live and "variant" in t.user_attrs:
                os.kill(pid, signal.SIGKILL)
                live[0].wait(10)
                dead.add(pid)
                if storage.get_trial(t._trial_id).state == optuna.trial.TrialState.RUNNING:
                    killed[t.number] = pid  # it died in the middle of this trial
                break
        time.sleep(0.03)


def _assert_retried_once(original, all_trials: list) -> None:
    """``original`` FAILed and was retried once, with its parameters and variant."""
    number = original.number
    assert original.state == optuna.trial.TrialState.FAIL
    retries = [t for t in all_trials if t.system_attrs.get("failed_trial") == number]
    assert len(retries) == 1, f"trial {number} retried {len(retries)} times"
    retry = retries[0]
    assert retry.state == optuna.trial.TrialState.COMPLETE
    assert retry.params == original.params
    assert retry.system_attrs.get("retry_history") == [number]
    assert retry.user_attrs.get("variant") == original.user_attrs.get("variant")
    print(f"trial {number} retried as trial {retry.number}")


def _assert_survivors_wrote_trials(
    procs: list[subprocess.Popen], dead: set, tmp_path: Path, trials: int
) -> None:
    """Every process not killed wrote the study's final state to its own trials.csv."""
    for i, p in enumerate(procs):
        if p.pid in dead:
            continue
        table = pd.read_csv(tmp_path / f"out{i}" / "trials.csv")
        assert (table["state"] == "COMPLETE").sum() == trials


def test_four_tune_processes_share_one_postgres_study(tmp_path, postgres) -> None:
    """Four `tune` processes on one PostgreSQL study of 40 trials; one is killed with SIGKILL
    in the middle of a trial. The study ends with exactly 40 COMPLETE trials, none RUNNING,
    and the killed trial FAILed and retried (same parameters, ``failed_trial`` marker)."""
    url = postgres.new_database("shared")
    study_name = "shared"
    trials = 40
    extra = ["--study", study_name, "--heartbeat", "1", "--grace", "3"]
    storage = optuna.storages.RDBStorage(url)  # tables made before the processes start
    started = time.perf_counter()
    procs = [
        _spawn(_tune_args(url, tmp_path / f"out{i}", trials, *extra), tmp_path / f"tune{i}.log")
        for i in range(4)
    ]
    killed: dict[int, int] = {}  # trial number -> pid of the process killed during it
    dead: set[int] = set()
    try:
        _kill_one_mid_trial(procs, storage, study_name, killed, dead)
        assert killed, "no tune process could be killed in the middle of a trial"
        for i, p in enumerate(procs):
            if p.pid not in dead:
                code = p.wait(timeout=180)
                assert code == 0, (tmp_path / f"tune{i}.log").read_text()[-3000:]
    finally:
        for p in procs:
            _stop(p)
    elapsed = time.perf_counter() - started

    study = optuna.load_study(study_name=study_name, storage=url)
    all_trials = study.get_trials()
    counts = _counts(all_trials)
    by_number = {t.number: t for t in all_trials}
    print(
        f"{len(procs)} processes, {trials} trials: states {counts}, killed trial(s) "
        f"{sorted(killed)}, {elapsed:.1f} s in all"
    )
    assert counts.get("COMPLETE") == trials
    assert counts.get("RUNNING", 0) == 0 and counts.get("WAITING", 0) == 0
    assert counts.get("FAIL", 0) == len(killed)
    assert len(all_trials) == trials + len(killed)  # nothing beyond the budget
    for number in killed:
        _assert_retried_once(by_number[number], all_trials)
    # every surviving process took part and wrote the study's final state
    owners = {_owner_pid(t) for t in all_trials}
    assert {p.pid for p in procs} <= owners
    _assert_survivors_wrote_trials(procs, dead, tmp_path, trials)
    # the processes joined one by one: distinct sampler seeds, so no duplicated random starts
    assert study.user_attrs["marketsim_processes"] == 4
    drawn = [
        tuple(sorted(t.params.items())) for t in all_trials if "failed_trial" not in t.system_attrs
    ]
    assert len(set(drawn)) == len(drawn)


def test_rerun_resumes_postgres_study_and_never_shows_the_password(tmp_path, postgres) -> None:
    """The same `tune` command twice on one storage resumes (trial numbers continue, earlier
    trials kept, no work beyond the budget); the storage password, used in the URL, appears
    in no output file, log or message."""
    url = postgres.new_database("resume")
    assert postgres.password in url
    out = tmp_path / "out"
    first = _run(_tune_args(url, out, 3))
    assert first.returncode == 0, first.stderr
    before = pd.read_csv(out / "trials.csv")
    assert list(before["number"]) == [0, 1, 2]
    second = _run(_tune_args(url, out, 5))
    assert second.returncode == 0, second.stderr
    after = pd.read_csv(out / "trials.csv")
    assert list(after["number"]) == [0, 1, 2, 3, 4]
    pd.testing.assert_frame_equal(
        before[["number", "value", "pricing.markup"]],
        after[["number", "value", "pricing.markup"]][:3],
    )
    third = _run(_tune_args(url, out, 5))
    assert third.returncode == 0 and "no new trial run" in third.stdout
    study = optuna.load_study(study_name="tune-tiny", storage=url)
    assert len(study.trials) == 5
    # a wrong password: one clear message, neither password shown
    wrong = url.replace(postgres.password, "not-" + postgres.password)
    bad = _run(_tune_args(wrong, tmp_path / "bad", 5))
    assert bad.returncode == 2 and "cannot open storage" in bad.stderr
    assert f"{postgres.user}:***@" in bad.stderr

    outputs = [first, second, third, bad]
    for res in outputs:
        assert postgres.password not in res.stdout + res.stderr
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"manifest.json", "summary.json", "trials.csv"} <= {p.name for p in files}
    for path in files:
        assert postgres.password.encode() not in path.read_bytes(), path
    manifest = json.loads((out / "manifest.json").read_text())
    assert f"{postgres.user}:***@" in manifest["storage"]
    assert any(f"{postgres.user}:***@" in a for a in manifest["argv"])


def test_two_processes_share_a_journal_file(tmp_path) -> None:
    """`journal:PATH` (shared filesystem, no database): two concurrent processes end with
    exactly the requested number of trials."""
    journal = tmp_path / "shared" / "study.log"
    trials = 16
    extra = ["--study", "journal", "--heartbeat", "1", "--grace", "3"]
    started = time.perf_counter()
    procs = [
        _spawn(
            _tune_args(f"journal:{journal}", tmp_path / f"out{i}", trials, *extra),
            tmp_path / f"tune{i}.log",
        )
        for i in range(2)
    ]
    try:
        for i, p in enumerate(procs):
            assert p.wait(timeout=180) == 0, (tmp_path / f"tune{i}.log").read_text()[-3000:]
    finally:
        for p in procs:
            _stop(p)
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    storage = JournalStorage(JournalFileBackend(str(journal)))
    study = optuna.load_study(study_name="journal", storage=storage)
    counts = _counts(study.trials)
    owners = {_owner_pid(t) for t in study.trials}
    print(
        f"journal, 2 processes: {counts}, trials per process "
        f"{[sum(_owner_pid(t) == p.pid for t in study.trials) for p in procs]}, "
        f"{time.perf_counter() - started:.1f} s"
    )
    assert counts == {"COMPLETE": trials}
    assert owners == {p.pid for p in procs}
