"""Open the SQLite store: pragmas, file mode, schema migrations (PRAGMA user_version)."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from panda_tui.store.errors import Trouble, classify, explain
from panda_tui.store.schema import MIGRATIONS

SCHEMA_VERSION = len(MIGRATIONS)
BUSY_TIMEOUT_MS = 10_000


class StoreError(Exception):
    """A store that cannot be used: the message is meant for the user, one line."""


def default_db_path() -> str:
    env = os.environ.get("PANDA_DB")
    if env:
        return env
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "panda-tui", "panda.db")


def connect(path: str, *, readonly: bool = False, create: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode; callers open transactions explicitly."""
    if readonly:
        if not os.path.exists(path):
            raise StoreError(f"{path}: no such database (start panda-tui or the daemon once to create it)")
        if not os.access(path, os.R_OK):
            raise StoreError(f"{path}: this user cannot read the database (permission denied)")
        conn = _open_read_only(path)
    else:
        if not os.path.exists(path):
            if not create:
                raise StoreError(f"{path}: no such database")
            _create_file(path)
        _refuse_read_only(path)
        conn = _open(path, uri=False, path=path)
    try:
        _prepare(conn, path, readonly)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(explain(path, exc)) from None
    return conn


def _prepare(conn: sqlite3.Connection, path: str, readonly: bool) -> None:
    """Version check, pragmas, migrations. Two processes opening a new file at once can meet SQLITE_BUSY
    where SQLite calls no busy handler (one turning the file to WAL while the other reads its header):
    that is retried for as long as the busy timeout, never shown."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            _check_version(conn, path, readonly)  # before anything that could write to a file we must not touch
            _pragmas(conn, readonly)
            if not readonly:
                migrate(conn, path)
            return
        except sqlite3.OperationalError as exc:
            if classify(exc) != Trouble.BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _open(target: str, *, uri: bool, path: str) -> sqlite3.Connection:
    try:
        return sqlite3.connect(target, uri=uri, isolation_level=None, check_same_thread=False,
                               timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise StoreError(explain(path, exc)) from None


def _open_read_only(path: str) -> sqlite3.Connection:
    """mode=ro reads the WAL too, through the -shm a live writer keeps, even where this user cannot write the
    folder (another account, a bind mount, a sandboxed service). With no -shm (a writer that closed cleanly
    removed it) SQLite would have to create one, which a reader that cannot write the folder cannot do: then
    nobody is writing the file, and it is read as immutable. Only acting needs write access."""
    conn = _open(f"file:{path}?mode=ro", uri=True, path=path)
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return conn
    except sqlite3.Error as exc:
        conn.close()
        if os.path.exists(f"{path}-shm"):
            raise StoreError(explain(path, exc)) from None
        if _wal_size(path):
            raise StoreError(f"{path}: its -wal holds changes that only a user who can write "
                             f"{os.path.dirname(os.path.abspath(path))} can read (no -shm beside it)") from None
        return _open(f"file:{path}?mode=ro&immutable=1", uri=True, path=path)


def _wal_size(path: str) -> int:
    try:
        return os.stat(f"{path}-wal").st_size
    except OSError:
        return 0


def _on_read_only_fs(path: str) -> bool:
    try:
        return bool(os.statvfs(os.path.dirname(os.path.abspath(path))).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _refuse_read_only(path: str) -> None:
    """SQLite would only say "unable to open database file": name the real cause."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return
    if _on_read_only_fs(path):
        raise StoreError(f"{path}: database is on a read-only file system; watch it with `panda-tui --read-only`")
    if not os.access(path, os.W_OK) or not os.access(folder, os.W_OK):
        raise StoreError(f"{path}: database is read-only for this user (it and its folder must be writable "
                         "to run a scheduler); watch it with `panda-tui --read-only`")


def _create_file(path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
    except FileExistsError:
        pass
    except OSError as exc:
        raise StoreError(f"{path}: cannot create database: {exc.strerror}") from None


def _pragmas(conn: sqlite3.Connection, readonly: bool) -> None:
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    if not readonly:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise sqlite3.DatabaseError(f"could not enable WAL (journal_mode={mode})")
    conn.execute("PRAGMA synchronous=NORMAL")


def _check_version(conn: sqlite3.Connection, path: str, readonly: bool) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: database schema version {version} is newer than this panda-tui supports "
            f"({SCHEMA_VERSION}); upgrade panda-tui"
        )
    if readonly and version < SCHEMA_VERSION:
        raise StoreError(f"{path}: database schema version {version} needs an upgrade, "
                         "which a read-only connection cannot do; start the scheduler once")


@contextmanager
def transaction(conn: sqlite3.Connection, lock: threading.Lock | None = None) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error; joins a transaction already open on `conn`.

    A failed COMMIT (disk full, I/O error) may already have rolled back inside SQLite: the connection is
    left with no transaction open either way, never half-way."""
    if conn.in_transaction:
        yield conn
        return
    if lock is not None:
        lock.acquire()
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    finally:
        if lock is not None:
            lock.release()


class Unit:
    """One unit of work: what it changed commits or rolls back as a whole, and so do its actions."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.commit_actions: list[Callable[[], object]] = []
        self.rollback_actions: list[Callable[[], object]] = []

    def on_commit(self, action: Callable[[], object]) -> None:
        """Run `action` once the outermost unit has committed; never if this unit is rolled back."""
        self.commit_actions.append(action)

    def on_rollback(self, action: Callable[[], object]) -> None:
        """Run `action` if this unit's work is undone (by its own rollback or an enclosing one)."""
        self.rollback_actions.append(action)


class Database:
    """This process's writer connection, the lock its writers take turns on, and its units of work.

    The scheduler's loop and the log writer thread share the lock: waiting on it ends the moment the other
    commit does, where SQLite's busy handler would sleep 1, 2, 5, 10 ms… and make dispatch late.

    `unit()` is the one way to write through it. The outermost unit is BEGIN IMMEDIATE … COMMIT; a unit
    opened inside it (on the same thread) is a SAVEPOINT, so its failure undoes its own work and keeps the
    outer's. Actions registered with on_commit run after the outermost COMMIT, in order; on_rollback
    actions run, newest first, when the work they go with is undone."""

    def __init__(self, path: str):
        self.path = path
        self.conn = connect(path)
        self.lock = threading.Lock()
        self._units: list[Unit] = []
        self._holder: int | None = None  # the thread that holds the open units
        self._busy = BUSY_TIMEOUT_MS / 1000

    @property
    def busy_timeout(self) -> float:
        """Seconds a write waits for the database (and for this process's other writer) before it fails."""
        return self._busy

    @busy_timeout.setter
    def busy_timeout(self, seconds: float) -> None:
        self.conn.execute(f"PRAGMA busy_timeout={int(seconds * 1000)}")
        self._busy = seconds

    @contextmanager
    def unit(self, join: bool = False) -> Iterator[Unit]:
        """A unit of work; `join`: inside an open unit, be part of it rather than a SAVEPOINT of its own
        (one statement, as most ledger verbs are, gains nothing from a savepoint and costs two more)."""
        if self._units and self._holder == threading.get_ident():
            if join:
                yield self._units[-1]
                return
            with self._savepoint() as unit:
                yield unit
            return
        if not self.lock.acquire(timeout=self._busy):
            raise sqlite3.OperationalError("database is locked (this process's other writer holds it)")
        unit = Unit(self.conn)
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            self._units, self._holder = [unit], threading.get_ident()
            try:
                yield unit
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:  # a failed COMMIT may have rolled back inside SQLite already
                    self.conn.execute("ROLLBACK")
                raise
            finally:
                self._units, self._holder = [], None
        except BaseException:
            self.lock.release()
            _run_all(reversed(unit.rollback_actions))
            raise
        self.lock.release()
        _run_all(unit.commit_actions)

    @contextmanager
    def _savepoint(self) -> Iterator[Unit]:
        name = f"unit{len(self._units)}"
        self.conn.execute(f"SAVEPOINT {name}")
        unit = Unit(self.conn)
        self._units.append(unit)
        try:
            yield unit
        except BaseException:
            self._units.pop()
            if self.conn.in_transaction:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
            _run_all(reversed(unit.rollback_actions))
            raise
        self._units.pop()
        self.conn.execute(f"RELEASE {name}")
        self._units[-1].commit_actions.extend(unit.commit_actions)
        self._units[-1].rollback_actions.extend(unit.rollback_actions)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A unit, for callers that only need its connection."""
        with self.unit() as unit:
            yield unit.conn

    @property
    def outermost(self) -> Unit | None:
        """The unit open on this thread (its outermost), if any: while it is open no other connection commits."""
        return self._units[0] if self._units and self._holder == threading.get_ident() else None

    def on_commit(self, action: Callable[[], object]) -> None:
        """After the open unit commits; at once when none is open on this thread."""
        if self._units and self._holder == threading.get_ident():
            self._units[-1].on_commit(action)
        else:
            action()

    def on_rollback(self, action: Callable[[], object]) -> None:
        """If the open unit's work is undone; nothing when none is open on this thread."""
        if self._units and self._holder == threading.get_ident():
            self._units[-1].on_rollback(action)

    def close(self) -> None:
        self.conn.close()


def _run_all(actions: Iterable[Callable[[], object]]) -> None:
    """Every action runs, whatever one of them raises; the first error is raised after the last."""
    error: BaseException | None = None
    for action in list(actions):
        try:
            action()
        except BaseException as exc:  # noqa: BLE001 - raised below, once the others have run
            error = error or exc
    if error is not None:
        raise error


def migrate(conn: sqlite3.Connection, path: str = "") -> int:
    """Apply forward migrations in one transaction each; returns the resulting version."""
    while True:
        with transaction(conn):
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version >= SCHEMA_VERSION:
                return version
            MIGRATIONS[version](conn)
            if version == 0:
                conn.execute("INSERT OR IGNORE INTO meta(key, value, updated_at) VALUES ('db_id', ?, 0)",
                             (uuid.uuid4().hex,))
            conn.execute(f"PRAGMA user_version={version + 1}")


def db_id(conn: sqlite3.Connection) -> str:
    row = conn.execute("SELECT value FROM meta WHERE key='db_id'").fetchone()
    return row[0] if row else "unknown"


def data_version(conn: sqlite3.Connection) -> int:
    """Changes when another connection commits; cheap to poll."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def writable(path: str) -> bool:
    return os.access(path, os.W_OK) and os.access(os.path.dirname(os.path.abspath(path)), os.W_OK)


def share_with_group(path: str, group: str) -> str:
    """Let a group read the database (mode 640, and its -wal and -shm files), for read-only consoles."""
    import grp
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        raise StoreError(f"--group {group}: no such group") from None
    for name in (path, f"{path}-wal", f"{path}-shm"):
        if os.path.exists(name):
            try:
                os.chown(name, -1, gid)
                os.chmod(name, 0o640)
            except OSError as exc:
                raise StoreError(f"{name}: cannot share with group {group}: {exc.strerror}") from None
    return f"{path} is readable by group {group} (mode 640)"
