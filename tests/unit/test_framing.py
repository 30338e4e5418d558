"""The TCP framer: newline and octet-counted frames, over-long and cut-off input."""

from logweave.framing import Framer, Rejected


def feed_all(framer: Framer, chunks: list[bytes]) -> list[bytes | Rejected]:
    frames: list[bytes | Rejected] = []
    for chunk in chunks:
        frames += framer.feed(chunk)
    return frames + framer.end()


def test_newline_frames_split_across_reads_are_joined() -> None:
    frames = feed_all(Framer(100), [b'{"msg":"a"}\n{"ms', b'g":"b"}\r\n', b"\n"])
    assert frames == [b'{"msg":"a"}', b'{"msg":"b"}']


def test_octet_counted_frames_are_read_by_length() -> None:
    body = b'{"msg":"x y\nz"}'
    data = str(len(body)).encode() + b" " + body + b"3 abc"
    assert feed_all(Framer(100), [data[:4], data[4:]]) == [body, b"abc"]


def test_framings_may_alternate_on_one_connection() -> None:
    assert feed_all(Framer(100), [b'{"a":1}\n5 {"b"}{"c":2}\n']) == [
        b'{"a":1}',
        b'{"b"}',
        b'{"c":2}',
    ]


def test_overlong_line_is_reported_once_with_its_prefix_and_length() -> None:
    framer = Framer(10)
    frames = feed_all(framer, [b"x" * 8, b"y" * 30, b"z" * 5 + b"\nok\n"])
    assert frames[1:] == [b"ok"]
    rejected = frames[0]
    assert isinstance(rejected, Rejected)
    assert (rejected.reason, rejected.payload, rejected.length) == (
        "too_long",
        b"x" * 8 + b"yy",
        43,
    )


def test_overlong_octet_frame_is_skipped_by_its_length() -> None:
    frames = feed_all(Framer(4), [b"10 0123456789", b"2 ok"])
    assert isinstance(frames[0], Rejected)
    assert (frames[0].reason, frames[0].payload, frames[0].length) == ("too_long", b"0123", 10)
    assert frames[1:] == [b"ok"]


def test_connection_cut_mid_line_reports_the_partial_frame() -> None:
    frames = feed_all(Framer(100), [b'{"msg":"a"}\n{"msg":"b'])
    assert frames[0] == b'{"msg":"a"}'
    assert isinstance(frames[1], Rejected)
    assert (frames[1].reason, frames[1].payload) == ("truncated", b'{"msg":"b')


def test_memory_stays_bounded_while_skipping() -> None:
    framer = Framer(16)
    for _ in range(1000):
        framer.feed(b"a" * 1000)
    assert len(framer._buffer) <= 1000
