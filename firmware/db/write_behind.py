"""Write-behind to the database from a thread of its own.

The call path hands over a job and returns at once; this thread owns its own database
connection, writes jobs in FIFO order (batched in one transaction), and when the
database cannot take them (disk full, locked, file gone) keeps them in memory, says so
in the log and retries with a backoff. A job is only ever dropped with an ERROR line
that carries its full content, so nothing is lost silently while the process lives.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import peewee

from firmware.db.connection import DEFAULT_BUSY_TIMEOUT_MS, connect

log = logging.getLogger(__name__)

Op = Callable[[peewee.SqliteDatabase], object]

# Retrying cannot fix these: the row itself (or the code writing it) is wrong.
_PERMANENT = (
    peewee.IntegrityError,
    peewee.DataError,
    peewee.ProgrammingError,
    peewee.NotSupportedError,
)
# Everything else the database or the filesystem raises is worth another try.
_TRANSIENT = (peewee.PeeweeException, OSError)

BATCH_SIZE = 200
STILL_FAILING_EVERY = 60.0


@dataclass(frozen=True)
class Job:
    op: Op
    # Enough to recreate the row by hand from the log. A callable is only called when a
    # line is logged: formatting every row on the call path, just in case, cost more
    # than queueing it.
    what: str | Callable[[], str]

    @property
    def describe(self) -> str:
        return self.what if isinstance(self.what, str) else self.what()


class _Transient(Exception):
    def __init__(self, remaining: list[Job], cause: BaseException) -> None:
        super().__init__(str(cause))
        self.remaining = remaining
        self.cause = cause


class WriteBehind:
    def __init__(
        self,
        name: str,
        data_dir: Path,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
    ) -> None:
        self.name = name
        self.data_dir = data_dir
        self._busy_timeout_ms = busy_timeout_ms
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._give_up = threading.Event()
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._unfinished = 0
        self._db: peewee.SqliteDatabase | None = None

    # Producer side (any thread, never blocks) ---------------------------------------
    def submit(self, op: Op, describe: str | Callable[[], str]) -> None:
        with self._idle:
            # Checked under the lock stop() takes, so no job can slip in behind the
            # end-of-queue marker where nobody would ever write it.
            if self._stopping:
                log.error("%s: stopped, cannot write: %s", self.name, Job(op, describe).describe)
                return
            self._unfinished += 1
            self._queue.put(Job(op, describe))

    @property
    def pending(self) -> int:
        with self._idle:
            return self._unfinished

    # Lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name} already started")
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every job submitted so far is written; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._unfinished == 0, timeout)

    def stop(self, timeout: float = 10.0) -> bool:
        """Write what is queued, then end the thread. False if it could not within `timeout`;
        the rows still pending are then logged as lost (the process is going away)."""
        thread = self._thread
        with self._idle:
            if self._stopping:
                return self._unfinished == 0
            self._stopping = True
            if thread is None:
                self._abandon([])
                return self._unfinished == 0
            self._queue.put(None)
        self._wake.set()
        thread.join(timeout)
        if thread.is_alive():
            self._give_up.set()
            self._wake.set()
            thread.join(self._busy_timeout_ms / 1000 + 1.0)
        return self.pending == 0

    # Writer thread ---------------------------------------------------------------------
    def _run(self) -> None:
        batch: list[Job] = []
        stop_seen = False
        delay = self._retry_initial
        failing_since: float | None = None
        last_report = 0.0
        while True:
            if not batch:
                if stop_seen:
                    break
                job = self._queue.get()
                if job is None:
                    stop_seen = True
                    continue
                batch.append(job)
            while len(batch) < BATCH_SIZE and not stop_seen:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop_seen = True
                else:
                    batch.append(job)
            try:
                self._write(batch)
            except _Transient as exc:
                self._done(len(batch) - len(exc.remaining))
                batch = exc.remaining
                self._close()
                now = time.monotonic()
                if failing_since is None:
                    failing_since = last_report = now
                    log.error(
                        "%s: cannot write to %s (%s); keeping %d row(s) in memory and retrying",
                        self.name,
                        self.data_dir,
                        exc.cause,
                        self.pending,
                    )
                elif now - last_report >= STILL_FAILING_EVERY:
                    last_report = now
                    log.error(
                        "%s: still cannot write for %.0f s (%s); %d row(s) waiting",
                        self.name,
                        now - failing_since,
                        exc.cause,
                        self.pending,
                    )
                if self._give_up.is_set():
                    self._abandon(batch)
                    return
                self._wake.wait(delay)
                self._wake.clear()
                if self._give_up.is_set():
                    self._abandon(batch)
                    return
                delay = min(delay * 2, self._retry_max)
                continue
            self._done(len(batch))
            batch = []
            delay = self._retry_initial
            if failing_since is not None:
                log.warning(
                    "%s: writing again after %.0f s of failures",
                    self.name,
                    time.monotonic() - failing_since,
                )
                failing_since = None
        self._close()

    def _write(self, batch: list[Job]) -> None:
        try:
            db = self._open()
        except _TRANSIENT as exc:
            raise _Transient(batch, exc) from exc
        try:
            with db.atomic():
                for job in batch:
                    job.op(db)
            return
        except _PERMANENT:
            pass  # find the culprit below, one job at a time
        except _TRANSIENT as exc:
            raise _Transient(batch, exc) from exc
        except Exception:
            pass  # a bug in one job must not block the others: isolate it below
        for i, job in enumerate(batch):
            try:
                with db.atomic():
                    job.op(db)
            except _PERMANENT as exc:
                log.error(
                    "%s: row rejected by the database (%s), dropped: %s",
                    self.name,
                    exc,
                    job.describe,
                )
            except _TRANSIENT as exc:
                raise _Transient(batch[i:], exc) from exc
            except Exception:
                log.exception("%s: cannot build this row, dropped: %s", self.name, job.describe)

    def _open(self) -> peewee.SqliteDatabase:
        if self._db is None:
            self._db = connect(self.data_dir, self._busy_timeout_ms)
        return self._db

    def _close(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except _TRANSIENT:
                pass
            self._db = None

    def _abandon(self, batch: list[Job]) -> None:
        lost = list(batch)
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                lost.append(job)
        for job in lost:
            log.error(
                "%s: stopping with the database unwritable, row LOST: %s", self.name, job.describe
            )
        self._close()

    def _done(self, n: int) -> None:
        if n:
            with self._idle:
                self._unfinished -= n
                self._idle.notify_all()
