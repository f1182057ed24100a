"""The production topology without containers (issue 6 §2, issue 13 §2): ``scripts/topology.py``
starts the nginx proxy of docker/compose.yaml (Debian's nginx, the same docker/nginx files) in
front of gunicorn, two Celery workers and beat against PostgreSQL and Redis, and runs the
end-to-end scenario over HTTP through the proxy; it exits 0 only when every step checked out."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.skipif(
        not DATABASE_URL.startswith(("postgres://", "postgresql://")),
        reason="DATABASE_URL does not point at PostgreSQL: the topology needs a shared database",
    ),
    pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL is not set: the topology needs Redis"),
    pytest.mark.skipif(
        shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"),
        reason="nginx is not installed (apt-get install -y nginx): the topology's proxy",
    ),
]


def test_the_topology_runs_the_end_to_end_scenario():
    result = subprocess.run(
        [sys.executable, "scripts/topology.py", "--database", "ops_topology_test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for line in (
        "the retry replayed the first answer",
        "a worker sent the receipt e-mail",
        "extended, drafted, approved, replied",
        "a worker sent the reminder exactly once",
        "annual_report",
        "a forged X-Forwarded-For is not believed; clients counted apart",
        "the proxy answers its own 413, 414 and 431 in JSON under /api/",
        "straight to gunicorn it is a 411",
        "a search by phone leaves no trace",
        "every process stopped",
    ):
        assert line in output, output
