"""Run the development web server, a Celery worker and Celery beat together (``make run``).

    manage.py run_all [--host 127.0.0.1] [--port 8000]

Each runs as a child process with the same Python and settings. Ctrl-C (or SIGTERM) is passed
on to all of them; when one of them stops, the others are stopped too, and the command exits
with a non-zero status unless it was asked to stop.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

STOP_TIMEOUT_SECONDS = 10


class Command(BaseCommand):
    help = "同时运行开发服务器、Celery worker 和 Celery beat；Ctrl-C 全部停止。"

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")

    def commands(self, *, host: str, port: int, concurrency: int) -> dict[str, list[str]]:
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        schedule = str(settings.VAR_DIR / "celerybeat-schedule")
        return {
            "web": [python, manage, "runserver", f"{host}:{port}", "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={concurrency}",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel=INFO",
                f"--schedule={schedule}",
            ],
        }

    def handle(self, *args, host, port, concurrency, **options):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "config.settings.local"
            ),
        }
        children: dict[str, subprocess.Popen] = {}
        stopping = False

        def request_stop(signum, frame):
            nonlocal stopping
            stopping = True

        previous = {
            sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for name, command in self.commands(
                host=host, port=port, concurrency=concurrency
            ).items():
                # Own process group: a terminal's Ctrl-C reaches only us, and we pass it on once.
                children[name] = subprocess.Popen(  # noqa: S603 - our own argv, no shell
                    command, cwd=settings.BASE_DIR, env=env, process_group=0
                )
                self.stdout.write(
                    f"started {name} (pid {children[name].pid}): {' '.join(command[1:])}"
                )
            self.stdout.write(
                self.style.SUCCESS(f"admin: http://{host}:{port}/admin/   Ctrl-C stops all")
            )
            ended = None
            while not stopping and ended is None:
                time.sleep(0.5)
                ended = next(
                    (name for name, child in children.items() if child.poll() is not None), None
                )
            if ended is not None:
                self.stderr.write(
                    f"{ended} exited with status {children[ended].returncode}; stopping the others"
                )
        finally:
            self.stop(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if not stopping:
            sys.exit(1)

    def stop(self, children: dict[str, subprocess.Popen]) -> None:
        """SIGINT to each running child (Celery's warm shutdown), then SIGKILL after a wait."""
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for name, child in children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in {STOP_TIMEOUT_SECONDS}s; killing it")
                child.kill()
                child.wait()
