"""Transport policy: https everywhere, plain http only to this machine.

Decided from the URL alone, before any connection. The vendor's signature covers
neither method, path nor body, so one request read off the wire can be replayed
against any endpoint for as long as its timestamp is accepted (about five minutes):
plain http to another host hands the account to anyone on the path.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from callwatch.errors import ConfigError

OPT_IN_FLAG = "--allow-insecure-http"
OPT_IN_KEY = "allow_insecure_http"


class InsecureTransportError(ConfigError):
    """Plain http to a host that is not loopback, without the explicit opt-in."""

    kind = "insecure_transport"


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 and the name ``localhost`` (no lookup: a resolver could lie)."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def insecure_host(base_url: str) -> str | None:
    """The host when ``base_url`` is plain http to anything but loopback, else None."""
    parts = urlsplit(base_url)
    if parts.scheme.lower() != "http":
        return None
    host = parts.hostname or ""
    return None if is_loopback_host(host) else (host or base_url)


def check_transport(base_url: str, allow_insecure_http: bool = False) -> str | None:
    """Raise for plain http to a remote host; with the opt-in, return the warning to show."""
    host = insecure_host(base_url)
    if host is None:
        return None
    if not allow_insecure_http:
        raise InsecureTransportError(
            f"refusing plain http:// to {host}: the API key and request signatures would "
            "travel unencrypted, and a captured request can be replayed for minutes; use "
            f"https://, or pass {OPT_IN_FLAG} (profile key {OPT_IN_KEY} = true) to accept "
            "the risk")
    return (f"warning: plain http:// to {host} ({OPT_IN_FLAG}): the API key and request "
            "signatures travel unencrypted and can be captured and replayed")
