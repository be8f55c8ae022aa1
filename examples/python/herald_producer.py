"""Herald producer for Python backends, standard library only.

The specification's NotificationService, as functions with the same names and parameters,
sending over Herald's HTTP publish API (``POST /api/v1/events``) with the service key:

    export HERALD_URL=http://127.0.0.1:8000
    export HERALD_SERVICE_KEY=...          # the value of HERALD_SERVICE_KEY on the Herald nodes

    from herald_producer import notify_transcode_progress
    notify_transcode_progress(video_id=123, status="processing", progress=45, message="已完成720p转码")

Every call returns Herald's answer (per event: ``id``, ``stream``, ``offset`` once stored) and
raises ``HeraldError`` with Herald's status, error code and message when it refuses.
Network failures and 5xx answers are retried with the same ``Idempotency-Key``, so a retry
never publishes twice.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from typing import Any, Iterable, Optional, Union

Target = Union[str, int, Iterable[Union[str, int]]]

__all__ = [
    "HeraldError",
    "HeraldProducer",
    "notify_transcode_progress",
    "notify_transcode_complete",
    "notify_transcode_failed",
    "notify_system_message",
    "publish",
    "publish_event",
]


class HeraldError(Exception):
    """Herald refused the request: ``status`` is the HTTP status, ``code`` Herald's ERR_* code."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class HeraldProducer:
    """A connection-less client of Herald's publish API."""

    def __init__(self, url: Optional[str] = None, service_key: Optional[str] = None,
                 timeout: float = 10.0, retries: int = 3):
        self.url = (url or os.environ.get("HERALD_URL", "http://127.0.0.1:8000")).rstrip("/")
        self.service_key = service_key or os.environ.get("HERALD_SERVICE_KEY", "")
        if not self.service_key:
            raise ValueError("HERALD_SERVICE_KEY is not set: Herald accepts events only with the service key")
        self.timeout = timeout
        self.retries = retries

    def publish(self, events: Union[dict, list], idempotency_key: Optional[str] = None) -> Any:
        """Publishes one event (a dict) or a batch (a list of up to 500 dicts) in one request."""
        return self._post("/api/v1/events", events, idempotency_key or str(uuid.uuid4()))

    def _post(self, path: str, body: Any, idempotency_key: str) -> Any:
        data = json.dumps(body).encode("utf-8")
        last: Optional[Exception] = None
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(
                self.url + path,
                data=data,
                method="POST",
                headers={
                    "content-type": "application/json",
                    "authorization": f"Bearer {self.service_key}",
                    "idempotency-key": idempotency_key,
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read() or b"null")
            except urllib.error.HTTPError as error:
                payload = _json_or_none(error.read())
                failure = HeraldError(error.code, (payload or {}).get("error", "ERR_HTTP"),
                                      (payload or {}).get("message", error.reason))
                if error.code < 500:
                    raise failure from None
                last = failure
            except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
                last = error
            time.sleep(min(2.0, 0.2 * 2 ** attempt))
        raise last  # type: ignore[misc]


def _json_or_none(raw: bytes) -> Optional[dict]:
    try:
        value = json.loads(raw)
        return value if isinstance(value, dict) else None
    except ValueError:
        return None


def _target(target: Target) -> Any:
    if isinstance(target, (str, int)):
        return target
    return list(target)


_default: Optional[HeraldProducer] = None


def _producer() -> HeraldProducer:
    global _default
    if _default is None:
        _default = HeraldProducer()
    return _default


def publish(events: Union[dict, list], idempotency_key: Optional[str] = None) -> Any:
    """``POST /api/v1/events`` with the default producer (HERALD_URL, HERALD_SERVICE_KEY)."""
    return _producer().publish(events, idempotency_key)


# The specification's four notification functions (same names, same parameters). Transcode
# events go to the administrators, as in the specification, unless a ``target`` is given.

def notify_transcode_progress(video_id: int, status: str, progress: int, message: str = "",
                              target: Target = "admin") -> Any:
    return publish({"type": "transcode_progress", "target": _target(target), "video_id": video_id,
                    "status": status, "progress": progress, "message": message})


def notify_transcode_complete(video_id: int, title: str, format_type: str, file_size: int,
                              target: Target = "admin") -> Any:
    return publish({"type": "transcode_complete", "target": _target(target), "video_id": video_id,
                    "title": title, "format_type": format_type, "file_size": file_size})


def notify_transcode_failed(video_id: int, title: str, error: str, target: Target = "admin") -> Any:
    return publish({"type": "transcode_failed", "target": _target(target), "video_id": video_id,
                    "title": title, "error": error})


def notify_system_message(message: str, level: str = "info", target: Target = "all") -> Any:
    return publish({"type": "system_message", "target": _target(target), "message": message, "level": level})


def publish_event(type: str, data: dict, target: Target = "all", persist: bool = True) -> Any:
    """A custom event (``order.shipped``): ``data`` is any JSON object of at most 8 KiB; ``persist=False`` sends it live only."""
    return publish({"type": type, "target": _target(target), "data": data, "persist": persist})
