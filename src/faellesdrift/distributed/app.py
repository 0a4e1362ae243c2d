"""The Celery application: a Redis broker and result backend, tasks acknowledged late.

Settings that make a lost worker cost only its shard:

- ``task_acks_late`` + ``task_reject_on_worker_lost``: a shard's message is
  acknowledged when the shard has finished; a pool process that dies mid-shard
  puts the message back on the queue for another process or worker;
- ``worker_prefetch_multiplier=1``: a worker holds one shard at a time, so a
  killed worker takes no queued shards with it;
- Redis' ``visibility_timeout``: a message a whole worker took and never
  acknowledged (machine gone, ``kill -9``) is handed out again after this many
  seconds (``FAELLESDRIFT_BROKER_VISIBILITY``, default 900). It must be longer
  than the longest shard, or a slow shard is run twice (harmless for reads;
  remediation re-checks each device before it pushes). Workers look for such
  messages every ``min(10, timeout / 5)`` seconds.
"""

from __future__ import annotations

import os
import re

from celery import Celery

from faellesdrift.errors import ConfigError, FaellesdriftError

BROKER_ENV = "FAELLESDRIFT_BROKER_URL"
VISIBILITY_ENV = "FAELLESDRIFT_BROKER_VISIBILITY"
QUEUE = "faellesdrift"
SHARD_TASK = "faellesdrift.shard"


def broker_url(url: str | None = None) -> str:
    url = url or os.environ.get(BROKER_ENV, "")
    if not url:
        raise ConfigError(f"{BROKER_ENV} is not set: give the Redis URL (redis://HOST:PORT/DB); "
                          "a local one: scripts/redis-up.sh prints it")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"{BROKER_ENV}={shown(url)}: use a Redis URL (redis://HOST:PORT/DB)")
    return url


class BrokerUnreachable(FaellesdriftError):
    """The broker does not answer."""


def check_reachable(url: str, timeout: float = 3.0) -> None:
    """A quick PING, so a wrong URL or a stopped Redis is one clear line, not minutes of retries."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        why = " ".join(str(exc).split())[:160].rstrip(".") or type(exc).__name__
        raise BrokerUnreachable(f"the broker at {shown(url)} ({BROKER_ENV}) cannot be reached: "
                                f"{why}; start Redis (scripts/redis-up.sh prints a local URL) "
                                f"or fix {BROKER_ENV}") from None


def shown(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", url)


def visibility_timeout() -> int:
    raw = os.environ.get(VISIBILITY_ENV, "900")
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{VISIBILITY_ENV}={raw!r}: use whole seconds, e.g. 900") from None
    if value < 5:
        raise ConfigError(f"{VISIBILITY_ENV}={value}: use at least 5 seconds")
    return value


def make_app(url: str | None = None) -> Celery:
    url = broker_url(url)
    app = Celery("faellesdrift", broker=url, backend=url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_track_started=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        result_extended=True,
        result_expires=24 * 3600,
        task_default_queue=QUEUE,
        broker_transport_options={
            "visibility_timeout": visibility_timeout(),
            # look for abandoned messages every few seconds (kombu's default is ~100 s)
            "unacked_restore_interval": min(10, max(1, visibility_timeout() // 5)),
            "unacked_restore_throttle": 1},
        result_backend_transport_options={"visibility_timeout": visibility_timeout()},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    return app
