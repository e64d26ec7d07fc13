"""The keyring guard: no backend, a hung backend, recommended backends only."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from keyring.backend import KeyringBackend

from callwatch.api.signing import Secret
from callwatch.errors import CredentialsError
from callwatch.store import secrets
from callwatch.store.config import Config, Profile
from callwatch.store.resolve import resolve_connection_async
from tests.helpers.common import MemoryKeyring


class HungKeyring(KeyringBackend):
    """A Secret Service waiting for an unlock prompt that never comes."""

    priority = 5

    release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(60)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(60)

    def delete_password(self, service: str, username: str) -> None:
        self.release.wait(60)


@pytest.fixture
def hung(use_keyring: Callable[[KeyringBackend], None]) -> Iterator[HungKeyring]:
    HungKeyring.release.clear()
    backend = HungKeyring()  # type: ignore[no-untyped-call]
    use_keyring(backend)
    yield backend
    HungKeyring.release.set()  # let the abandoned worker threads finish


def test_no_backend_gives_one_clear_message() -> None:
    # conftest selects keyring.backends.fail.Keyring through PYTHON_KEYRING_BACKEND
    with pytest.raises(CredentialsError) as info:
        secrets.keyring_lookup("default")[0]
    msg = info.value.message
    assert "no usable keyring backend" in msg
    for option in ("dbus-run-session", "gnome-keyring-daemon --unlock", "CALLWATCH_API_KEY",
                   "CALLWATCH_API_SECRET", "secret_command", "--insecure-storage"):
        assert option in msg
    assert "unavailable" in secrets.describe_backend()


@pytest.mark.parametrize("call", [
    lambda: secrets.keyring_lookup("p", timeout=0.5)[0],
    lambda: secrets.keyring_set("p", Secret("x1234"), timeout=0.5),
    lambda: secrets.keyring_delete("p", timeout=0.5),
])
def test_hung_backend_times_out(hung: HungKeyring, call: Callable[[], object]) -> None:
    started = time.monotonic()
    with pytest.raises(CredentialsError) as info:
        call()
    assert time.monotonic() - started < 1.5
    assert "did not answer within 0.5 s" in info.value.message
    assert "locked" in info.value.message and "insecure-storage" in info.value.message


def test_default_timeout_is_about_five_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    assert secrets.DEFAULT_KEYRING_TIMEOUT == 5.0
    monkeypatch.setenv("CALLWATCH_KEYRING_TIMEOUT", "0.3")
    assert secrets.keyring_timeout() == 0.3
    monkeypatch.setenv("CALLWATCH_KEYRING_TIMEOUT", "nonsense")
    assert secrets.keyring_timeout() == 5.0


def test_env_timeout_applies(hung: HungKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLWATCH_KEYRING_TIMEOUT", "0.3")
    started = time.monotonic()
    with pytest.raises(CredentialsError):
        secrets.keyring_lookup("p")[0]
    assert time.monotonic() - started < 1.0


async def test_async_wrapper_keeps_the_loop_free(hung: HungKeyring) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    task = asyncio.create_task(ticker())
    # The TUI's path to a secret (profile switch): the keyring is read off the loop.
    cfg = Config().with_profile(Profile("p", api_key="key12345"))
    with pytest.raises(CredentialsError):
        await resolve_connection_async("p", env={}, config=cfg, keyring_timeout=0.5)
    task.cancel()
    assert ticks >= 10  # the event loop kept running while the keyring hung


def test_memory_backend_roundtrip(use_keyring: Callable[[KeyringBackend], None]) -> None:
    backend = MemoryKeyring()
    use_keyring(backend)
    name = secrets.keyring_set("work", Secret("s3cret-value"))
    assert name.endswith("helpers.common.MemoryKeyring")
    assert backend.store[("callwatch", "work")] == "s3cret-value"
    found, used = secrets.keyring_lookup("work")
    assert found == Secret("s3cret-value") and used == name
    assert secrets.keyring_delete("work") is True
    assert secrets.keyring_delete("work") is False
    assert secrets.keyring_lookup("work")[0] is None


def test_only_recommended_backends(monkeypatch: pytest.MonkeyPatch,
                                   use_keyring: Callable[[KeyringBackend], None]) -> None:
    import keyring.core

    seen: list[object] = []
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)

    def init_backend(limit: object = None) -> None:
        seen.append(limit)
        keyring.set_keyring(MemoryKeyring())

    monkeypatch.setattr(keyring.core, "init_backend", init_backend)
    secrets.backend_name()
    assert seen == [keyring.core.recommended]


def test_plaintext_backend_is_not_recommended() -> None:
    import keyring.core

    class Plain(MemoryKeyring):
        priority = 0.5  # like keyrings.alt's PlaintextKeyring

    assert not keyring.core.recommended(Plain())
    assert keyring.core.recommended(MemoryKeyring())


def test_keyring_error_is_explained(use_keyring: Callable[[KeyringBackend], None]) -> None:
    from keyring.errors import KeyringLocked

    class Locked(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise KeyringLocked("Failed to unlock the collection!")

    use_keyring(Locked())
    with pytest.raises(CredentialsError) as info:
        secrets.keyring_lookup("p")[0]
    assert "KeyringLocked" in info.value.message and "unlock" in info.value.message.lower()
