"""Per-key rate limit and a brake on wrong keys: 429 problem+json with ``Retry-After``.

Two token buckets, kept in each worker's memory (so the limits hold per worker process):

* every distinct ``Authorization`` header gets ``rate_limit_per_minute`` requests a minute,
  with bursts up to ``rate_limit_burst`` — a runaway integration slows down instead of taking
  the service with it;
* every client address gets ``auth_failures_per_minute`` answers of 401 a minute; past that
  it is refused before its key is even looked up, which makes guessing keys useless (the issue
  measured 500 wrong-key requests in 1.4 s, all answered).

The bucket of a header is its SHA-256, so a wrong secret for a real key id never spends the
real key's budget. Only ``/v1`` paths are limited; health checks and the dashboard are not.
A limit of 0 turns that bucket off.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from typing import Any

from service.api.problems import Message, Receive, Scope, Send, problem_response

__all__ = ["RateLimit", "TokenBuckets"]

#: Buckets remembered per kind; the least recently used are forgotten beyond this.
MAX_BUCKETS = 100_000


class TokenBuckets:
    """Token buckets by name: ``capacity`` tokens, refilled at ``per_minute`` a minute."""

    def __init__(self, per_minute: int, capacity: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(max(capacity, 1))
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _tokens(self, name: str, now: float) -> float:
        tokens, last = self._buckets.get(name, (self.capacity, now))
        return min(self.capacity, tokens + (now - last) * self.rate)

    def wait_seconds(self, name: str, now: float) -> int:
        """Seconds until ``name`` has a whole token again (0: it has one now)."""
        missing = 1.0 - self._tokens(name, now)
        return 0 if missing <= 0 else max(1, math.ceil(missing / self.rate))

    def take(self, name: str, now: float) -> int:
        """Spend one token of ``name``; returns the seconds to wait if there was none."""
        tokens = self._tokens(name, now)
        if tokens < 1.0:
            self._remember(name, tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self.rate))
        self._remember(name, tokens - 1.0, now)
        return 0

    def _remember(self, name: str, tokens: float, now: float) -> None:
        self._buckets[name] = (tokens, now)
        self._buckets.move_to_end(name)
        if len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)


class RateLimit:
    """ASGI middleware applying the two limits above to ``/v1`` requests."""

    def __init__(
        self, app: Any, per_minute: int, burst: int, auth_failures_per_minute: int
    ) -> None:
        self.app = app
        self.keys = TokenBuckets(per_minute, burst) if per_minute > 0 else None
        self.failures = (
            TokenBuckets(auth_failures_per_minute, auth_failures_per_minute)
            if auth_failures_per_minute > 0
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/v1"):
            await self.app(scope, receive, send)
            return
        now = time.monotonic()
        client = str((scope.get("client") or ("unknown", 0))[0])
        if self.failures is not None:
            wait = self.failures.wait_seconds(client, now)
            if wait:
                await self._refuse(scope, receive, send, wait, "wrong or missing keys")
                return
        header = dict(scope.get("headers") or []).get(b"authorization")
        if self.keys is not None and header:
            wait = self.keys.take(hashlib.sha256(header).hexdigest(), now)
            if wait:
                await self._refuse(scope, receive, send, wait, "requests with this key")
                return
        if self.failures is None:
            await self.app(scope, receive, send)
            return
        failures = self.failures

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                failures.take(client, time.monotonic())
            await send(message)

        await self.app(scope, receive, watch)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, wait: int, what: str) -> None:
        response = problem_response(
            429,
            "too-many-requests",
            f"请求过于频繁，请 {wait} 秒后重试 / too many {what}; retry after {wait} s",
            instance=str(scope.get("path", "")),
            headers={"Retry-After": str(wait)},
            retry_after=wait,
        )
        await response(scope, receive, send)
