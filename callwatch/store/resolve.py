"""Credential and connection resolution: flags > env > profile (keyring, command, file).

This first version knows flags and env only; profiles and the keyring extend it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from callwatch.api.brands import DEFAULT_BRAND, Brand, normalize_base_url
from callwatch.api.client import Credentials
from callwatch.api.signing import Secret
from callwatch.errors import CredentialsError

DEFAULT_INTERVAL = 5.0


@dataclass(frozen=True)
class Connection:
    """Everything needed to talk to one account."""

    profile: str | None
    brand: Brand
    base_url: str
    credentials: Credentials
    secret_source: str  # "flag", "env", "keyring (<backend>)", "command", "file"
    interval: float = DEFAULT_INTERVAL


def resolve_connection(
    profile: str | None = None,
    brand: str | None = None,
    base_url: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> Connection:
    env = os.environ if env is None else env
    brand_value = brand or env.get("CALLWATCH_BRAND")
    resolved_brand = Brand.parse(brand_value) if brand_value else DEFAULT_BRAND
    url = base_url or env.get("CALLWATCH_BASE_URL") or resolved_brand.default_base_url
    key = env.get("CALLWATCH_API_KEY")
    secret = env.get("CALLWATCH_API_SECRET")
    if not key or not secret:
        raise CredentialsError(
            "no API credentials: set CALLWATCH_API_KEY and CALLWATCH_API_SECRET, "
            "or run `callwatch login`"
        )
    return Connection(
        profile=profile or env.get("CALLWATCH_PROFILE"),
        brand=resolved_brand,
        base_url=normalize_base_url(url),
        credentials=Credentials(key, Secret(secret)),
        secret_source="env",
    )
