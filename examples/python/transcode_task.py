"""A Celery-style transcode task that reports through Herald, as the specification's does.

Runs with Celery when it is installed (``celery -A transcode_task worker``); without Celery,
``python3 transcode_task.py <video_id> [title]`` runs the same task in the foreground.
Environment: HERALD_URL, HERALD_SERVICE_KEY (see herald_producer.py).
"""

from __future__ import annotations

import sys
import time

from herald_producer import (
    HeraldError,
    notify_system_message,
    notify_transcode_complete,
    notify_transcode_failed,
    notify_transcode_progress,
)

try:  # pragma: no cover - only where Celery is installed
    from celery import Celery

    app = Celery("transcode_task")
    task = app.task
except ImportError:  # the same function, called directly
    def task(fn):
        fn.delay = fn
        return fn

FORMATS = ["1080p", "720p", "480p"]


@task
def transcode_video(video_id: int, title: str = "示例视频", fail: bool = False, step_seconds: float = 0.0) -> dict:
    notify_transcode_progress(video_id=video_id, status="processing", progress=0, message="开始转码")
    try:
        for index, fmt in enumerate(FORMATS):
            time.sleep(step_seconds)
            if fail and index == 1:
                raise RuntimeError(f"ffmpeg exited with code 1 while encoding {fmt}")
            progress = int((index + 1) * 100 / len(FORMATS))
            notify_transcode_progress(video_id=video_id, status="processing", progress=progress,
                                      message=f"已完成{fmt}转码")
    except Exception as error:  # the task reports its own failure, then re-raises
        notify_transcode_failed(video_id=video_id, title=title, error=str(error))
        raise
    answer = notify_transcode_complete(video_id=video_id, title=title, format_type="h264", file_size=1024000000)
    notify_system_message(message=f"《{title}》转码完成", level="success", target="admin")
    return answer


if __name__ == "__main__":
    video = int(sys.argv[1]) if len(sys.argv) > 1 else 123
    name = sys.argv[2] if len(sys.argv) > 2 else "示例视频"
    try:
        print(transcode_video(video, name))
    except HeraldError as refused:
        print(f"Herald refused: {refused}", file=sys.stderr)
        sys.exit(1)
