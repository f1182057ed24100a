"""The deployment files: no container engine runs here, so their structure is checked."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
ENTRYPOINT = (ROOT / "docker" / "entrypoint.sh").read_text()
DOCKERFILE = (ROOT / "docker" / "Dockerfile").read_text()


def entrypoint_roles() -> set[str]:
    return set(re.findall(r"^\s{2}([a-z]+)\)\s*$", ENTRYPOINT, flags=re.M))


def test_compose_has_the_topology():
    assert set(COMPOSE["services"]) == {
        "proxy",
        "certs",
        "migrate",
        "web",
        "worker",
        "beat",
        "postgres",
        "redis",
        *("minio", "minio-bucket"),  # the "s3" profile: a bucket for the records
    }
    assert COMPOSE["services"]["minio"]["profiles"] == ["s3"]
    assert set(COMPOSE["volumes"]) == {
        *("pgdata", "redisdata", "media", "certs"),
        *("records", "miniodata"),
    }
    assert COMPOSE["services"]["postgres"]["volumes"][0] == "pgdata:/var/lib/postgresql/data"
    assert "--appendonly" in COMPOSE["services"]["redis"]["command"]
    assert COMPOSE["services"]["beat"]["deploy"]["replicas"] == 1


def test_every_compose_command_is_an_entrypoint_role():
    roles = entrypoint_roles()
    assert roles == {"web", "worker", "beat", "migrate", "manage"}
    for name in ("migrate", "web", "worker", "beat"):
        command = COMPOSE["services"][name]["command"]
        assert command[0] in roles, name


def test_app_services_share_the_environment_and_wait_for_their_backends():
    for name in ("web", "worker", "beat"):
        service = COMPOSE["services"][name]
        env = service["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert env["DATABASE_URL"].startswith("postgres://disclosure_app:")
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert service["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }


def test_the_proxy_is_the_only_published_port_and_num_proxies_matches():
    published = {name for name, service in COMPOSE["services"].items() if service.get("ports")}
    assert published == {"proxy"}
    proxy = COMPOSE["services"]["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert proxy["ports"] == ["${HTTPS_PORT:-443}:443", "${HTTP_PORT:-80}:80"]
    assert COMPOSE["services"]["web"]["expose"] == ["8000"]
    for name in ("web", "worker", "beat"):
        assert COMPOSE["services"][name]["environment"]["NUM_PROXIES"] == "1"
    # The files the proxy mounts, and the includes that tie them together.
    assert "./nginx:/etc/nginx/disclosure:ro" in proxy["volumes"]
    assert "./nginx/compose.conf:/etc/nginx/conf.d/default.conf:ro" in proxy["volumes"]
    assert "certs:/etc/nginx/certs:ro" in proxy["volumes"]
    nginx = ROOT / "docker" / "nginx"
    compose_conf = (nginx / "compose.conf").read_text()
    for include in ("disclosure/http.conf", "disclosure/tls.conf", "disclosure/server.conf"):
        assert f"include {include};" in compose_conf
        assert (nginx / include.split("/")[1]).exists()
    assert "server web:8000;" in compose_conf
    assert "listen 443 ssl" in compose_conf and "return 301 https://" in compose_conf
    server = (nginx / "server.conf").read_text()
    assert "client_max_body_size 1m;" in server
    for status in ("413", "414", "431"):
        assert f"/_proxy_errors/{status}.json" in server
    headers = (nginx / "proxy_headers.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in headers
    tls = (nginx / "tls.conf").read_text()
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in tls
    assert "/etc/nginx/certs/fullchain.pem" in tls
    certs = COMPOSE["services"]["certs"]
    assert certs["command"] == ["python", "docker/nginx/self_signed_cert.py", "/certs"]
    assert certs["volumes"] == ["certs:/certs"]
    assert proxy["depends_on"]["certs"] == {"condition": "service_completed_successfully"}


def test_the_self_signed_certificate_is_made_once(tmp_path):
    script = ROOT / "docker" / "nginx" / "self_signed_cert.py"
    env = {**os.environ, "DJANGO_ALLOWED_HOSTS": "gongkai.example.gov.cn,127.0.0.1"}
    first = subprocess.run([sys.executable, script, tmp_path], env=env, capture_output=True)
    assert first.returncode == 0, first.stderr
    pem = (tmp_path / "fullchain.pem").read_bytes()
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(pem)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["gongkai.example.gov.cn"]
    again = subprocess.run([sys.executable, script, tmp_path], env=env, capture_output=True)
    assert again.returncode == 0 and b"kept" in again.stdout
    assert (tmp_path / "fullchain.pem").read_bytes() == pem


def test_the_owner_migrates_and_the_app_role_runs_the_app():
    """Two database roles: the migrate job connects as the owner, runs the migrations and then
    grants the app role its rights; the app processes connect as the app role and never
    migrate."""
    migrate = COMPOSE["services"]["migrate"]
    assert migrate["environment"]["DATABASE_URL"].startswith("postgres://disclosure_owner:")
    assert migrate["environment"]["APP_DB_ROLE"] == "disclosure_app"
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    job = re.search(r"^  migrate\)\n(.*?);;", ENTRYPOINT, flags=re.M | re.S).group(1)
    assert "manage.py migrate --noinput" in job
    assert 'manage.py grant_app_role "${APP_DB_ROLE:-disclosure_app}"' in job
    web = re.search(r"^  web\)\n(.*?);;", ENTRYPOINT, flags=re.M | re.S).group(1)
    assert "migrate" not in web.replace("migrate job", "")
    postgres = COMPOSE["services"]["postgres"]
    assert (
        "./postgres/10-roles.sh:/docker-entrypoint-initdb.d/10-roles.sh:ro" in postgres["volumes"]
    )
    assert postgres["environment"]["POSTGRES_USER"] == "postgres"
    script = (ROOT / "docker" / "postgres" / "10-roles.sh").read_text()
    for line in (
        'CREATE ROLE :"owner" LOGIN',
        'CREATE ROLE :"app" LOGIN',
        'ALTER DATABASE :"db" OWNER TO :"owner";',
        'GRANT CONNECT ON DATABASE :"db" TO :"app";',
    ):
        assert line in script
    assert "-v owner=disclosure_owner -v app=disclosure_app" in script
    assert (
        subprocess.run(["sh", "-n", str(ROOT / "docker" / "postgres" / "10-roles.sh")]).returncode
        == 0
    )


def test_entrypoint_commands_exist_in_the_image():
    # The programs the entrypoint runs are installed by the project's own dependencies.
    programs = {"gunicorn", "celery", "python"}
    for program in programs:
        assert re.search(rf"exec {program}\b", ENTRYPOINT), program
    assert "gunicorn config.wsgi:application" in ENTRYPOINT
    assert "celery -A config worker" in ENTRYPOINT and "celery -A config beat" in ENTRYPOINT
    from importlib.metadata import distribution

    for dist in ("gunicorn", "celery"):
        assert distribution(dist).version
    import config.wsgi  # noqa: F401  the module gunicorn serves


def test_image_runs_as_non_root_with_a_health_check():
    assert re.search(r"^USER app$", DOCKERFILE, flags=re.M)
    assert re.search(r"^HEALTHCHECK .*\n\s+CMD healthcheck ", DOCKERFILE, flags=re.M)
    assert "COPY docker/healthcheck.sh /usr/local/bin/healthcheck" in DOCKERFILE
    assert 'ENTRYPOINT ["entrypoint"]' in DOCKERFILE


@pytest.mark.skipif(not shutil.which("curl"), reason="the health check calls curl")
def test_the_health_check_passes_against_the_production_settings(tmp_path):
    """The check asks /healthz as the proxy would: for an allowed host, over HTTPS. (A plain
    request for 127.0.0.1 is refused by the production settings: 400, or a redirect.)"""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = production_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'health.sqlite3'}",
        DJANGO_ALLOWED_HOSTS=".example.gov.cn,localhost",
        PORT=str(port),
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env,
                   check=True, timeout=300)  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        check = ["sh", str(ROOT / "docker" / "healthcheck.sh")]
        for _ in range(120):
            result = subprocess.run(check, env=env, capture_output=True, text=True, timeout=10)
            if result.returncode != 7:  # 7: nothing listens yet
                break
            time.sleep(0.5)
        assert result.returncode == 0, result.stderr
        assert result.stdout == '{"status": "ok"}'
        plain = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
             f"http://127.0.0.1:{port}/healthz"], capture_output=True, text=True, timeout=10,
        )  # fmt: skip
        assert plain.stdout == "400"  # why the check names a host
    finally:
        server.terminate()
        server.wait(timeout=10)


def production_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="x" * 20 + "-a-long-random-production-secret-key-value",
        DJANGO_ALLOWED_HOSTS="gongkai.example.gov.cn",
    )
    env.update(extra)
    return env


def run_manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secrets():
    env = production_env()
    env.pop("DJANGO_SECRET_KEY")
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
    env = production_env()
    env.pop("DJANGO_ALLOWED_HOSTS")
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must list" in result.stderr


def test_secret_key_fallbacks_keep_sessions_through_a_rotation():
    script = "from django.conf import settings; print(settings.SECRET_KEY_FALLBACKS)"
    env = production_env(DJANGO_SECRET_KEY_FALLBACKS="old-key-" + "y" * 40)
    result = run_manage("shell", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['old-key-" + "y" * 40 + "']"
