"""Splitting a TCP byte stream from rsyslog into frames.

rsyslog's omfwd sends either one message per line (``TCP_Framing="traditional"``) or
octet-counted frames (``LEN SP MSG``, RFC 6587). A JSON object never starts with a digit, so each
frame announces its own framing by its first byte. Memory stays bounded: a line longer than the
limit is skipped up to its end and reported once, with its first ``limit`` bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

_MAX_LEN_DIGITS = 10


@dataclass(frozen=True, slots=True)
class Rejected:
    """Input that is not a frame: ``reason`` is a dead-letter reason, ``payload`` what was kept."""

    reason: str
    detail: str
    payload: bytes
    length: int


Frame = bytes | Rejected


class Framer:
    def __init__(self, max_frame: int) -> None:
        self.max_frame = max_frame
        self._buffer = bytearray()
        # While skipping an over-long frame: bytes still to drop (octet-counted), or -1 to drop
        # up to the next newline; the Rejected report is emitted when skipping ends.
        self._skip_left: int | None = None
        self._skipped: Rejected | None = None

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while self._buffer:
            if self._skip_left is not None:
                if not self._skip(frames):
                    break
                continue
            frame = self._next_frame()
            if frame is None:
                break
            if frame != b"":
                frames.append(frame)
        return frames

    def end(self) -> list[Frame]:
        """The connection closed: whatever is left was cut off mid-frame."""
        frames: list[Frame] = []
        if self._skipped is not None:
            frames.append(self._skipped)
        rest = bytes(self._buffer).strip(b"\r\n")
        if rest:
            frames.append(
                Rejected(
                    "truncated",
                    "connection closed in the middle of a frame",
                    rest[: self.max_frame],
                    len(rest),
                )
            )
        self._buffer.clear()
        self._skip_left = None
        self._skipped = None
        return frames

    def _next_frame(self) -> Frame | None:
        octet = self._octet_header()
        if octet is not None:
            header_len, size = octet
            if size > self.max_frame:
                payload = bytes(self._buffer[header_len : header_len + self.max_frame])
                del self._buffer[:header_len]
                self._skip_left = size
                self._skipped = Rejected(
                    "too_long", f"frame of {size} bytes exceeds {self.max_frame}", payload, size
                )
                return b""
            if len(self._buffer) < header_len + size:
                return None
            frame = bytes(self._buffer[header_len : header_len + size])
            del self._buffer[: header_len + size]
            return frame.rstrip(b"\r\n")

        newline = self._buffer.find(b"\n")
        if newline < 0:
            if len(self._buffer) > self.max_frame:
                payload = bytes(self._buffer[: self.max_frame])
                self._skipped = Rejected(
                    "too_long", f"line longer than {self.max_frame} bytes", payload, 0
                )
                self._skip_left = -1
            return None
        line = bytes(self._buffer[:newline]).rstrip(b"\r")
        del self._buffer[: newline + 1]
        if len(line) > self.max_frame:
            return Rejected(
                "too_long",
                f"line of {len(line)} bytes exceeds {self.max_frame}",
                line[: self.max_frame],
                len(line),
            )
        return line

    def _octet_header(self) -> tuple[int, int] | None:
        """(header length, frame size) when the buffer starts with ``LEN SP``."""
        digits = 0
        while digits < len(self._buffer) and digits <= _MAX_LEN_DIGITS:
            if not 0x30 <= self._buffer[digits] <= 0x39:
                break
            digits += 1
        if digits == 0 or digits >= len(self._buffer) or self._buffer[digits] != 0x20:
            return None
        return digits + 1, int(self._buffer[:digits])

    def _skip(self, frames: list[Frame]) -> bool:
        """Drop the rest of an over-long frame; True once it is gone."""
        if self._skipped is None:
            raise RuntimeError("framer skipping without a rejected frame")
        if self._skip_left is not None and self._skip_left >= 0:
            dropped = min(self._skip_left, len(self._buffer))
            del self._buffer[:dropped]
            self._skip_left -= dropped
            if self._skip_left > 0:
                return False
        else:
            newline = self._buffer.find(b"\n")
            counted = self._skipped.length
            if newline < 0:
                self._skipped = _grown(self._skipped, counted + len(self._buffer))
                self._buffer.clear()
                return False
            self._skipped = _grown(self._skipped, counted + newline)
            del self._buffer[: newline + 1]
        frames.append(self._skipped)
        self._skip_left = None
        self._skipped = None
        return True


def _grown(rejected: Rejected, length: int) -> Rejected:
    detail = rejected.detail
    if rejected.reason == "too_long" and detail.startswith("line longer"):
        detail = f"line of {length} bytes exceeds the limit"
    return Rejected(rejected.reason, detail, rejected.payload, length)
