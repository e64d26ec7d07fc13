"""Request signing: ``Sign = md5(ApiKey + ApiSecret + Timestamp)``."""

from __future__ import annotations

import hashlib


class Secret:
    """An API secret that never shows itself in repr/str, tracebacks or crash screens.

    Textual's crash screen prints every local variable of every frame, so a
    secret must never live in a plain ``str`` local outside this class.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


def sign(api_key: str, secret: Secret, timestamp: int) -> str:
    """Return the lowercase hex MD5 signature for one request."""
    raw = f"{api_key}{secret.reveal()}{int(timestamp)}".encode()
    return hashlib.md5(raw, usedforsecurity=False).hexdigest()


def signed_headers(api_key: str, secret: Secret, timestamp: int) -> dict[str, str]:
    ts = str(int(timestamp))
    return {
        "Content-Type": "application/json;charset=UTF-8",
        "Api-Key": api_key,
        "Timestamp": ts,
        "Sign": sign(api_key, secret, int(ts)),
    }
