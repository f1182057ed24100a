#!/bin/sh
# The web container's health check: GET /healthz as the proxy would send it — to the first
# name in DJANGO_ALLOWED_HOSTS (a request for 127.0.0.1 would be refused as a foreign host) and
# marked as HTTPS (production settings redirect plain HTTP).
host=$(printf '%s' "${DJANGO_ALLOWED_HOSTS:-localhost}" | cut -d, -f1 | sed 's/^\.//; s/^\*$/localhost/')
exec curl -fsS -H "Host: ${host}" -H "X-Forwarded-Proto: https" "http://127.0.0.1:${PORT:-8000}/healthz"
