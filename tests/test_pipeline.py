"""Reading ahead and writing behind: order, errors at the right place, early stops."""

from __future__ import annotations

import threading
import time

import pytest

from fsvid2vid.infer.pipeline import WriteBehind, read_ahead


def test_read_ahead_keeps_the_order_and_runs_in_another_thread():
    threads = set()

    def items():
        for i in range(50):
            threads.add(threading.current_thread().name)
            yield i

    assert list(read_ahead(items(), depth=3)) == list(range(50))
    assert threads == {"fsvid2vid-read-ahead"}


def test_read_ahead_raises_the_producers_error_at_its_item():
    def items():
        yield 1
        yield 2
        raise ValueError("frame 2 is corrupt")

    got = []
    with pytest.raises(ValueError, match="frame 2 is corrupt"):
        for item in read_ahead(items()):
            got.append(item)
    assert got == [1, 2]


def test_leaving_early_stops_the_producer():
    produced = []

    def items():
        for i in range(10_000):
            produced.append(i)
            yield i

    for item in read_ahead(items(), depth=2):
        if item == 3:
            break
    time.sleep(0.2)
    assert len(produced) <= 3 + 2 + 2  # what was consumed, the buffer, and the item in hand
    assert not [t for t in threading.enumerate() if t.name == "fsvid2vid-read-ahead"]


def test_write_behind_runs_calls_in_order_and_waits_for_them():
    out = []
    with WriteBehind(depth=2) as behind:
        for i in range(20):
            behind.submit(lambda x: (time.sleep(0.001), out.append(x)), i)
    assert out == list(range(20))


def test_write_behind_raises_the_first_error_and_skips_later_calls():
    out = []

    def write(x):
        if x == 3:
            raise OSError("disk full")
        out.append(x)

    with pytest.raises(OSError, match="disk full"):
        with WriteBehind(depth=1) as behind:
            for i in range(10):
                behind.submit(write, i)
    assert out == [0, 1, 2]
