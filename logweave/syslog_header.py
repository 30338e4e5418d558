"""Read a raw syslog line as rsyslog 8.2302 (Debian 12) does, and frame pasted lines for it.

LogWeave never parses syslog headers in production: rsyslog does, and the event carries its
reading. This module reproduces that reading so that tests can feed real router lines through the
same header split the pipeline sees, quirks included:

- rsyslog's default parser chain: RFC 5424 when ``1 `` follows the PRI, otherwise RFC 3164.
- sanitising on receipt: one trailing LF (and a trailing NUL) dropped, every byte below 0x20
  escaped as ``#`` plus three octal digits (TAB becomes ``#011``, CR ``#015``).
- a missing PRI means user.notice (13); a malformed one gives rsyslog's "invld" facility (24)
  with severity debug, and the line is not parsed any further.
- RFC 3164: a timestamp is RFC 3339 or ``Mmm dd hh:mm:ss`` (year and fraction optional); then
  the first word becomes HOSTNAME whenever it is made of letters, digits, ``.``, ``_``, ``-``,
  ends in a letter or digit and is followed by a space, *whether or not a timestamp was found*.
  The TAG runs to the first ``:`` (kept in the TAG) or space (left in MSG), so a TAG without a
  colon or with a space inside (``syslogd exiting``) makes the program's name the HOSTNAME and
  its next word the TAG. MSG keeps the space that follows ``TAG:``.
- a line that starts (after blanks) with ``[`` or ``{`` is taken as headerless: no timestamp,
  hostname, or TAG; all of it is MSG.
- RFC 5424: once ``1 `` is seen the line is RFC 5424 whatever follows; field errors are ignored,
  and when STRUCTURED-DATA is neither ``-`` nor ``[`` rsyslog reports the MSGID there (its
  work buffer still holds it) and leaves the word in MSG. SYSLOGTAG is ``APP[PROCID]`` (no
  colon), or APP-NAME alone when PROCID is ``-``.
- LogWeave's rsyslog role runs mmutf8fix (replacement ``?``) on MSG before the JSON template. In
  8.2302 it fixes MSG only: invalid bytes in HOSTNAME or TAG stay raw, and rsyslog's JSON
  escaping copies every byte from 0x5D up unchanged, so such a line is not valid UTF-8 and the
  producer dead-letters it as not_utf8. ``Header.valid_utf8`` says so; the text fields are then
  decoded with U+FFFD for the bad bytes so that a test can still look at them.

Checked against rsyslogd 8.2302.0 itself (imudp, net.enableDNS off) on the corpus and on the
unit-test lines; where the emulation guesses, a comment says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

DEFAULT_PRI = 13  # rsyslog's DEFUPRI: user.notice for a line without <PRI>
INVALID_FACILITY = 24  # rsyslog's "invld" facility for a malformed <PRI>
_MAX_PRI = 191
_TAG_MAX = 512  # CONF_TAG_MAXSIZE
_HOSTNAME_MAX = 512  # CONF_HOSTNAME_MAXSIZE
_UTF8_REPLACEMENT = ord("?")  # mmutf8fix replacementChar in roles/rsyslog

_SP = 0x20
_MONTHS = {
    b"jan": 1, b"feb": 2, b"mar": 3, b"apr": 4, b"may": 5, b"jun": 6,
    b"jul": 7, b"aug": 8, b"sep": 9, b"oct": 10, b"nov": 11, b"dec": 12,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Header:
    """The properties rsyslog's JSON template writes for one received line.

    ``timereported`` is None when the line carries no timestamp (rsyslog then writes the receive
    time). ``hostname_in_line`` is False when HOSTNAME is the sender's address (rsyslog's
    ``fromhost``). ``protocol`` is 0 for RFC 3164 and 1 for RFC 5424. ``app_name``, ``procid``,
    ``msgid`` and ``structured_data`` are what rsyslog reports for either protocol (``-`` when
    absent; for RFC 3164 APP-NAME is the program name and PROCID the ``[pid]`` of the TAG).
    ``dead_letter`` is the producer's reason when rsyslog's JSON for this line cannot be read:
    ``not_utf8`` (raw bytes outside MSG, which mmutf8fix leaves alone).
    """

    facility: int
    severity: int
    timereported: str | None
    hostname: str
    hostname_in_line: bool
    syslogtag: str
    programname: str
    msg: str
    protocol: int
    app_name: str
    procid: str
    msgid: str
    structured_data: str
    valid_utf8: bool
    dead_letter: str | None

    def event_fields(self) -> dict[str, str | int | None]:
        """The header part of the event, under the contract's field names."""
        return {
            "timereported": self.timereported,
            "hostname": self.hostname,
            "programname": self.programname,
            "syslogtag": self.syslogtag,
            "severity": self.severity,
            "facility": self.facility,
            "msg": self.msg,
            "app-name": self.app_name,
            "procid": self.procid,
            "msgid": self.msgid,
            "structured-data": self.structured_data,
        }


def read_header(raw: bytes, *, received: datetime, fromhost: str = "127.0.0.1") -> Header:
    """Read one received syslog message (one datagram or one TCP frame) as rsyslog would.

    ``received`` is the receiver's clock, timezone-aware: an RFC 3164 timestamp takes its year
    and UTC offset from it, as rsyslog fills the fields a BSD timestamp lacks from the receive
    time. ``fromhost`` is the HOSTNAME rsyslog reports when the line carries none (the sender's
    address; the LogWeave role turns DNS lookups off).
    """
    if received.utcoffset() is None:
        raise ValueError("received must be timezone-aware: rsyslog stamps in its local zone")
    buf = _sanitise(raw)
    pri, after_pri = _read_pri(buf)
    facility, severity = pri >> 3, pri & 7
    parts = _Parts(hostname=None, tag=b"", msg_start=after_pri, stamp=None, protocol=0)
    if facility != INVALID_FACILITY:
        parts = _read_rfc5424(buf, after_pri) or _read_rfc3164(buf, after_pri)
    return _build(buf, parts, facility, severity, received, fromhost)


def frame_pasted_line(line: bytes) -> bytes:
    """A line pasted from a router's log page, as the router would have sent it over syslog.

    A line that starts with ``<PRI>`` is already on-the-wire form and is kept. Display layouts
    that put the priority in words are turned back into the wire layout, the priority into
    ``<PRI>`` and the rest kept byte for byte:

    - logread / BusyBox: ``Www Mmm dd hh:mm:ss[ yyyy][ facility.level] TAG...``
      (the weekday and year exist only on screen);
    - Tomato / DD-WRT: ``Mmm dd hh:mm:ss HOST facility.level TAG...``;
    - ISO time and a level word: ``2017-05-29T00:09:32+10:00 notice TAG...`` (facility user);
    - RouterOS ``/log print``: ``Mmm/dd/yyyy hh:mm:ss topics text`` (facility daemon, severity
      from the topic, as RouterOS's remote action does by default);
    - TP-Link's CSV export ``"epoch","Mmm dd hh:mm:ss","MODULE","LEVEL","text"``, sent as
      ``Mmm dd hh:mm:ss MODULE: text`` (a reconstruction: the export hides the wire form).

    Anything else gets rsyslog's own default ``<13>`` in front, which reads exactly as the bare
    line would.
    """
    line = line.rstrip(b"\n")
    if _WIRE_PRI.match(line):
        return line
    for layout in _PASTE_LAYOUTS:
        framed = layout(line)
        if framed is not None:
            return framed
    return b"<%d>" % DEFAULT_PRI + line


# --- receipt: sanitising and PRI -------------------------------------------------------------


def _sanitise(raw: bytes) -> bytes:
    """rsyslog's SanitizeMsg with its defaults (escape control characters, TAB included)."""
    if raw.endswith(b"\x00"):
        raw = raw[:-1]
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    out = bytearray()
    for byte in raw:
        if byte < 0x20:
            out += b"#%03o" % byte
        else:
            out.append(byte)
    return bytes(out)


def _read_pri(buf: bytes) -> tuple[int, int]:
    """(PRI, offset after it). Mirrors rsyslog's ParsePRI, including ``<>`` meaning 0."""
    if not buf.startswith(b"<"):
        return DEFAULT_PRI, 0
    pri = 0
    pos = 0
    left = len(buf)
    while True:
        left -= 1
        if left <= 0:
            break
        pos += 1
        if not _isdigit(_at(buf, pos)) or pri > _MAX_PRI:
            break
        pri = 10 * pri + _at(buf, pos) - 0x30
    if _at(buf, pos) == ord(">") and pri <= _MAX_PRI:
        return pri, pos + 1
    return (INVALID_FACILITY << 3) | 7, 0


# --- the two parsers -------------------------------------------------------------------------


@dataclass(slots=True)
class _Stamp:
    year: int | None
    month: int
    day: int
    hour: int
    minute: int
    second: int
    secfrac: int
    precision: int
    offset: tuple[str, int, int] | None  # mode, hours, minutes; None: the receiver's


@dataclass(slots=True)
class _Parts:
    hostname: bytes | None
    tag: bytes
    msg_start: int
    stamp: _Stamp | None
    protocol: int
    app_name: bytes | None = None
    procid: bytes | None = None
    msgid: bytes | None = None
    structured_data: bytes | None = None


def _read_rfc5424(buf: bytes, pos: int) -> _Parts | None:
    left = len(buf) - pos
    if left < 2 or _at(buf, pos) != ord("1") or _at(buf, pos + 1) != _SP:
        return None
    pos += 2
    left -= 2
    parts = _Parts(hostname=None, tag=b"", msg_start=pos, stamp=None, protocol=1)
    if left >= 2 and _at(buf, pos) == ord("-") and _at(buf, pos + 1) == _SP:
        pos += 2
        left -= 2
    else:
        found = _timestamp_3339(buf, pos, left)
        if found is None:
            # rsyslog stops reading fields here; everything after "1 " is MSG.
            return parts
        parts.stamp, pos, left = found
    parts.hostname, pos, left = _field(buf, pos, left)
    parts.app_name, pos, left = _field(buf, pos, left)
    parts.procid, pos, left = _field(buf, pos, left)
    parts.msgid, pos, left = _field(buf, pos, left)
    sd, pos, left = _structured_data(buf, pos, left)
    parts.structured_data = parts.msgid if sd is None else sd
    parts.msg_start = pos
    return parts


def _field(buf: bytes, pos: int, left: int) -> tuple[bytes, int, int]:
    """One space-terminated RFC 5424 header field; a missing space is not an error to rsyslog."""
    start = pos
    while left > 0 and _at(buf, pos) != _SP:
        pos += 1
        left -= 1
    value = buf[start:pos]
    if left > 0:
        pos += 1
        left -= 1
    return value, pos, left


def _structured_data(buf: bytes, pos: int, left: int) -> tuple[bytes | None, int, int]:
    """STRUCTURED-DATA as rsyslog reads it; None when it is neither ``-`` nor ``[...]``."""
    if left == 0 or _at(buf, pos) not in (ord("["), ord("-")):
        return None, pos, left
    start = pos
    if _at(buf, pos) == ord("-"):
        pos += 1
        left -= 1
        end = pos
    else:
        while True:
            if left < 2:
                if left > 0 and _at(buf, pos) == ord("]"):
                    pos += 1
                    left -= 1
                end = pos
                break
            if _at(buf, pos) == ord("\\") and _at(buf, pos + 1) == ord("]"):
                pos += 2
                left -= 2
            elif _at(buf, pos) == ord("]") and _at(buf, pos + 1) == _SP:
                end = pos + 1
                pos += 2
                left -= 2
                break
            else:
                pos += 1
                left -= 1
    if left > 0 and _at(buf, pos) == _SP:
        pos += 1
        left -= 1
    return buf[start:end], pos, left


def _read_rfc3164(buf: bytes, pos: int) -> _Parts:
    left = len(buf) - pos
    parts = _Parts(hostname=None, tag=b"", msg_start=pos, stamp=None, protocol=0)

    blanks = 0
    while blanks < left and _at(buf, pos + blanks) in (_SP, ord("\t")):
        blanks += 1
    if blanks < left and _at(buf, pos + blanks) in (ord("["), ord("{")):
        return parts  # headerless: all of it is MSG

    found = _timestamp_3339(buf, pos, left) or _timestamp_3164(buf, pos, left)
    if found is None and _at(buf, pos) == _SP and left > 1:
        found = _timestamp_3164(buf, pos + 1, left - 1)  # one leading space is forgiven
    if found is not None:
        parts.stamp, pos, left = found

    if left > 0:
        size = 0
        while size < left and _is_hostname_byte(_at(buf, pos + size)) and size < _HOSTNAME_MAX - 1:
            size += 1
        if size == left:
            parts.hostname = buf[pos : pos + size]
            pos += size
            left = 0
        elif size > 0 and _isalnum(_at(buf, pos + size - 1)) and _at(buf, pos + size) == _SP:
            parts.hostname = buf[pos : pos + size]
            pos += size + 1
            left -= size + 1

    start = pos
    while left > 0 and _at(buf, pos) not in (ord(":"), _SP) and pos - start < _TAG_MAX - 2:
        pos += 1
        left -= 1
    if left > 0 and _at(buf, pos) == ord(":"):
        pos += 1
        left -= 1
    parts.tag = buf[start:pos]
    parts.msg_start = pos
    return parts


# --- timestamps (rsyslog's datetime.c, quirks included) ------------------------------------


def _timestamp_3339(buf: bytes, pos: int, left: int) -> tuple[_Stamp, int, int] | None:
    year, pos, left = _int(buf, pos, left)
    if year >= 2100:
        return None
    fields = []
    for separator, low, high in (
        (ord("-"), 1, 12),
        (ord("-"), 1, 31),
        (ord("T"), 0, 23),
        (ord(":"), 0, 59),
        (ord(":"), 0, 60),
    ):
        field = _ranged(buf, pos, left, separator, low, high)
        if field is None:
            return None
        value, pos, left = field
        fields.append(value)
    secfrac, precision, pos, left = _fraction(buf, pos, left)
    if left == 0:
        return None
    if _at(buf, pos) == ord("Z"):
        offset = ("Z", 0, 0)
        pos += 1
        left -= 1
    elif _at(buf, pos) in (ord("+"), ord("-")):
        mode = chr(_at(buf, pos))
        pos += 1
        left -= 1
        hours, pos, left = _int(buf, pos, left)
        if not 0 <= hours <= 23 or left == 0 or _at(buf, pos) != ord(":"):
            return None
        pos += 1
        left -= 1
        minutes, pos, left = _int(buf, pos, left)
        if not 0 <= minutes <= 59:
            return None
        offset = (mode, hours, minutes)
    else:
        return None
    if left > 0:
        if _at(buf, pos) != _SP:
            return None
        pos += 1
        left -= 1
    month, day, hour, minute, second = fields
    stamp = _Stamp(year, month, day, hour, minute, second, secfrac, precision, offset)
    return stamp, pos, left


def _timestamp_3164(buf: bytes, pos: int, left: int) -> tuple[_Stamp, int, int] | None:
    if left < 3:
        return None
    year = 0
    if _isdigit(_at(buf, pos)):
        # Some devices (Brocade) put the year first.
        year, pos, left = _int(buf, pos, left)
        if not 1970 <= year <= 2100 or _at(buf, pos) != _SP:
            return None
        pos += 1  # rsyslog skips this space without counting it: kept for exactness
    month = _MONTHS.get(bytes(_lower(_at(buf, pos + k)) for k in range(3)))
    if month is None:
        return None
    pos += 3
    left -= 3
    if left == 0 or _at(buf, pos) != _SP:
        return None
    pos += 1
    left -= 1
    if _at(buf, pos) == _SP:  # one-digit day padded with a space
        pos += 1
        left -= 1
    day, pos, left = _int(buf, pos, left)
    if not 1 <= day <= 31 or left == 0 or _at(buf, pos) != _SP:
        return None
    pos += 1
    left -= 1
    hour, pos, left = _int(buf, pos, left)
    if year == 0 and 1970 < hour < 2100:
        # Cisco writes the year after the day: "Jan  1 2021 00:00:00".
        year = hour
        if left == 0 or _at(buf, pos) != _SP:
            return None
        pos += 1
        left -= 1
        hour, pos, left = _int(buf, pos, left)
    if not 0 <= hour <= 23:
        return None
    clock = [hour]
    for high in (59, 60):
        field = _ranged(buf, pos, left, ord(":"), 0, high)
        if field is None:
            return None
        value, pos, left = field
        clock.append(value)
    secfrac, precision, pos, left = _fraction(buf, pos, left)
    if left > 0 and _at(buf, pos) == ord(":"):  # "Jan  1 00:00:00: host" (Cisco)
        pos += 1
        left -= 1
    if left > 0:
        if _at(buf, pos) != _SP:
            return None
        pos += 1
        left -= 1
    # rsyslog 8.2302 takes a missing year from the receive time with no December/January
    # correction that we know of; a line from Dec 31 read on Jan 1 gets the new year.
    stamp = _Stamp(year or None, month, day, clock[0], clock[1], clock[2], secfrac, precision, None)
    return stamp, pos, left


def _fraction(buf: bytes, pos: int, left: int) -> tuple[int, int, int, int]:
    if left > 0 and _at(buf, pos) == ord("."):
        pos += 1
        left -= 1
        start = pos
        value, pos, left = _int(buf, pos, left)
        return value, pos - start, pos, left
    return 0, 0, pos, left


def _ranged(
    buf: bytes, pos: int, left: int, separator: int, low: int, high: int
) -> tuple[int, int, int] | None:
    """``separator`` then a number within low..high: (number, pos, left), or None."""
    if left == 0 or _at(buf, pos) != separator:
        return None
    value, pos, left = _int(buf, pos + 1, left - 1)
    return (value, pos, left) if low <= value <= high else None


def _int(buf: bytes, pos: int, left: int) -> tuple[int, int, int]:
    value = 0
    while left > 0 and _isdigit(_at(buf, pos)):
        value = value * 10 + _at(buf, pos) - 0x30
        pos += 1
        left -= 1
    return value, pos, left


def _format_3339(stamp: _Stamp, received: datetime) -> bytes:
    """rsyslog's formatTimestamp3339, with a BSD timestamp's gaps filled from ``received``."""
    year = stamp.year if stamp.year is not None else received.year
    text = b"%04d-%02d-%02dT%02d:%02d:%02d" % (
        year % 10000,
        stamp.month,
        stamp.day,
        stamp.hour,
        stamp.minute,
        stamp.second,
    )
    if stamp.precision > 0:
        # rsyslog prints the digits of the fraction by powers of ten and only up to six of
        # them; a longer fraction comes out as one odd byte, reproduced here.
        power = 10 ** ((stamp.precision - 1) % 6)
        secfrac = stamp.secfrac
        digits = bytearray(b".")
        while power > 0:
            digit = secfrac // power
            secfrac -= digit * power
            power //= 10
            digits.append((0x30 + digit) & 0xFF)
        text += bytes(digits)
    offset = stamp.offset or _offset_of(received)
    if offset[0] == "Z":
        return text + b"Z"
    return text + b"%s%02d:%02d" % (offset[0].encode(), offset[1], offset[2])


def _offset_of(moment: datetime) -> tuple[str, int, int]:
    utcoffset = moment.utcoffset()
    seconds = 0 if utcoffset is None else int(utcoffset.total_seconds())
    return ("-" if seconds < 0 else "+", abs(seconds) // 3600, abs(seconds) % 3600 // 60)


# --- the properties --------------------------------------------------------------------------


def _build(
    buf: bytes, parts: _Parts, facility: int, severity: int, received: datetime, fromhost: str
) -> Header:
    if parts.protocol == 1:
        # rsyslog reports an APP-NAME it read as empty as "-", one it never reached as "".
        app_name = b"" if parts.app_name is None else parts.app_name or b"-"
        procid = parts.procid if parts.procid is not None else b"-"
        tag = app_name if procid == b"-" else app_name + b"[" + procid + b"]"
        msgid = parts.msgid if parts.msgid is not None else b"-"
        structured_data = parts.structured_data if parts.structured_data is not None else b"-"
    else:
        tag = parts.tag
        found = _procid_from_tag(tag)
        procid = b"-" if found is None else found
        msgid = structured_data = b"-"
    programname = _programname(tag)
    if parts.protocol == 0:
        app_name = programname or b"-"

    msg = _mmutf8fix(buf[parts.msg_start :])
    stamp = None if parts.stamp is None else _format_3339(parts.stamp, received)
    header_bytes = [parts.hostname or b"", tag, app_name, procid, msgid, structured_data]
    valid = all(_is_utf8(value) for value in [*header_bytes, stamp or b""])
    return Header(
        facility=facility,
        severity=severity,
        timereported=None if stamp is None else _text(stamp),
        hostname=fromhost if parts.hostname is None else _text(parts.hostname),
        hostname_in_line=parts.hostname is not None,
        syslogtag=_text(tag),
        programname=_text(programname),
        msg=_text(msg),
        protocol=parts.protocol,
        app_name=_text(app_name),
        procid=_text(procid),
        msgid=_text(msgid),
        structured_data=_text(structured_data),
        valid_utf8=valid,
        dead_letter=_dead_letter(facility, valid),
    )


def _dead_letter(facility: int, valid_utf8: bool) -> str | None:
    if not valid_utf8:
        return "not_utf8"
    return None


def _programname(tag: bytes) -> bytes:
    """The TAG up to the first ``:``, ``[``, ``/`` or non-printable byte (rsyslog's rule)."""
    end = 0
    while end < len(tag) and 0x20 <= tag[end] <= 0x7E and tag[end] not in b":[/":
        end += 1
    return tag[:end]


def _procid_from_tag(tag: bytes) -> bytes | None:
    opening = tag.find(b"[")
    if opening < 0:
        return None
    closing = tag.find(b"]", opening + 1)
    return None if closing < 0 else tag[opening + 1 : closing]


def _mmutf8fix(msg: bytes) -> bytes:
    """mmutf8fix mode utf-8 as in 8.2302: each byte of an invalid sequence becomes ``?``."""
    out = bytearray(msg)
    start = 0
    pending = 0
    codepoint = 0
    index = 0
    while index < len(out):
        byte = out[index]
        if pending:
            if byte & 0xC0 != 0x80:
                out[start:index] = bytes([_UTF8_REPLACEMENT]) * (index - start)
                pending = 0
                continue  # read this byte again as the start of a sequence
            codepoint = (codepoint << 6) | (byte & 0x3F)
            pending -= 1
            if pending == 0:
                size = index - start + 1
                overlong = codepoint < {2: 0x80, 3: 0x800, 4: 0x10000}[size]
                if overlong or 0xD800 <= codepoint <= 0xDFFF or codepoint > 0x10FFFF:
                    out[start : index + 1] = bytes([_UTF8_REPLACEMENT]) * size
        elif byte & 0x80:
            lead = _utf8_lead(byte)
            if lead is None:
                out[index] = _UTF8_REPLACEMENT  # a stray continuation byte, or 0xF8 and up
            else:
                start, (pending, bits) = index, lead
                codepoint = byte & bits
        index += 1
    if pending:
        out[start:] = bytes([_UTF8_REPLACEMENT]) * (len(out) - start)
    return bytes(out)


def _utf8_lead(byte: int) -> tuple[int, int] | None:
    """(continuation bytes to come, payload bits) for a UTF-8 lead byte; None if it is none."""
    if byte & 0xE0 == 0xC0:
        return 1, 0x1F
    if byte & 0xF0 == 0xE0:
        return 2, 0x0F
    if byte & 0xF8 == 0xF0:
        return 3, 0x07
    return None


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


def _at(buf: bytes, pos: int) -> int:
    """The byte at ``pos``, or 0 past the end, as rsyslog's NUL-terminated buffer reads."""
    return buf[pos] if 0 <= pos < len(buf) else 0


def _isdigit(byte: int) -> bool:
    return 0x30 <= byte <= 0x39


def _isalnum(byte: int) -> bool:
    return _isdigit(byte) or 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A


def _is_hostname_byte(byte: int) -> bool:
    return _isalnum(byte) or byte in b"._-"


def _lower(byte: int) -> int:
    return byte | 0x20 if 0x41 <= byte <= 0x5A else byte


# --- paste layouts ---------------------------------------------------------------------------

_WIRE_PRI = re.compile(rb"<\d{1,3}>")
_MONTH = rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_BSD_STAMP = _MONTH + rb" [ \d]?\d \d\d:\d\d:\d\d"
_LEVELS = {
    b"emerg": 0, b"panic": 0, b"alert": 1, b"crit": 2, b"err": 3, b"error": 3,
    b"warn": 4, b"warning": 4, b"notice": 5, b"info": 6, b"debug": 7,
}  # fmt: skip
_FACILITIES = {
    b"kern": 0, b"user": 1, b"mail": 2, b"daemon": 3, b"auth": 4, b"security": 4, b"syslog": 5,
    b"lpr": 6, b"news": 7, b"uucp": 8, b"cron": 9, b"authpriv": 10, b"ftp": 11, b"ntp": 12,
    b"audit": 13, b"alert": 14, b"clock": 15,
    **{b"local%d" % n: 16 + n for n in range(8)},
}  # fmt: skip
_ROUTEROS_LEVELS = {b"critical": 2, b"error": 3, b"warning": 4, b"info": 6, b"debug": 7}

_LOGREAD = re.compile(
    rb"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?P<stamp>" + _BSD_STAMP + rb")(?: \d{4})?"
    rb"(?: (?P<facility>[a-z]+\d?)\.(?P<level>[a-z]+)(?= ))? (?P<rest>.*)",
    re.DOTALL,
)
_TOMATO = re.compile(
    rb"(?P<stamp>" + _BSD_STAMP + rb") (?P<host>\S+) (?P<facility>[a-z]+\d?)\.(?P<level>[a-z]+)"
    rb" (?P<rest>.*)",
    re.DOTALL,
)
_ISO_LEVEL = re.compile(
    rb"(?P<stamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (?P<level>[a-z]+)"
    rb" (?P<rest>.*)",
    re.DOTALL,
)
_ROUTEROS = re.compile(
    rb"(?P<month>" + _MONTH + rb")/(?P<day>\d\d?)/\d{4} (?P<time>\d\d:\d\d:\d\d)"
    rb" (?P<rest>(?P<topics>[a-z0-9,]+) .*)",
    re.DOTALL,
)
_TPLINK_CSV = re.compile(
    rb'"\d+","(?P<stamp>' + _BSD_STAMP + rb')","(?P<module>[^"]+)","(?P<level>[A-Za-z]+)",'
    rb'"(?P<text>.*)"',
    re.DOTALL,
)


def _pri(facility: bytes, level: bytes) -> bytes | None:
    if facility not in _FACILITIES or level not in _LEVELS:
        return None
    return b"<%d>" % (_FACILITIES[facility] * 8 + _LEVELS[level])


def _from_logread(line: bytes) -> bytes | None:
    found = _LOGREAD.fullmatch(line)
    if found is None:
        return None
    pri = b"<%d>" % DEFAULT_PRI
    if found["level"] is not None:
        pri = _pri(found["facility"], found["level"]) or b""
        if not pri:
            return None
    return pri + found["stamp"] + b" " + found["rest"]


def _from_tomato(line: bytes) -> bytes | None:
    found = _TOMATO.fullmatch(line)
    if found is None:
        return None
    pri = _pri(found["facility"], found["level"])
    if pri is None:
        return None
    return pri + found["stamp"] + b" " + found["host"] + b" " + found["rest"]


def _from_iso_level(line: bytes) -> bytes | None:
    found = _ISO_LEVEL.fullmatch(line)
    if found is None:
        return None
    pri = _pri(b"user", found["level"])
    return None if pri is None else pri + found["stamp"] + b" " + found["rest"]


def _from_routeros(line: bytes) -> bytes | None:
    found = _ROUTEROS.fullmatch(line)
    if found is None:
        return None
    levels = [_ROUTEROS_LEVELS[t] for t in found["topics"].split(b",") if t in _ROUTEROS_LEVELS]
    if not levels:
        return None
    day = found["day"].rjust(2)
    stamp = found["month"] + b" " + day + b" " + found["time"]
    return b"<%d>" % (_FACILITIES[b"daemon"] * 8 + levels[0]) + stamp + b" " + found["rest"]


def _from_tplink_csv(line: bytes) -> bytes | None:
    found = _TPLINK_CSV.fullmatch(line)
    if found is None:
        return None
    pri = _pri(b"user", found["level"].lower())
    if pri is None:
        return None
    return pri + found["stamp"] + b" " + found["module"] + b": " + found["text"]


_PASTE_LAYOUTS = (_from_logread, _from_tomato, _from_iso_level, _from_routeros, _from_tplink_csv)
