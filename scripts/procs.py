"""Processes of the production topology, started on this machine without containers.

Used by ``scripts/topology.py``, ``bench/api_load.py`` and the fault tests
(``tests/test_faults.py``, ``tests/test_topology.py``): gunicorn, Celery workers and beat with
the production settings, a database of their own on a PostgreSQL server, and private Redis and
PostgreSQL servers on other ports for the tests that stop them. Every process is started in a
session of its own and stopped by its process group, never by name.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_BIN = Path("/usr/lib/postgresql/15/bin")


# --- ports, HTTP ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


class Response:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body or b"null")

    def __repr__(self) -> str:
        return f"<{self.status} {self.body[:300]!r}>"


def http(
    method: str,
    url: str,
    data=None,
    *,
    auth: tuple[str, str] | None = None,
    headers: dict | None = None,
    timeout: float = 30,
) -> Response:
    """One HTTP request; any status is returned, never raised."""
    body = None
    all_headers = {"Accept": "application/json", **(headers or {})}
    if data is not None:
        body = json.dumps(data).encode()
        all_headers["Content-Type"] = "application/json"
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        all_headers["Authorization"] = f"Basic {token}"
    request = urllib.request.Request(url, data=body, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Response(answer.status, dict(answer.headers), answer.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers), error.read())


def wait_until(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll ``predicate`` until it returns a true value; return it, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            value = predicate()
            if value:
                return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# --- processes --------------------------------------------------------------------------------
class Service:
    """A child process in its own session, its output in ``log``."""

    def __init__(self, name: str, argv: list[str], *, env: dict, log_dir: Path, cwd=ROOT):
        self.name = name
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.log = Path(log_dir) / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Service:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as handle:
            self.process = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for_log(self, text: str, timeout: float = 60, start: int = 0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_text()[start:]:
                return
            if not self.alive():
                raise RuntimeError(f"{self.name} exited:\n{self.tail()}")
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} never logged {text!r}:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def signal_group(self, sig: int) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)

    def kill(self) -> None:
        self.signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM to the process group (warm shutdown), then SIGKILL after ``timeout``."""
        if not self.alive():
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        # Children that outlived their parent (a gunicorn or Celery pool process).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)

    def children(self) -> list[int]:
        """Pids of the direct children (a Celery worker's pool processes)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.pid:
                found.append(int(entry.name))
        return sorted(found)


# --- the application's environment and its processes ------------------------------------------
def app_env(
    *,
    database_url: str,
    redis_url: str = "",
    var_dir: Path,
    mail_dir: Path | None = None,
    settings_module: str = "config.settings.production",
    **extra: str,
) -> dict:
    """The environment of every process of one deployment: production settings, served over
    plain http on loopback (no TLS redirect), a fresh secret key, its own database, Redis
    database and var folder, e-mail written to files when ``mail_dir`` is given."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "PYTEST", "THROTTLE_"))
        and key not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "VAR_DIR"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": settings_module,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": database_url,
            "VAR_DIR": str(var_dir),
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "INFO",
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    if mail_dir is not None:
        Path(mail_dir).mkdir(parents=True, exist_ok=True)
        env["EMAIL_URL"] = f"filemail:///{Path(mail_dir).resolve()}"
    env.update(extra)
    return env


def manage(env: dict, *args: str, timeout: float = 300, check: bool = True, stdin: str = ""):
    """Run ``manage.py ARGS`` with ``env``; return the completed process."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def gunicorn(env: dict, *, port: int, log_dir: Path, workers: int = 3) -> Service:
    """gunicorn as docker/entrypoint.sh runs it (sync workers), on 127.0.0.1:``port``."""
    return Service(
        "gunicorn",
        [
            PYTHON,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "60",
            "--graceful-timeout",
            "10",
            "--backlog",
            "2048",
            "--no-control-socket",  # several deployments may run on one machine
            "--access-logfile",
            "-",
            "--logger-class",
            "config.gunicorn_logging.MaskingLogger",
        ],
        env=env,
        log_dir=log_dir,
    )


NGINX_CONF = """
# Generated by scripts/procs.py: the proxy of docker/compose.yaml, on loopback without TLS.
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 512; }}
http {{
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include disclosure/http.conf;
    access_log {log};
    upstream disclosure_app {{ server 127.0.0.1:{upstream}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        include disclosure/server.conf;
    }}
}}
"""


def nginx_proxy(*, port: int, upstream: int, tmp: Path, log_dir: Path) -> Service:
    """Debian's nginx with the proxy configuration of docker/compose.yaml (docker/nginx/:
    http.conf, server.conf, proxy_headers.conf — the same files), on 127.0.0.1:``port`` in
    front of gunicorn on ``upstream``; plain http (TLS is compose's tls.conf)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise RuntimeError("nginx is not installed (apt-get install -y nginx)")
    tmp.mkdir(parents=True, exist_ok=True)
    shared = tmp / "disclosure"
    if not shared.exists():
        shared.symlink_to(ROOT / "docker" / "nginx", target_is_directory=True)
    access = Path(log_dir) / "nginx-access.log"
    conf = tmp / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(tmp=tmp, port=port, upstream=upstream, log=f"{access} disclosure")
    )
    return Service(
        "nginx",
        [nginx, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")],
        env=dict(os.environ),
        log_dir=log_dir,
    )


def celery_worker(
    env: dict, *, name: str, log_dir: Path, concurrency: int = 2, queues: str = ""
) -> Service:
    argv = [
        PYTHON,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-n",
        f"{name}@%h",
        "--concurrency",
        str(concurrency),
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
    ]
    if queues:
        argv += ["-Q", queues]
    return Service(name, argv, env=env, log_dir=log_dir)


def celery_beat(env: dict, *, log_dir: Path, var_dir: Path) -> Service:
    return Service(
        "beat",
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--loglevel=INFO",
            "--schedule",
            str(Path(var_dir) / "celerybeat-schedule"),
        ],
        env=env,
        log_dir=log_dir,
    )


def wait_http_ok(base_url: str, *, timeout: float = 60, path: str = "/healthz") -> None:
    wait_until(
        lambda: http("GET", base_url + path, timeout=2).status == 200,
        timeout=timeout,
        what=f"{base_url}{path} to answer 200",
    )


# --- databases --------------------------------------------------------------------------------
def database_url_with_name(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def _admin_connect(url: str):
    import psycopg

    return psycopg.connect(database_url_with_name(url, "postgres"), autocommit=True)


def database_recreate(server_url: str, name: str) -> str:
    """Drop and create database ``name`` on the server of ``server_url``; return its URL."""
    with _admin_connect(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url_with_name(server_url, name)


def database_drop(server_url: str, name: str) -> None:
    with _admin_connect(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_url_with_db(url: str, db: int) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{db}"))


def redis_flush(url: str) -> None:
    """FLUSHDB on the one database number of ``url`` (never FLUSHALL)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


# --- private servers for the fault tests -------------------------------------------------------
class PrivateRedis:
    """A redis-server of our own on ``port`` with append-only persistence (as in compose)."""

    def __init__(self, port: int, directory: Path, log_dir: Path):
        self.port = port
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.service = Service(
            f"redis-{port}",
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--save",
                "",
            ],
            env=dict(os.environ),
            log_dir=log_dir,
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.service.start()
        wait_until(lambda: port_open(self.port), timeout=20, what=f"redis on {self.port}")

    def stop(self) -> None:
        self.service.stop(timeout=20)
        wait_until(lambda: not port_open(self.port), timeout=20, what="redis to stop")


class PrivatePostgres:
    """A PostgreSQL 15 cluster of our own in a temporary folder, on ``port``, trust auth.

    initdb refuses to run as root, so as root it runs as the ``postgres`` OS user."""

    def __init__(self, port: int, directory: Path | None = None):
        self.port = port
        self.directory = Path(directory or tempfile.mkdtemp(prefix="ops-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"

    @staticmethod
    def available() -> bool:
        return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()

    def _run(self, *argv: str, timeout: float = 120) -> None:
        command = list(argv)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}")

    def init(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c max_connections=200"
        )
        self._run(
            str(PG_BIN / "pg_ctl"),
            "start",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
        )

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast", "-w")

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"


@contextlib.contextmanager
def stopping(*services) -> Iterator[None]:
    """Stop the services (in reverse order) however the block ends."""
    try:
        yield
    finally:
        for service in reversed(services):
            with contextlib.suppress(Exception):
                service.stop()
