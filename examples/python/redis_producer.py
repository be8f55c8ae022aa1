"""The specification's Redis variant: publish on the ``notifications`` channel.

Uses the ``redis`` package (``pip install redis``) when it is importable, else a minimal
standard-library client that speaks just ``PUBLISH`` (so the example runs anywhere); Herald
must run with REDIS_URL set (the cluster mode). The payloads below are the specification's, verbatim; a ``target`` (``"admin"``
by default, ``"all"``, a user id or a list of ids) addresses other audiences. Herald answers
nothing on this path: an invalid payload is logged by Herald and counted in
``herald_ingress_rejected_total``; use the HTTP API (herald_producer.py) when the producer
must know that an event was stored.

Environment: REDIS_URL (default redis://127.0.0.1:6379), HERALD_REDIS_PREFIX (Herald's
REDIS_PREFIX, default empty).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from urllib.parse import urlparse

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")


class _StdlibRedis:
    """Just enough of redis-py for ``publish``: one RESP command over a socket (no TLS, no AUTH)."""

    def __init__(self, url: str):
        parsed = urlparse(url)
        self.address = (parsed.hostname or "127.0.0.1", parsed.port or 6379)

    def publish(self, channel: str, message: str) -> int:
        parts = [b"PUBLISH", channel.encode(), message.encode()]
        command = b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
        with socket.create_connection(self.address, timeout=5) as conn:
            conn.sendall(command)
            reply = conn.makefile("rb").readline()
        if not reply.startswith(b":"):
            raise RuntimeError(f"Redis refused PUBLISH: {reply!r}")
        return int(reply[1:])


try:
    import redis  # type: ignore[import-not-found]

    redis_client = redis.Redis.from_url(REDIS_URL)
except ImportError:
    if os.environ.get("HERALD_REQUIRE_REDIS_PY") == "1":
        raise
    redis_client = _StdlibRedis(REDIS_URL)

CHANNEL = os.environ.get("HERALD_REDIS_PREFIX", "") + "notifications"


def publish(event: dict) -> int:
    """Publishes one event; returns how many Herald nodes heard it (not a delivery receipt)."""
    return redis_client.publish(CHANNEL, json.dumps(event))


if __name__ == "__main__":
    # 发布消息 — the specification's example, verbatim
    receivers = redis_client.publish(CHANNEL, json.dumps({
        'type': 'transcode_progress',
        'video_id': 123,
        'progress': 45
    }))
    if len(sys.argv) > 1:  # a personal message to the user ids given on the command line
        receivers += publish({"type": "system_message", "target": sys.argv[1:], "message": "你的视频已发布", "level": "success"})
    print(receivers)
