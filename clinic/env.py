"""Typed readers for environment variables that fail loudly on a bad value.

Settings read the environment only through these helpers, so a typo such as DEBUG=ture or a
DATABASE_URL without a database name stops the process at start-up with a message naming the
variable, instead of running with a silently wrong configuration.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_MISSING: Any = object()


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    return (os.environ if environ is None else environ).get(name)


def env_str(name: str, default: str = _MISSING, *, environ: Mapping[str, str] | None = None) -> str:
    value = _raw(name, environ)
    if value is None:
        if default is _MISSING:
            raise ImproperlyConfigured(f"The environment variable {name} must be set.")
        return default
    return value


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    normalised = value.strip().lower()
    if normalised in _TRUE:
        return True
    if normalised in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"The environment variable {name} must be true or false (1/0, yes/no, on/off); "
        f"got {value!r}."
    )


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"The environment variable {name} must be a whole number; got {value!r}."
        ) from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ImproperlyConfigured(
            f"The environment variable {name} must be between {minimum} and {maximum}; "
            f"got {number}."
        )
    return number


def env_list(
    name: str, default: list[str], *, environ: Mapping[str, str] | None = None
) -> list[str]:
    value = _raw(name, environ)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(
    name: str, default: str, choices: Collection[str], *, environ: Mapping[str, str] | None = None
) -> str:
    """One of a few known words (`STORAGE=s3`), compared without case or surrounding spaces."""
    value = _raw(name, environ)
    if value is None:
        return default
    normalised = value.strip().lower()
    if normalised not in choices:
        raise ImproperlyConfigured(
            f"The environment variable {name} must be one of {', '.join(sorted(choices))}; "
            f"got {value!r}."
        )
    return normalised


def env_url(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> str:
    """An http:// or https:// address with a host (an S3 endpoint), or the default when unset."""
    value = env_str(name, default, environ=environ).strip()
    if value == default:
        return value
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(
            f"The environment variable {name} must be an http:// or https:// address with a "
            f"host; got {value!r}."
        )
    return value


def env_networks(
    name: str, default: list[str], *, environ: Mapping[str, str] | None = None
) -> list[str]:
    """Comma-separated addresses or networks (`172.30.80.10`, `10.0.0.0/8`), each checked."""
    networks = env_list(name, default, environ=environ)
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"The environment variable {name} must list IP addresses or networks, "
                f"separated by commas; {network!r} is neither."
            ) from None
    return networks


def database_from_url(url: str, *, name: str = "DATABASE_URL") -> dict[str, Any]:
    """Django DATABASES entry from postgres://user:password@host:port/name?option=value.

    A `host` query parameter (a Unix socket directory, as libpq accepts) overrides the netloc.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(
            f"{name} must start with postgres:// or postgresql://; got scheme {parts.scheme!r}."
        )
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ImproperlyConfigured(f"{name} must name a database, e.g. postgres://host/clinic.")
    # Every other query option goes to libpq as it is: `sslmode`, `target_session_attrs`
    # (docs/operations.md#managed-services).
    options = dict(parse_qsl(parts.query))
    hosts = parts.netloc.rpartition("@")[2]
    if "," in hosts:
        # Several servers, tried in turn by libpq: postgres://u:p@db1:5432,db2:5432/clinic.
        names, ports = [], []
        for item in hosts.split(","):
            host_name, _, port_number = item.partition(":")
            if port_number and not port_number.isdigit():
                raise ImproperlyConfigured(f"{name} has an invalid port.")
            names.append(unquote(host_name))
            ports.append(port_number)
        host, port_text = ",".join(names), ",".join(ports) if any(ports) else ""
    else:
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(f"{name} has an invalid port.") from None
        host, port_text = unquote(parts.hostname or ""), str(port or "")
    host = options.pop("host", "") or host
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": port_text,
        "OPTIONS": options,
    }


def redis_url(name: str = "REDIS_URL", *, environ: Mapping[str, str] | None = None) -> str:
    value = env_str(name, environ=environ)
    if urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(
            f"The environment variable {name} must be a redis://, rediss:// or unix:// URL; "
            f"got {value!r}."
        )
    return value


def redis_tls_options(url: str, ca_certs: str = "") -> dict[str, Any]:
    """TLS options for a rediss:// URL (empty for redis:// and unix://): the server's
    certificate is always verified, against `ca_certs` when given, else the system's CAs.

    The same keys suit redis-py (the cache, /readyz) and Celery's `broker_use_ssl` and
    `redis_backend_use_ssl`, which refuse a rediss:// URL without them.
    """
    if urlsplit(url).scheme != "rediss":
        return {}
    options: dict[str, Any] = {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    if ca_certs:
        options["ssl_ca_certs"] = ca_certs
    return options
