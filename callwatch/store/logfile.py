"""``callwatch.log``: appended to without following links, readable by its owner only."""

from __future__ import annotations

import errno
import os
import stat
import time
from pathlib import Path

from callwatch import __version__
from callwatch.store import paths
from callwatch.textsafe import sanitize_lines

LOG_NAME = "callwatch.log"
# No link is followed (another user, or a planted link, could point the log at any
# file we may write); a FIFO must not block us.
_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
          | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))


def log_file() -> Path:
    return paths.log_dir() / LOG_NAME


def append_log(text: str) -> str | None:
    """Append one stamped entry; return a warning for the user when it was refused."""
    path = log_file()
    try:
        paths.private_dir(path.parent)
        fd = os.open(path, _FLAGS, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            return (f"warning: not writing the log: {path} is a symbolic link; remove it "
                    "(callwatch never follows a link there)")
        return f"warning: cannot write the log {path}: {exc.strerror}"
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return f"warning: not writing the log: {path} is not a regular file"
        entry = f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} callwatch {__version__}\n"
        os.write(fd, (entry + sanitize_lines(text)).encode("utf-8", "replace"))
    except OSError as exc:
        return f"warning: cannot write the log {path}: {exc.strerror}"
    finally:
        os.close(fd)
    return None
