#!/bin/sh
# One image, several roles: web | worker | beat | migrate | manage ARGS...
set -e
case "$1" in
  web)
    # Migrations are the migrate job's (run as the owner): the app role may not alter tables.
    exec gunicorn config.wsgi:application \
      --bind 0.0.0.0:8000 \
      --workers "${GUNICORN_WORKERS:-4}" \
      --timeout "${GUNICORN_TIMEOUT:-60}" \
      --access-logfile - \
      --logger-class config.gunicorn_logging.MaskingLogger ;;
  worker)
    exec celery -A config worker --loglevel="${LOG_LEVEL:-INFO}" --concurrency "${CELERY_CONCURRENCY:-2}" ;;
  beat)
    exec celery -A config beat --loglevel="${LOG_LEVEL:-INFO}" --schedule /app/var/celerybeat-schedule ;;
  migrate)
    python manage.py migrate --noinput
    exec python manage.py grant_app_role "${APP_DB_ROLE:-disclosure_app}" ;;
  manage)
    shift
    exec python manage.py "$@" ;;
  *)
    exec "$@" ;;
esac
