"""``manage.py worker``: the background worker ``make run`` starts beside daphne.

It is django-tasks-db's ``db_worker`` plus what makes the queue durable: a heartbeat thread
that renews the leases of the job this process runs and, every few seconds, re-queues the
jobs of workers that died (``courseware.jobs.recovery``) — so a SIGKILLed worker's job is run
again by whichever worker is alive, or by this one when it comes back.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django_tasks_db.management.commands import db_worker

from courseware import collector
from courseware.jobs import recovery, wakeup, worker_identity
from courseware.jobs.tasks import lease_seconds

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the background worker (replays, grading, measurements) with job recovery."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=0.2,
                            help="seconds between polls of an empty queue (default 0.2)")
        parser.add_argument("--batch", action="store_true",
                            help="run what is queued, then exit")

    def handle(self, *args, interval: float, batch: bool, **options):
        collector.tune()  # replays and grading runs are engines too: courseware/collector.py
        me = worker_identity.current()
        stop = threading.Event()
        beat = float(getattr(settings, "JOBS_HEARTBEAT_SECONDS", 2))

        def heartbeat() -> None:
            while not stop.wait(beat):
                try:
                    recovery.renew(me, lease_seconds())
                    recovery.recover()
                except Exception:
                    log.exception("job heartbeat failed")
                finally:
                    close_old_connections()

        recovery.recover()  # jobs a dead worker left behind run first
        thread = threading.Thread(target=heartbeat, name="jobs-heartbeat", daemon=True)
        thread.start()
        listener = wakeup.Listener()
        # db_worker sleeps ``interval`` between polls of an empty queue; ours waits on the
        # wake-up socket instead, so a job queued meanwhile starts at once (docs/JOBS.md).
        db_worker.time = _WakeableTime(listener)
        try:
            call_command("db_worker", interval=interval, batch=batch, reload=False,
                         startup_delay=False, worker_id=me[:64],
                         verbosity=options.get("verbosity", 1))
        finally:
            stop.set()
            db_worker.time = time
            listener.close()


class _WakeableTime:
    """``time`` for db_worker's module, whose ``sleep`` returns early on a wake-up."""

    def __init__(self, listener: wakeup.Listener) -> None:
        self._listener = listener

    def sleep(self, seconds: float) -> None:
        self._listener.wait(seconds)

    def __getattr__(self, name: str):
        return getattr(time, name)
