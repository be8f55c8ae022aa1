"""The specification's Redis variant: publish on the ``notifications`` channel.

Needs the ``redis`` package (``pip install redis``); Herald must run with REDIS_URL set (the
cluster mode). The payloads below are the specification's, verbatim; a ``target`` (``"admin"``
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
import sys

import redis

redis_client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"))
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
