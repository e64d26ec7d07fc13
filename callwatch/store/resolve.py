"""Credential and connection resolution.

Order (first wins), documented in the README under "Credentials and profiles":

- brand / base URL: flag > env (``CALLWATCH_BRAND``, ``CALLWATCH_BASE_URL``) > profile >
  the brand's default host.
- profile: the ``profile`` argument > ``CALLWATCH_PROFILE`` > ``default_profile`` in
  config.toml. When the environment holds a complete key pair and no profile was named,
  no profile is read at all: the environment stands alone.
- API key: ``--api-key`` flag > ``CALLWATCH_API_KEY`` > the profile's ``api_key``.
- secret: ``CALLWATCH_API_SECRET`` > the profile's keyring entry > its ``secret_command``
  > its plaintext file (``login --insecure-storage``). A secret stored for a profile
  belongs to that profile's key: overriding only the key is refused.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from callwatch.api.brands import DEFAULT_BRAND, Brand, normalize_base_url
from callwatch.api.policy import check_transport
from callwatch.api.signing import Secret
from callwatch.api.types import Credentials, mask_key
from callwatch.errors import AUTH_ADVICE, ConfigError, CredentialsError
from callwatch.store import secrets
from callwatch.store.config import Config, Profile, check_profile_name, load_config

DEFAULT_INTERVAL = 5.0

_NO_CREDENTIALS = (
    "no API credentials: run `callwatch login` to store them in a profile, or set "
    "CALLWATCH_API_KEY and CALLWATCH_API_SECRET"
)


@dataclass(frozen=True)
class Connection:
    """Everything needed to talk to one account."""

    profile: str | None
    brand: Brand
    base_url: str
    credentials: Credentials
    # "flag", "env", "keyring (<backend>)", "command", "file (<path>)"
    secret_source: str
    interval: float = DEFAULT_INTERVAL
    # The profile allows cancel/suspend (``actions = true``); --allow-actions adds to it.
    actions: bool = False
    # Things the user should see on every start (plaintext secret file, ignored config...).
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def auth_advice(self) -> str:
        """What to check when the API rejects the key or secret: where they came from."""
        if self.secret_source == "env":
            return "check CALLWATCH_API_KEY / CALLWATCH_API_SECRET"
        if self.profile:
            return f"check the API key and secret (callwatch login --profile {self.profile})"
        return AUTH_ADVICE


@dataclass(frozen=True)
class _EnvSettings:
    api_key: str | None
    secret: Secret | None
    brand: str | None
    base_url: str | None
    profile: str | None

    @classmethod
    def read(cls, env: Mapping[str, str]) -> _EnvSettings:
        secret = Secret(env.get("CALLWATCH_API_SECRET") or "")
        return cls(
            api_key=env.get("CALLWATCH_API_KEY") or None,
            secret=secret if secret else None,
            brand=env.get("CALLWATCH_BRAND") or None,
            base_url=env.get("CALLWATCH_BASE_URL") or None,
            profile=env.get("CALLWATCH_PROFILE") or None,
        )


def _profile_secret(prof: Profile, warnings: list[str],
                    keyring_timeout: float | None) -> tuple[Secret, str]:
    problems: list[str] = []
    if prof.secret_store == "keyring":
        try:
            found, backend = secrets.keyring_lookup(prof.name, keyring_timeout)
        except CredentialsError as exc:
            problems.append(exc.message)
        else:
            if found is not None:
                return found, f"keyring ({backend})"
            problems.append(f"the keyring ({backend}) holds no secret for profile "
                            f"{prof.name!r}")
    if prof.secret_command:
        if problems:
            warnings.append(problems[0].split("\n", 1)[0] + "; using secret_command instead")
        return secrets.run_secret_command(prof.secret_command, prof.name), "command"
    from_file, file_warnings = secrets.read_secret_file(prof.name)
    if from_file is not None:
        warnings.extend(file_warnings)
        return from_file, f"file ({secrets.secret_file(prof.name)})"
    if problems:
        raise CredentialsError(
            problems[0] + f"\n(profile {prof.name!r}: run `callwatch login --profile "
            f"{prof.name}` to store the secret again)"
        )
    raise CredentialsError(
        f"profile {prof.name!r} has no stored secret; run `callwatch login --profile "
        f"{prof.name}`"
    )


def _pick_profile(cfg: Config, requested: str | None, env_complete: bool) -> Profile | None:
    if requested:
        check_profile_name(requested)
        prof = cfg.profile(requested)
        if prof is None and not env_complete:
            known = ", ".join(cfg.profile_names()) or "none yet"
            raise CredentialsError(
                f"no profile named {requested!r} in {cfg.path} (known: {known}); "
                f"run `callwatch login --profile {requested}`"
            )
        return prof
    if env_complete or not cfg.default_profile:
        return None
    return cfg.profile(cfg.default_profile)


def _brand_and_url(cfg: Config, prof: Profile | None, envs: _EnvSettings,
                   brand: str | None, base_url: str | None, allow_insecure_http: bool,
                   warnings: list[str]) -> tuple[Brand, str]:
    """Brand and base URL: flag > env > profile > the brand's default host; the
    transport is checked here, before any secret is read or any connection made."""
    brand_value = brand or envs.brand or (prof.brand if prof else None)
    try:
        resolved_brand = Brand.parse(brand_value) if brand_value else DEFAULT_BRAND
    except ConfigError as exc:
        if prof is not None and not (brand or envs.brand):
            raise ConfigError(f"profile {prof.name!r} in {cfg.path}: {exc.message}") from None
        raise
    url = normalize_base_url(base_url or envs.base_url or (prof.base_url if prof else None)
                             or resolved_brand.default_base_url)
    insecure = check_transport(url, allow_insecure_http
                               or bool(prof and prof.allow_insecure_http))
    if insecure:
        warnings.append(insecure)
    return resolved_brand, url


def _key_and_secret(prof: Profile | None, key: str | None, env_secret: Secret | None,
                    warnings: list[str], keyring_timeout: float | None
                    ) -> tuple[str, Secret, str]:
    """(API key, secret, where the secret came from): the environment's secret with the
    key of the flag, env or profile; else the profile's own key and stored secret."""
    if env_secret:
        key = key or (prof.api_key if prof else None)
        if not key:
            raise CredentialsError(
                "CALLWATCH_API_SECRET is set but there is no API key: set CALLWATCH_API_KEY "
                "(or use a profile that has api_key)"
            )
        return key, env_secret, "env"
    if prof is None:
        raise CredentialsError(_NO_CREDENTIALS)
    if key and prof.api_key and key != prof.api_key:
        raise CredentialsError(
            f"the API key given by flag or CALLWATCH_API_KEY ({mask_key(key)}) is not "
            f"profile {prof.name!r}'s ({mask_key(prof.api_key)}), and the profile's "
            "secret belongs to its own key: set CALLWATCH_API_SECRET as well, or drop "
            "the key override"
        )
    key = key or prof.api_key
    if not key:
        raise CredentialsError(
            f"profile {prof.name!r} has no api_key; run `callwatch login --profile "
            f"{prof.name}`"
        )
    secret, source = _profile_secret(prof, warnings, keyring_timeout)
    return key, secret, source


def resolve_connection(
    profile: str | None = None,
    brand: str | None = None,
    base_url: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    api_key: str | None = None,
    config: Config | None = None,
    keyring_timeout: float | None = None,
    allow_insecure_http: bool = False,
) -> Connection:
    """Find brand, URL and credentials for ``profile`` (or the default); see module doc.

    Blocking (keyring, secret_command): the TUI's profile switch calls
    :func:`resolve_connection_async`.
    """
    # Only our variables, with the secret already wrapped: no plain-str secret (and no
    # os.environ) sits in this frame's locals, which crash screens print.
    envs = _EnvSettings.read(os.environ if env is None else env)
    cfg = load_config() if config is None else config
    warnings = list(cfg.warnings)
    env_secret = envs.secret
    key = api_key or envs.api_key
    requested = profile or envs.profile
    prof = _pick_profile(cfg, requested, bool(key and env_secret))

    resolved_brand, url = _brand_and_url(cfg, prof, envs, brand, base_url,
                                         allow_insecure_http, warnings)
    key, secret, source = _key_and_secret(prof, key, env_secret, warnings, keyring_timeout)

    return Connection(
        profile=requested or (prof.name if prof else None),
        brand=resolved_brand,
        base_url=url,
        credentials=Credentials(key, secret),
        secret_source=source,
        interval=prof.interval if prof and prof.interval else DEFAULT_INTERVAL,
        actions=bool(prof and prof.actions),
        warnings=tuple(warnings),
    )


async def resolve_connection_async(
    profile: str | None = None,
    brand: str | None = None,
    base_url: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    api_key: str | None = None,
    config: Config | None = None,
    keyring_timeout: float | None = None,
    allow_insecure_http: bool = False,
) -> Connection:
    """:func:`resolve_connection` in a worker thread (keyring and commands block)."""
    return await asyncio.to_thread(
        lambda: resolve_connection(profile, brand, base_url, env=env, api_key=api_key,
                                   config=config, keyring_timeout=keyring_timeout,
                                   allow_insecure_http=allow_insecure_http))
