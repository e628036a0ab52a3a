"""Bytes to lines: the line assembler, and Docker's multiplexed stream parser, on crafted input."""

from __future__ import annotations

import struct

from panda_tui.runners.frames import parse_frames as _parse
from panda_tui.runners.lines import LineAssembler, Replay


def assemble(chunks: list[bytes], max_line: int = 64 * 1024) -> list[list[str]]:
    batches: list[list[str]] = []
    assembler = LineAssembler(batches.append, max_line=max_line)
    for chunk in chunks:
        assembler.feed(chunk)
    assembler.close()
    return batches


def test_lines_split_across_chunks_come_out_whole_and_in_order():
    assert assemble([b"he", b"llo\nwor", b"ld\n", b"tail"]) == [["hello"], ["world"], ["tail"]]


def test_crlf_and_invalid_utf8_are_kept_readable():
    assert assemble([b"dos line\r\n\xff\xfeok\n"]) == [["dos line", "\ufffd\ufffdok"]]


def test_many_lines_in_one_chunk_are_one_batch():
    assert assemble([b"a\nb\nc\n"]) == [["a", "b", "c"]]


def test_a_line_that_outgrows_the_limit_while_pending_is_cut_so_memory_stays_bounded():
    out = [line for batch in assemble([b"x" * 7, b"x" * 7, b"x" * 11 + b"\n"], max_line=10) for line in batch]
    assert "".join(out) == "x" * 25 and out[0] == "x" * 10  # what waited past the limit went out as a piece


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def reader(data: bytes, size: int):
    """A read() that hands out `data` in pieces of `size` bytes, as a socket might."""
    pos = [0]

    def read(_n: int) -> bytes:
        chunk = data[pos[0]:pos[0] + size]
        pos[0] += len(chunk)
        return chunk
    return read


def test_frames_split_anywhere_are_reassembled_and_keep_their_stream():
    data = frame(1, b"out one\n") + frame(2, b"err one\n") + frame(1, b"out two\n")
    for size in (1, 3, 8, 9, len(data)):
        got = [(stream, payload) for stream, payload in _parse(reader(data, size))]
        joined: dict[int, bytes] = {}
        order = []
        for stream, payload in got:
            joined[stream] = joined.get(stream, b"") + payload
            order.append(stream)
        assert joined == {1: b"out one\nout two\n", 2: b"err one\n"}, size
        assert order[0] == 1 and 2 in order


def test_consecutive_frames_of_one_stream_are_joined_into_one_feed():
    data = frame(1, b"a\n") + frame(1, b"b\n") + frame(2, b"c\n")
    assert list(_parse(reader(data, len(data)))) == [(1, b"a\nb\n"), (2, b"c\n")]


def test_a_truncated_frame_at_the_end_yields_nothing_of_it():
    data = frame(1, b"whole\n") + frame(1, b"cut off")[:-3]
    assert list(_parse(reader(data, len(data)))) == [(1, b"whole\n")]


class Sink:
    """Collects what a Replay stores, as a RunLog would (no secrets to keep whole)."""
    hold = 0

    def __init__(self):
        self.stored: list[tuple[str, str]] = []

    def lines_of(self, stream, texts, ts=None):
        self.stored += [(stream, t) for t in texts]

    def cut_point(self, data, limit):
        return min(limit, len(data))


def test_a_stream_read_again_stores_each_line_once_and_keeps_the_last_partial_line():
    sink = Sink()
    replay = Replay(sink, skip=(1, 0))  # a previous scheduler stored "o1"
    for stream, data in [(1, b"o1\no2\n"), (2, b"e1\n"), (1, b"o3 hal")]:  # the first pass breaks mid-line
        replay.feed(stream, data)
    replay.again()
    for stream, data in [(1, b"o1\no2\no3 half\n"), (2, b"e1\ne2\n"), (1, b"last")]:  # read from the start
        replay.feed(stream, data)
    replay.finish()
    assert sink.stored == [("out", "o2"), ("err", "e1"), ("out", "o3 half"), ("err", "e2"), ("out", "last")]
