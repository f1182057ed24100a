"""run_all (``make run``): the servers' output goes to files under VAR_DIR/log/, e-mail to
files instead of the console, and the addresses and demo accounts come last, once the web
server answers."""

import socket
import sys
from io import StringIO

import pytest
from django.core.management import call_command

from requests_app.choices import Role
from requests_app.management.commands import run_all
from tests.factories import UserFactory, caseworker

# A stand-in web server: prints a line, listens on the port, stops by itself a moment later
# (which makes run_all stop the others and exit non-zero, so the test ends).
WEB = """
import socket, sys, time
port = int(sys.argv[1])
print("web: a request log line", flush=True)
time.sleep(0.3)
server = socket.create_server(("127.0.0.1", port))
time.sleep(1.5)
print("web: shutting down", flush=True)
"""
NOISY = "import sys, time\nfor i in range(200): print(sys.argv[1], 'line', i)\ntime.sleep(30)\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def fake_servers(monkeypatch):
    def commands(self, *, host, port, concurrency):
        return {
            "web": [sys.executable, "-c", WEB, str(port)],
            "worker": [sys.executable, "-c", NOISY, "worker"],
            "beat": [sys.executable, "-c", NOISY, "beat"],
        }

    monkeypatch.setattr(run_all.Command, "commands", commands)


@pytest.mark.django_db
def test_logs_go_to_files_and_the_accounts_come_last(tree, settings, tmp_path, fake_servers):
    settings.VAR_DIR = tmp_path
    settings.EMAIL_BACKEND = run_all.CONSOLE_EMAIL_BACKEND  # the local default
    UserFactory(username="admin", is_superuser=True)
    caseworker(tree["office"], Role.HANDLER, username="office-handler")
    caseworker(tree["city"], Role.SUPERVISOR, username="city-supervisor")
    UserFactory(username="not-a-demo-account", is_superuser=True)
    out, err = StringIO(), StringIO()
    port = free_port()

    with pytest.raises(SystemExit) as exit_info:
        call_command("run_all", "--port", str(port), stdout=out, stderr=err)

    assert exit_info.value.code == 1  # the web server stopped by itself
    lines = out.getvalue().splitlines()
    log = tmp_path / "log"
    assert [line.split(" (pid")[0] for line in lines[:3]] == [
        "started web",
        "started worker",
        "started beat",
    ]
    assert lines[0].endswith(f"→ {log / 'web.log'}")
    # Nothing the servers print reaches the screen; it is all in their files.
    assert "line" not in out.getvalue().replace("role / agency", "")
    assert (log / "web.log").read_text().startswith("web: a request log line\n")
    assert (log / "worker.log").read_text().splitlines()[:2] == ["worker line 0", "worker line 1"]
    assert "beat line 199" in (log / "beat.log").read_text().splitlines()
    # The last screen: addresses, where the logs and e-mails are, then the accounts, then Ctrl-C.
    tail = lines[3:]
    assert tail[:9] == [
        "",
        "服务已启动 / servers are up",
        f"  管理后台 admin:   http://127.0.0.1:{port}/admin/",
        f"  接口文档 API:     http://127.0.0.1:{port}/api/docs/",
        "日志 / logs:",
        f"  web     {log / 'web.log'}",
        f"  worker  {log / 'worker.log'}",
        f"  beat    {log / 'beat.log'}",
        f"  e-mail  {log / 'mail'}/  (每封一个文件)",
    ]
    assert tail[9:] == [
        "",
        "演示账号（密码均为 gongkai-demo-2024）：",
        "  username         password            role / agency",
        "  admin            gongkai-demo-2024  超级用户 / 全部",
        "  office-handler   gongkai-demo-2024  承办人 / 安顺市人民政府办公室",
        "  city-supervisor  gongkai-demo-2024  主管部门（只读） / 安顺市人民政府",
        "",
        "Ctrl-C 全部停止 / stops all",
    ]
    # The one that ended is named, with the end of its log.
    assert err.getvalue().startswith("web exited with status 0; stopping the others.")
    assert err.getvalue().rstrip().endswith("web: shutting down")


def test_children_send_console_email_to_files(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.EMAIL_BACKEND = run_all.CONSOLE_EMAIL_BACKEND
    env = run_all.Command().child_env()
    assert env["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert env["EMAIL_FILE_PATH"] == str(tmp_path / "log" / "mail")


def test_a_chosen_email_backend_is_left_alone(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("EMAIL_BACKEND", raising=False)
    settings.VAR_DIR = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    env = run_all.Command().child_env()
    assert "EMAIL_BACKEND" not in env
    assert "EMAIL_FILE_PATH" not in env
