"""Chunks of work done by worker processes, their results taken back in the chunks' order.

Verifying a large ledger is bound by checking signatures (one Ed25519 verification costs as much
as about 170 SHA-256 hashes of an event), which a single Python process does one at a time. This
process reads the chunks and keeps the order-dependent checks; the workers check each row on its
own. Results come back in order, so the first fault reported is the same as in one process.

The standard library's pool is enough here; it is wrapped only to read ahead by a bounded number
of chunks, so memory stays flat however long the ledger is.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.pool import AsyncResult
from typing import TypeVar

Chunk = TypeVar("Chunk")
Result = TypeVar("Result")

# Chunks in flight per worker: one being worked on, one waiting, so no worker idles while this
# process reads the next.
AHEAD_PER_WORKER = 2


def default_workers() -> int:
    """One per core, at most four: beyond that the single reader is the bound."""
    return max(1, min(4, os.cpu_count() or 1))


def can_fork_workers() -> bool:
    """False inside a daemonic process (a Celery prefork child), which may not have children."""
    return not multiprocessing.current_process().daemon


def in_order(
    chunks: Iterable[Chunk], work: Callable[[Chunk], Result], *, workers: int
) -> Iterator[tuple[Chunk, Result]]:
    """Each chunk with `work(chunk)`, in the chunks' order; `work` must be picklable.

    With one worker (or where no process can be started) the work is done here, lazily.
    """
    if workers <= 1 or not can_fork_workers():
        for chunk in chunks:
            yield chunk, work(chunk)
        return
    # fork: the workers inherit the loaded code and settings and touch no database connection.
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pending: deque[tuple[Chunk, AsyncResult[Result]]] = deque()
        for chunk in chunks:
            pending.append((chunk, pool.apply_async(work, (chunk,))))
            if len(pending) >= workers * AHEAD_PER_WORKER:
                done, result = pending.popleft()
                yield done, result.get()
        while pending:
            done, result = pending.popleft()
            yield done, result.get()
