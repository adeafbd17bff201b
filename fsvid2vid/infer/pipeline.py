"""Overlap the work around the model with the model: read driving frames ahead, write outputs behind.

    for frame in read_ahead(driving_frames, depth=8):      # a thread decodes while the model runs
        ...
    with WriteBehind() as behind:                          # a thread encodes while the model runs
        behind.submit(video.write, rgb)
    for item, result in map_ahead(fn, items, workers=2):   # fn on several items at once, results in order
        ...

PNG and video decoding (OpenCV, PyAV), mp4 encoding and torch's kernels release the GIL, so the threads do real
work in parallel. Errors in a thread reach the caller on its next call; closing stops the threads.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
_DONE = object()


def read_ahead(items: Iterable[T], depth: int = 8) -> Iterator[T]:
    """Iterate ``items`` in a background thread, up to ``depth`` items ahead of the consumer.

    An exception raised while producing an item is raised here, in the consumer, at that item. Leaving the loop early
    (break, exception) stops the producer after at most one more item.
    """
    buffer: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put((_DONE, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            buffer.put((_DONE, exc))

    thread = threading.Thread(target=produce, name="fsvid2vid-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = buffer.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full buffer
            try:
                buffer.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)


class WriteBehind:
    """Run submitted calls in order in one background thread (e.g. encoding frames), at most ``depth`` pending.

    Use as a context manager: leaving it waits for every pending call. The first exception of a call is raised at the
    next :meth:`submit` or on exit, and no later call runs.
    """

    def __init__(self, depth: int = 8):
        self._calls: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fsvid2vid-write-behind", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            call = self._calls.get()
            if call is None:
                return
            if self._error is None:
                fn, args = call
                try:
                    fn(*args)
                except BaseException as exc:  # noqa: BLE001 - re-raised in the submitting thread
                    self._error = exc

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Queue ``fn(*args)``; raises the error of an earlier call, if any."""
        self._raise()
        self._calls.put((fn, args))

    def close(self) -> None:
        """Wait for the pending calls; raises the first error among them."""
        if self._thread.is_alive():
            self._calls.put(None)
            self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:  # the caller failed: stop without running what is still queued
            self._error = self._error or exc
            self._calls.put(None)
            self._thread.join()


def map_ahead(fn: Callable[[T], R], items: Iterable[T], workers: int, depth: int | None = None
              ) -> Iterator[tuple[T, R]]:
    """(item, fn(item)) for each of ``items``, in order, with ``fn`` run in ``workers`` threads on up to ``depth``
    items (default 2 x workers) ahead of the consumer.

    ``items`` is read in the consumer's thread; an exception of ``fn`` is raised here at its item. Leaving the loop
    early cancels what has not started and waits for what has.
    """
    depth = max(depth or 2 * workers, workers)
    pending: deque[tuple[T, Future]] = deque()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fsvid2vid-map-ahead")
    try:
        for item in items:
            pending.append((item, pool.submit(fn, item)))
            if len(pending) >= depth:
                item, future = pending.popleft()
                yield item, future.result()
        while pending:
            item, future = pending.popleft()
            yield item, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
