"""Decode on one thread, compute on another: a bounded hand-over of prepared frames.

Batches keep thread hand-offs (and GIL switches) rare; the queue bounds memory to a few
batches, each at most a count of items and :data:`HANDOFF_MAX_BYTES` of crops, so that memory
stays flat in video length and resolution.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

#: Batches queued between the producing thread and the consumer.
QUEUE_BATCHES: int = 2
#: A batch handed to the consumer thread holds at most this many bytes of crops.
HANDOFF_MAX_BYTES: int = 16 * 1024 * 1024

_T = TypeVar("_T", bound=tuple)
_DONE = object()


def in_background(items: Iterator[_T], batch_size: int) -> Iterator[_T]:
    """Run ``items`` (tuples whose first element is an array: the crop) on a daemon thread,
    handing over lists of at most ``batch_size`` items and :data:`HANDOFF_MAX_BYTES` of crops.
    Exceptions (and warnings' side effects) of the producer surface here.
    """
    handoff: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_BATCHES)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            batch: list[_T] = []
            held = 0
            for item in items:
                batch.append(item)
                held += item[0].nbytes
                # by count, or sooner for big crops (4K video): memory stays flat in resolution
                if len(batch) == batch_size or held >= HANDOFF_MAX_BYTES:
                    if not put(batch):
                        return
                    batch, held = [], 0
            if batch:
                put(batch)
        except BaseException as exc:  # handed to the consumer, re-raised there
            put(exc)
        finally:
            put(_DONE)

    worker = threading.Thread(target=produce, name="bigsmall-decode", daemon=True)
    worker.start()
    try:
        while (got := handoff.get()) is not _DONE:
            if isinstance(got, BaseException):
                raise got
            yield from got
    finally:
        stop.set()
        worker.join()
