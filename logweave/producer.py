"""logweave-producer: rsyslog's JSON lines in over TCP, events out to Kafka.

Each valid line becomes an event on ``router.logs``, keyed by the sending router; everything
else goes to the dead-letter topic with its reason. At most ``producer.max_in_flight`` events
wait for Kafka's acknowledgement at any time: when Kafka is slow or down the service stops
reading its sockets, TCP pushes back, and rsyslog's disk-assisted queue holds the rest.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import sys
import time
from collections import Counter, deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from kafka.errors import KafkaError

from logweave import kafka
from logweave.config import Settings
from logweave.contract import ContractError, normalise
from logweave.framing import Framer, Rejected
from logweave.service import Backoff, Notifier, RateLimitedLog, Stop

log = logging.getLogger("logweave.producer")

_READ_SIZE = 65536
_TICK_S = 0.25


class Producer:
    def __init__(self, settings: Settings, client: Any, notifier: Notifier, stop: Stop) -> None:
        self.settings = settings
        self.client = client
        self.notifier = notifier
        self.stop = stop
        self.counts: Counter[str] = Counter()
        self.rejects: Counter[str] = Counter()
        self.connections = 0
        self.in_flight = 0
        self._rejects_log = RateLimitedLog(log, settings.service.rejects_logged_per_minute)
        self._retry = Backoff(settings.service.retry_initial_s, settings.service.retry_max_s)
        self._loop: asyncio.AbstractEventLoop
        self._slots: asyncio.Semaphore
        self._idle: asyncio.Event
        self._readers: set[asyncio.Task[None]] = set()
        self._last_read = 0.0
        # Lines the drain could not hand to Kafka (read but unsent, or never acknowledged).
        self.lost = 0

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._slots = asyncio.Semaphore(self.settings.producer.max_in_flight)
        self._idle = asyncio.Event()
        self._idle.set()
        host, _, port = self.settings.producer.listen.rpartition(":")
        server = await asyncio.start_server(
            self._serve, host.strip("[]"), int(port), reuse_address=True, limit=_READ_SIZE
        )
        async with server:
            log.info(
                "producer_ready listen=%s topic=%s",
                self.settings.producer.listen,
                self.settings.kafka.topic,
            )
            self.notifier.ready(self.status_line())
            await self._tick_until_stopped()
            server.close()
            await self._drain()

    def status_line(self) -> str:
        rejected = " ".join(f"{k}={v}" for k, v in sorted(self.rejects.items())) or "none"
        return (
            f"connections={self.connections} received={self.counts['received']} "
            f"published={self.counts['published']} dead_letters={self.counts['dead_letters']} "
            f"in_flight={self.in_flight} retries={self.counts['retries']} rejected: {rejected}"
        )

    async def _tick_until_stopped(self) -> None:
        next_status = 0.0
        while not self.stop:
            await asyncio.sleep(_TICK_S)
            # The event loop reached this line, so no Kafka call is blocking it; the client's
            # sender thread must be alive too, or nothing we queue will ever be sent.
            if self._sender_alive():
                self.notifier.beat()
            now = time.monotonic()
            if now >= next_status:
                self.notifier.status(self.status_line())
                next_status = now + self.settings.service.status_interval_s

    def _sender_alive(self) -> bool:
        sender = getattr(self.client, "_sender", None)
        return sender is None or sender.is_alive()

    async def _drain(self) -> None:
        """Stop taking connections, read what clients already sent, and flush it to Kafka."""
        bound = self.settings.service.drain_timeout_s
        deadline = time.monotonic() + bound
        self.notifier.stopping(f"draining: {self.status_line()}")
        log.info("drain_started in_flight=%d connections=%d", self.in_flight, self.connections)

        read_until = time.monotonic() + bound / 2
        while self._readers and time.monotonic() < read_until:
            if time.monotonic() - self._last_read > 0.3:
                break
            await asyncio.sleep(0.05)
        for task in list(self._readers):
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), max(0.0, deadline - time.monotonic()))
        remaining = max(0.1, deadline - time.monotonic())
        try:
            await asyncio.to_thread(self.client.flush, remaining)
        except KafkaError as exc:
            log.warning("drain_flush_incomplete error=%s", exc)
        lost = self.in_flight + self.counts["unsent"]
        self.lost = lost
        if lost:
            # Lines rsyslog already handed over and Kafka never acknowledged: rsyslog cannot
            # resend them over plain TCP, so say exactly how many were lost.
            log.error("drain_incomplete lost=%d bound_s=%.1f", lost, bound)
        log.info("drain_finished %s", self.status_line())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _peer(writer)
        if self.connections >= self.settings.producer.max_connections:
            self.rejects["too_many_connections"] += 1
            self._rejects_log.warning(
                "too_many_connections",
                "connection_refused peer=%s open=%d",
                peer,
                self.connections,
            )
            writer.close()
            return
        task = asyncio.current_task()
        if task is not None:
            self._readers.add(task)
        self.connections += 1
        framer = Framer(self.settings.producer.max_line_bytes)
        frames: deque[bytes | Rejected] = deque()
        try:
            # Reading goes on after SIGTERM: the drain stops it once clients fall quiet.
            while True:
                data = await reader.read(_READ_SIZE)
                if not data:
                    break
                self._last_read = time.monotonic()
                frames.extend(framer.feed(data))
                while frames:
                    await self._accept(frames[0], peer)
                    frames.popleft()
            frames.extend(framer.end())
            while frames:
                await self._accept(frames[0], peer)
                frames.popleft()
        except (ConnectionError, OSError) as exc:
            log.info("connection_lost peer=%s error=%s", peer, exc)
        except asyncio.CancelledError:
            # The drain ended this reader while Kafka held every slot: the lines it had read
            # and not yet handed over are lost with the connection, and said so.
            unsent = len(frames) + len(framer.end())
            if unsent:
                self.counts["unsent"] += unsent
                log.error("connection_cut peer=%s unsent=%d", peer, unsent)
            raise
        finally:
            self.connections -= 1
            if task is not None:
                self._readers.discard(task)
            writer.close()

    async def _accept(self, frame: bytes | Rejected, peer: str) -> None:
        self.counts["received"] += 1
        if isinstance(frame, Rejected):
            await self._dead_letter(frame, peer)
            return
        try:
            text = frame.decode("utf-8")
        except UnicodeDecodeError as exc:
            await self._dead_letter(Rejected("not_utf8", str(exc), frame, len(frame)), peer)
            return
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            await self._dead_letter(Rejected("not_json", str(exc), frame, len(frame)), peer)
            return
        if not isinstance(data, dict):
            detail = f"a JSON {type(data).__name__}, not an object"
            await self._dead_letter(Rejected("not_object", detail, frame, len(frame)), peer)
            return
        try:
            event = normalise(data, received=datetime.now(UTC))
            value = event.to_json()
        except ContractError as exc:
            await self._dead_letter(Rejected(exc.reason, exc.detail, frame, len(frame)), peer)
            return
        except Exception as exc:  # a line nothing above foresaw must not end the connection
            detail = f"{type(exc).__name__}: {exc}"
            await self._dead_letter(Rejected("unreadable", detail, frame, len(frame)), peer)
            return
        await self._publish(self.settings.kafka.topic, event.key, value, "published")

    async def _dead_letter(self, rejected: Rejected, peer: str) -> None:
        self.rejects[rejected.reason] += 1
        self._rejects_log.warning(
            rejected.reason,
            "input_rejected reason=%s peer=%s detail=%r",
            rejected.reason,
            peer,
            rejected.detail,
        )
        record = {
            "reason": rejected.reason,
            "detail": rejected.detail,
            "peer": peer,
            "received_at": datetime.now(UTC).isoformat(),
            "length": rejected.length,
            **_payload(rejected.payload),
        }
        value = json.dumps(record, ensure_ascii=False).encode()
        await self._publish(self.settings.kafka.dlq_topic, peer.encode(), value, "dead_letters")

    async def _publish(self, topic: str, key: bytes, value: bytes, counter: str) -> None:
        await self._slots.acquire()
        self.in_flight += 1
        self._idle.clear()
        self._send(topic, key, value, counter)

    def _send(self, topic: str, key: bytes, value: bytes, counter: str) -> None:
        try:
            future = self.client.send(topic, key=key, value=value)
        except Exception as exc:  # any send failure is retried the same way
            self._failed(topic, key, value, counter, exc)
            return
        call = self._loop.call_soon_threadsafe
        future.add_callback(call, self._delivered, counter)
        future.add_errback(call, self._failed, topic, key, value, counter)

    def _delivered(self, counter: str, _metadata: Any) -> None:
        self.counts[counter] += 1
        self._retry.reset()
        self._release()

    def _failed(self, topic: str, key: bytes, value: bytes, counter: str, exc: Any) -> None:
        """Kafka refused or timed out: keep the event and send it again after a backoff wait.

        The event keeps its slot while it waits, so a long outage fills the slots and the
        sockets stop being read. A resend after an unclear failure can put the event on the
        topic twice; the consumers recognise it by its id.
        """
        self.counts["retries"] += 1
        delay = self._retry.next_delay()
        self._rejects_log.warning(
            "kafka_send_failed",
            "kafka_send_failed topic=%s error=%s retry_in=%.1fs",
            topic,
            exc,
            delay,
        )
        self._loop.call_later(delay, self._send, topic, key, value, counter)

    def _release(self) -> None:
        self.in_flight -= 1
        self._slots.release()
        if self.in_flight == 0:
            self._idle.set()


def _close(client: Any, timeout: float) -> None:
    try:
        client.close(timeout=timeout)
    except KafkaError as exc:
        # Kafka is still away; what it never acknowledged was counted in drain_incomplete.
        log.warning("kafka_close_incomplete error=%s", exc)


def _peer(writer: asyncio.StreamWriter) -> str:
    info = writer.get_extra_info("peername")
    return str(info[0]) if info else "unknown"


def _payload(payload: bytes) -> dict[str, str]:
    try:
        return {"payload": payload.decode("utf-8"), "payload_encoding": "utf-8"}
    except UnicodeDecodeError:
        return {"payload": base64.b64encode(payload).decode(), "payload_encoding": "base64"}


def main(argv: Sequence[str] | None = None) -> int:
    from logweave.cli import service_settings

    settings = service_settings("logweave-producer", argv)
    stop = Stop()
    stop.install()
    notifier = Notifier()
    topics = [settings.kafka.topic, settings.kafka.dlq_topic]
    log.info("producer_starting kafka=%s", settings.kafka.bootstrap)
    try:
        if not kafka.wait_until_reachable(settings, stop, notifier.beat, topics):
            return 0
        client = kafka.producer(settings)
        service = Producer(settings, client, notifier, stop)
        try:
            for topic in topics:
                client.partitions_for(topic)  # fetch metadata now, not on the first line
            asyncio.run(service.run())
        finally:
            # After a drain that Kafka left incomplete, waiting again would only delay the stop.
            _close(client, 0.0 if service.lost else settings.service.drain_timeout_s)
    finally:
        notifier.close()
        stop.restore()
    log.info("producer_stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
