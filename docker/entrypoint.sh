#!/bin/sh
# One image, several roles: web | worker | beat | migrate | manage ARGS...
set -e
case "$1" in
  web)
    python manage.py migrate --noinput
    exec gunicorn config.wsgi:application \
      --bind 0.0.0.0:8000 \
      --workers "${GUNICORN_WORKERS:-4}" \
      --timeout "${GUNICORN_TIMEOUT:-60}" \
      --access-logfile - ;;
  worker)
    exec celery -A config worker --loglevel="${LOG_LEVEL:-INFO}" --concurrency "${CELERY_CONCURRENCY:-2}" ;;
  beat)
    exec celery -A config beat --loglevel="${LOG_LEVEL:-INFO}" --schedule /app/var/celerybeat-schedule ;;
  migrate)
    exec python manage.py migrate --noinput ;;
  manage)
    shift
    exec python manage.py "$@" ;;
  *)
    exec "$@" ;;
esac
