"""Run the development web server, a Celery worker and Celery beat together (``make run``).

    manage.py run_all [--host 127.0.0.1] [--port 8000]

Each runs as a child process with the same Python and settings, its output going to a file
under ``VAR_DIR/log/`` (``web.log``, ``worker.log``, ``beat.log``); with the console e-mail
backend (the local default) the children write each e-mail to a file under ``VAR_DIR/log/mail/``
instead. The screen stays short: once the web server answers, the command prints the addresses,
where the logs are and the demo accounts — last, so they do not scroll away.

Ctrl-C (or SIGTERM) is passed on to all of them; when one of them stops, the others are stopped
too, the end of its log is shown, and the command exits with a non-zero status unless it was
asked to stop.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from requests_app.management.commands.load_demo import demo_accounts, write_accounts

STOP_TIMEOUT_SECONDS = 10
READY_TIMEOUT_SECONDS = 60
CONSOLE_EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
FILE_EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
LOG_TAIL_LINES = 20


class Command(BaseCommand):
    help = (
        "同时运行开发服务器、Celery worker 和 Celery beat（日志写入 var/log/），"
        "服务就绪后打印地址和演示账号；Ctrl-C 全部停止。"
    )

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

    def log_dir(self) -> Path:
        return Path(settings.VAR_DIR) / "log"

    def child_env(self) -> dict[str, str]:
        """The children's environment: our settings, and e-mail to files instead of the console."""
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "config.settings.local"
            ),
            "PYTHONUNBUFFERED": "1",
        }
        if settings.EMAIL_BACKEND == CONSOLE_EMAIL_BACKEND:
            env["EMAIL_BACKEND"] = FILE_EMAIL_BACKEND
            env["EMAIL_FILE_PATH"] = str(self.log_dir() / "mail")
        return env

    def handle(self, *args, host, port, concurrency, **options):
        log_dir = self.log_dir()
        log_dir.mkdir(parents=True, exist_ok=True)
        env = self.child_env()
        children: dict[str, subprocess.Popen] = {}
        logs: dict[str, Path] = {}
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
                logs[name] = log_dir / f"{name}.log"
                with logs[name].open("w", encoding="utf-8") as log:
                    # Own process group: a terminal's Ctrl-C reaches only us, and we pass it on.
                    children[name] = subprocess.Popen(  # noqa: S603 - our own argv, no shell
                        command,
                        cwd=settings.BASE_DIR,
                        env=env,
                        process_group=0,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                self.stdout.write(f"started {name} (pid {children[name].pid}) → {logs[name]}")
            ended = self.wait_until_ready(host, port, children, lambda: stopping)
            if ended is None and not stopping:
                self.announce(host, port, logs, env)
            while not stopping and ended is None:
                time.sleep(0.5)
                ended = self.first_ended(children)
            if ended is not None:
                self.stderr.write(
                    f"{ended} exited with status {children[ended].returncode}; "
                    f"stopping the others. The end of {logs[ended]}:"
                )
                self.stderr.write(self.tail(logs[ended]))
        finally:
            self.stop(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if not stopping:
            sys.exit(1)

    @staticmethod
    def first_ended(children: dict[str, subprocess.Popen]) -> str | None:
        return next((name for name, child in children.items() if child.poll() is not None), None)

    def wait_until_ready(self, host, port, children, is_stopping) -> str | None:
        """Wait until the web server accepts connections; the name of a child that ended first."""
        probe_host = "127.0.0.1" if host in ("0.0.0.0", "") else host.strip("[]")  # noqa: S104
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not is_stopping() and time.monotonic() < deadline:
            ended = self.first_ended(children)
            if ended is not None:
                return ended
            try:
                with socket.create_connection((probe_host, port), timeout=0.5):
                    return None
            except OSError:
                time.sleep(0.2)
        if not is_stopping():
            self.stderr.write(
                f"the web server did not answer on {probe_host}:{port} "
                f"within {READY_TIMEOUT_SECONDS}s; see {self.log_dir() / 'web.log'}"
            )
        return None

    def announce(self, host: str, port: int, logs: dict[str, Path], env: dict[str, str]) -> None:
        """The last screen: addresses, where the logs are, the demo accounts, how to stop."""
        base = f"http://{host}:{port}"
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("服务已启动 / servers are up"))
        self.stdout.write(f"  管理后台 admin:   {base}/admin/")
        self.stdout.write(f"  接口文档 API:     {base}/api/docs/")
        self.stdout.write("日志 / logs:")
        for name, path in logs.items():
            self.stdout.write(f"  {name.ljust(6)}  {path}")
        if env.get("EMAIL_BACKEND") == FILE_EMAIL_BACKEND:
            self.stdout.write(f"  {'e-mail'.ljust(6)}  {env['EMAIL_FILE_PATH']}/  (每封一个文件)")
        accounts = demo_accounts()
        if accounts:
            self.stdout.write("")
            write_accounts(self.stdout, self.style, accounts)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Ctrl-C 全部停止 / stops all"))

    @staticmethod
    def tail(path: Path) -> str:
        try:
            with path.open(encoding="utf-8", errors="replace") as log:
                return "".join(deque(log, maxlen=LOG_TAIL_LINES)).rstrip("\n")
        except OSError as error:
            return f"({error})"

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
