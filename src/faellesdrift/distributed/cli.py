"""`faellesdrift worker`: a Celery worker for network and server shards (Redis broker)."""

from __future__ import annotations

import os
import socket
from enum import Enum
from typing import Annotated

import typer

from faellesdrift.distributed.app import BROKER_ENV, QUEUE, check_reachable, make_app, shown
from faellesdrift.distributed.tasks import register
from faellesdrift.errors import FaellesdriftError
from faellesdrift.ui import err_console, fail


class LogLevel(str, Enum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


def worker_cmd(
    name: Annotated[str | None, typer.Option(
        "--name", help="This worker's name (default: fd-<pid>@<host>), shown per shard.")] = None,
    concurrency: Annotated[int, typer.Option(
        "--concurrency", min=1, max=16,
        help="Shards this worker runs at once (each is one process; a shard works on up to "
             "--workers devices of the run at once).")] = 1,
    loglevel: Annotated[LogLevel, typer.Option(
        "--loglevel", case_sensitive=False, help="Celery's log level.")] = LogLevel.WARNING,
) -> None:
    """Run a worker: it takes shards (one tenant, or one site) of network and server runs.

    The broker is $FAELLESDRIFT_BROKER_URL (Redis, e.g. redis://10.0.0.5:6379/0;
    scripts/redis-up.sh starts a local one). The worker needs the community
    repository and the state directory at the paths the coordinator uses (a
    shared checkout and state), and reaches the devices and servers itself.
    Then run `network backup|compliance|remediate`, `servers plan|apply` or
    `verify` with `--executor celery` anywhere with the same broker. Stop with
    Ctrl-C (a warm shutdown: the shard in progress finishes); a worker killed
    mid-shard has its shard re-run by another worker. Exit code 2 when the
    broker URL is missing or wrong or the broker does not answer.

    Limits are read by the command that starts a run: FAELLESDRIFT_MAX_PER_SITE
    (sessions per site), FAELLESDRIFT_MAX_PER_PLATFORM (e.g. juniper_junos=4,cisco_ios=10),
    FAELLESDRIFT_BACKUP_DEADLINE (seconds a backup may take).
    """
    try:
        app = make_app()
        check_reachable(app.conf.broker_url)
    except FaellesdriftError as exc:
        raise fail(str(exc)) from None
    register(app)
    node = name or f"fd-{os.getpid()}"
    if "@" not in node:
        node = f"{node}@{socket.gethostname()}"
    err_console.print(f"worker {node}: queue {QUEUE} on {shown(app.conf.broker_url)} "
                      f"({BROKER_ENV})", highlight=False, markup=False)
    app.worker_main(["worker", "-Q", QUEUE, "--concurrency", str(concurrency), "--pool",
                     "prefork", "--loglevel", loglevel.value, "--without-gossip", "--without-mingle",
                     "-n", node])
