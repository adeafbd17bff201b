"""Reading ahead, writing behind and mapping ahead: order, errors at the right place, early stops."""

from __future__ import annotations

import threading
import time

import pytest

from fsvid2vid.infer.pipeline import WriteBehind, map_ahead, read_ahead


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


def test_map_ahead_keeps_the_order_and_runs_in_several_threads():
    threads = set()
    barrier = threading.Barrier(2, timeout=5)

    def slow_square(x):
        threads.add(threading.current_thread().name)
        if x < 2:
            barrier.wait()  # the first two items run at the same time, or this times out
        time.sleep(0.002 * (x % 3))  # finishing out of order
        return x * x

    assert list(map_ahead(slow_square, range(30), workers=2)) == [(x, x * x) for x in range(30)]
    assert len(threads) == 2 and all(name.startswith("fsvid2vid-map-ahead") for name in threads)


def test_map_ahead_raises_the_error_at_its_item_and_stops_its_threads():
    def fn(x):
        if x == 4:
            raise ValueError("frame 4 is bad")
        return x

    got = []
    with pytest.raises(ValueError, match="frame 4 is bad"):
        for item, _ in map_ahead(fn, range(100), workers=2):
            got.append(item)
    assert got == [0, 1, 2, 3]
    time.sleep(0.05)
    assert not [t for t in threading.enumerate() if t.name.startswith("fsvid2vid-map-ahead")]


def test_leaving_map_ahead_early_reads_and_runs_a_bounded_number_of_items():
    read, ran = [], []

    def items():
        for i in range(10_000):
            read.append(i)
            yield i

    def fn(x):
        ran.append(x)
        return x

    for item, _ in map_ahead(fn, items(), workers=2, depth=3):
        if item == 5:
            break
    assert len(read) <= 5 + 3 and len(ran) <= len(read)
    assert not [t for t in threading.enumerate() if t.name.startswith("fsvid2vid-map-ahead")]
