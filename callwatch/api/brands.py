"""The three brands of one backend: host and voice path prefix differ."""

from __future__ import annotations

import enum
from urllib.parse import urlsplit

from callwatch.errors import ConfigError


class Brand(enum.Enum):
    ITNIO = "itnio"
    ONBUKA = "onbuka"
    LAAFFIC = "laaffic"

    @property
    def default_base_url(self) -> str:
        return _HOSTS[self]

    @property
    def voice_prefix(self) -> str:
        return "/voice" if self is Brand.ITNIO else "/v3/voice"

    @property
    def balance_path(self) -> str:
        """The account balance: ITNIO keeps it under its SMS paths."""
        return "/sms/getBalance" if self is Brand.ITNIO else "/v3/getBalance"

    @property
    def id_key(self) -> str:
        """Key of the task id in list/detail records (newer Laaffic says ``taskId``)."""
        return "taskId" if self is Brand.LAAFFIC else "jobId"

    @classmethod
    def parse(cls, value: str) -> Brand:
        try:
            return cls(value.strip().lower())
        except ValueError:
            names = ", ".join(b.value for b in cls)
            raise ConfigError(f"unknown brand {value!r}; choose one of: {names}") from None


_HOSTS = {
    Brand.ITNIO: "https://api.itniotech.com",
    Brand.ONBUKA: "https://api.onbuka.com",
    Brand.LAAFFIC: "https://api.laaffic.com",
}

DEFAULT_BRAND = Brand.ITNIO


def normalize_base_url(url: str) -> str:
    """Accept ``scheme://host[:port]`` only; the path prefix always follows the brand."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"base URL must look like https://host[:port], got {url!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(
            f"base URL must be scheme://host[:port] without a path, got {url!r} "
            "(the path prefix follows the brand)"
        )
    return f"{parts.scheme}://{parts.netloc}"
