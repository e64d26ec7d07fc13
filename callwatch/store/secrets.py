"""Where secrets live: the OS keyring (timeout-guarded), a command, or an explicit file.

Every keyring call runs in a daemon thread and is abandoned after a timeout: a locked
Secret Service without a prompter blocks forever (pypa/twine#1276), and a daemon
thread cannot keep the process from exiting. Only recommended backends are used, so
``keyrings.alt``'s plaintext file never joins silently. Secrets only ever travel as
:class:`~callwatch.api.signing.Secret`.
"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from callwatch.api.signing import Secret
from callwatch.errors import CredentialsError
from callwatch.store import paths

SERVICE = "callwatch"
DEFAULT_KEYRING_TIMEOUT = 5.0
COMMAND_TIMEOUT = 10.0

T = TypeVar("T")

_init_lock = threading.Lock()

NO_BACKEND_HELP = (
    "Options:\n"
    "  - start a Secret Service for this session, e.g.\n"
    "      dbus-run-session -- sh -c 'printf PASSWORD | gnome-keyring-daemon --unlock "
    "--components=secrets; exec callwatch ...'\n"
    "  - set CALLWATCH_API_KEY and CALLWATCH_API_SECRET in the environment\n"
    "  - set secret_command in the profile in config.toml (e.g. \"pass show callwatch\")\n"
    "  - store it in a plaintext file: callwatch login --insecure-storage"
)


def keyring_timeout() -> float:
    value = os.environ.get("CALLWATCH_KEYRING_TIMEOUT")
    try:
        return float(value) if value else DEFAULT_KEYRING_TIMEOUT
    except ValueError:
        return DEFAULT_KEYRING_TIMEOUT


def _run_with_timeout(fn: Callable[[], T], timeout: float, what: str) -> T:
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # handed over to the caller's thread
            error.append(exc)

    worker = threading.Thread(target=target, name=f"callwatch-keyring-{what}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise CredentialsError(
            f"the keyring did not answer within {timeout:g} s ({what}); it is probably locked "
            "and waiting for an unlock prompt that cannot appear here (no GUI). Unlock it "
            "(e.g. `gnome-keyring-daemon --unlock`), or use CALLWATCH_API_KEY/"
            "CALLWATCH_API_SECRET, a secret_command, or `callwatch login --insecure-storage`."
        )
    if error:
        raise error[0]
    return result[0]


def _backend() -> Any:
    """The keyring backend, initialised once with recommended backends only."""
    import keyring.core
    from keyring.backends import fail

    with _init_lock:
        current = getattr(keyring.core, "_keyring_backend", None)
        if current is None:
            keyring.core.init_backend(limit=keyring.core.recommended)
            current = getattr(keyring.core, "_keyring_backend", None)
        return current if current is not None else fail.Keyring()  # type: ignore[no-untyped-call]


def _describe(backend: Any) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _is_fail(backend: Any) -> bool:
    from keyring.backends import fail

    return isinstance(backend, fail.Keyring)


def _no_backend_error(detail: str = "") -> CredentialsError:
    more = f" ({detail})" if detail else ""
    return CredentialsError(
        "no usable keyring backend: there is no Secret Service / OS keyring in this "
        f"session{more}.\n{NO_BACKEND_HELP}"
    )


def _keyring_call(action: str, fn: Callable[[Any], T], timeout: float | None) -> T:
    from keyring.errors import KeyringError, NoKeyringError

    def call() -> T:
        backend = _backend()
        if _is_fail(backend):
            raise NoKeyringError("fail backend")
        return fn(backend)

    try:
        return _run_with_timeout(call, keyring_timeout() if timeout is None else timeout, action)
    except NoKeyringError:
        raise _no_backend_error() from None
    except KeyringError as exc:
        raise CredentialsError(
            f"the keyring refused to {action}: {type(exc).__name__}: {exc}. "
            "Is it locked? Unlock it, or see `callwatch login --help` for other stores."
        ) from None


def backend_name(timeout: float | None = None) -> str:
    """The backend in use, e.g. ``keyring.backends.SecretService.Keyring``; raises if none."""
    return _keyring_call("detect the backend", _describe, timeout)


def describe_backend(timeout: float | None = None) -> str:
    """One line for `callwatch info`: never raises."""
    try:
        return backend_name(timeout)
    except CredentialsError as exc:
        return "unavailable: " + exc.message.split("\n", 1)[0]


def keyring_set(profile: str, secret: Secret, timeout: float | None = None) -> str:
    """Store the secret; return the backend's name."""
    def put(backend: Any) -> str:
        backend.set_password(SERVICE, profile, secret.reveal())
        return _describe(backend)

    return _keyring_call("store the secret", put, timeout)


def keyring_delete(profile: str, timeout: float | None = None) -> bool:
    """Remove the secret; False when there was none."""
    from keyring.errors import PasswordDeleteError

    def delete(backend: Any) -> bool:
        try:
            backend.delete_password(SERVICE, profile)
        except PasswordDeleteError:
            return False
        return True

    return _keyring_call("delete the secret", delete, timeout)


def keyring_lookup(profile: str, timeout: float | None = None) -> tuple[Secret | None, str]:
    """The stored secret (or None) and the name of the backend that was asked."""
    def get(backend: Any) -> tuple[Secret | None, str]:
        value = backend.get_password(SERVICE, profile)
        return (Secret(value) if value else None), _describe(backend)

    return _keyring_call("read the secret", get, timeout)


# --- secret_command ---------------------------------------------------------------------


def run_secret_command(command: str, profile: str, timeout: float = COMMAND_TIMEOUT) -> Secret:
    """Run ``command`` without a shell; its stripped stdout is the secret."""
    where = f"secret_command of profile {profile!r}"
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise CredentialsError(f"{where} cannot be parsed: {exc}") from None
    if not argv:
        raise CredentialsError(f"{where} is empty")
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, check=False)
    except FileNotFoundError:
        raise CredentialsError(f"{where}: command not found: {argv[0]}") from None
    except PermissionError:
        raise CredentialsError(f"{where}: not allowed to run {argv[0]}") from None
    except subprocess.TimeoutExpired:
        raise CredentialsError(f"{where} did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise CredentialsError(f"{where}: cannot run {argv[0]}: {exc.strerror}") from None
    secret = Secret(proc.stdout.decode("utf-8", "replace").strip())
    # Neither stream is ever shown: password helpers print tokens on stderr too, and
    # the plain bytes must not linger in a local (crash screens print locals).
    proc.stdout = proc.stderr = b""
    if proc.returncode != 0:
        raise CredentialsError(
            f"{where} exited with status {proc.returncode} (its output is not shown: it "
            "may contain the secret); run it yourself to see why")
    if not secret:
        raise CredentialsError(f"{where} printed nothing on stdout")
    return secret


# --- explicit plaintext file (login --insecure-storage) -----------------------------------


def secret_file(profile: str) -> Path:
    return paths.config_dir() / "secrets" / f"{profile}.secret"


def insecure_warning(path: Path) -> str:
    return (f"warning: the API secret is stored in plaintext in {path} "
            "(login --insecure-storage); anyone who can read it can use the account")


def write_secret_file(profile: str, secret: Secret) -> Path:
    from callwatch.store.atomic import atomic_write_text

    path = secret_file(profile)
    paths.private_dir(path.parent)
    os.chmod(path.parent, 0o700)
    atomic_write_text(path, secret.reveal() + "\n", mode=0o600)
    os.chmod(path, 0o600)
    return path


def unix_modes() -> bool:
    """Whether file modes mean anything here. Windows has no group/other bits (every
    file stats as 0o666): its per-user profile folder's ACL is what protects the file."""
    return os.name != "nt"


def read_secret_file(profile: str) -> tuple[Secret | None, list[str]]:
    """The stored secret (None if there is no file) and warnings to show."""
    path = secret_file(profile)
    try:
        st = path.stat()
    except FileNotFoundError:
        return None, []
    if not unix_modes():
        return _read_secret_text(path), [insecure_warning(path)]
    if st.st_mode & 0o077:
        raise CredentialsError(
            f"refusing to read {path}: its mode is {stat.filemode(st.st_mode)}, readable by "
            f"others; run `chmod 600 {path}` (and rotate the secret if others could read it)"
        )
    warnings = [insecure_warning(path)]
    dir_mode = path.parent.stat().st_mode
    if dir_mode & 0o077:
        warnings.append(f"warning: {path.parent} is accessible by others "
                        f"({stat.filemode(dir_mode)}); run `chmod 700 {path.parent}`")
    return _read_secret_text(path), warnings


def _read_secret_text(path: Path) -> Secret:
    try:
        secret = Secret(path.read_text(encoding="utf-8").strip())
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"cannot read {path}: {exc}") from None
    if not secret:
        raise CredentialsError(f"{path} is empty; run `callwatch login` again")
    return secret


def delete_secret_file(profile: str) -> bool:
    try:
        secret_file(profile).unlink()
    except FileNotFoundError:
        return False
    return True
