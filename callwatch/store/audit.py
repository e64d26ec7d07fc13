"""``audit.jsonl``: one JSON line per cancel/suspend attempt, in the state directory.

Opened before the request is sent (no action goes out unrecorded because the file
cannot be written), appended without following links, readable by its owner only.
It names the account by profile, brand and host: never the API key or the secret.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from callwatch.errors import ConfigError
from callwatch.store import paths

AUDIT_NAME = "audit.jsonl"
# As callwatch.log: no link is followed, a FIFO does not block us.
_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
          | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))


def audit_file() -> Path:
    return paths.state_dir() / AUDIT_NAME


class AuditLog:
    """The open audit file: :meth:`open` before acting, :meth:`append` the outcome."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd = fd
        self.path = path

    @classmethod
    def open(cls, path: Path | None = None) -> AuditLog:
        """Open for appending; ConfigError (nothing was sent) when it cannot be."""
        path = path or audit_file()
        try:
            paths.private_dir(path.parent)
            fd = os.open(path, _FLAGS, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP or path.is_symlink():
                raise ConfigError(f"not acting: the audit log {path} is a symbolic link; "
                                  "remove it (callwatch never follows a link there)") from None
            raise ConfigError(f"not acting: cannot write the audit log {path}: "
                              f"{exc.strerror or exc}") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ConfigError(f"not acting: the audit log {path} is not a regular file")
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, path)

    def append(self, record: Mapping[str, object]) -> str | None:
        """Write one line (ASCII JSON: no control character reaches a terminal that
        shows the file); a warning for the user when it failed."""
        line = json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n"
        try:
            os.write(self._fd, line.encode("ascii"))
        except OSError as exc:
            return f"warning: cannot write the audit log {self.path}: {exc.strerror}"
        return None

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
