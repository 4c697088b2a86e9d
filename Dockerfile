# The production-shaped image: gunicorn for web, the same image for the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 clinic \
    && apt-get update -q && apt-get install -y -q --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# Static files are collected and the translations compiled at build time; the dummy values only
# satisfy settings loading.
RUN DEBUG=false SECRET_KEY=build-only DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 sh -c 'python manage.py collectstatic --noinput \
    && python manage.py compilemessages --ignore=.venv --ignore=node_modules --ignore=.local' \
    && mkdir -p /app/.local && chown -R clinic:clinic /app/.local

USER clinic
EXPOSE 8000
CMD ["gunicorn", "clinic.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
