"""Reading files a user names without being led astray: only regular files are read (a device such as /dev/zero or
/dev/urandom, a FIFO or a socket is refused before a byte is read, so nothing hangs or fills memory), every read is
bounded, a name the system cannot take (too long, a NUL) is a message; and private folders and files are made for
the owner only (0700 / 0600), without following a link planted in their place."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from sim.errors import InputError

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def os_problem(exc: OSError) -> str:
    """The sentence for an OSError on a path a user gave."""
    if exc.errno == errno.ENAMETOOLONG:
        return "the name is too long for this system (ENAMETOOLONG)"
    if exc.errno == errno.ELOOP:
        return "the path is a symbolic link that may not be followed here (or a loop of links)"
    return f"cannot be read: {exc.strerror or exc}"


def read_bounded(path: Path | str, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or InputError naming the file. The file is opened
    without blocking (a FIFO cannot hang the program) and its kind checked on the open descriptor."""
    name = str(path)
    if "\0" in name:
        raise InputError.one(name.replace("\0", "\\0"), "the name holds a NUL character")
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
                     | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise InputError.one(name, "no such file") from None
    except IsADirectoryError:
        raise InputError.one(name, "is a folder, not a file") from None
    except PermissionError:
        raise InputError.one(name, "cannot be read: permission denied") from None
    except OSError as exc:
        raise InputError.one(name, os_problem(exc)) from None
    except ValueError:
        raise InputError.one(name, "the name cannot be used as a file name") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InputError.one(name, "is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise InputError.one(name, f"is not a regular file (a {_kind(st.st_mode)}); only files are read")
        if st.st_size > limit:
            raise InputError.one(name, f"the {what} is {st.st_size} bytes; the limit is {limit} bytes", 1, 1)
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while being read
                raise InputError.one(name, f"the {what} is larger than the limit of {limit} bytes", 1, 1)
        return b"".join(chunks)
    except OSError as exc:
        raise InputError.one(name, os_problem(exc)) from None
    finally:
        os.close(fd)


def require_regular(path: Path | str) -> None:
    """Refuse (InputError) a path that is not a regular file (a device, a FIFO), before another reader opens it."""
    name = str(path)
    try:
        st = os.stat(name)
    except (OSError, ValueError):
        return  # the reader says what is wrong (no such file, a name too long)
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        raise InputError.one(name, f"is not a regular file (a {_kind(st.st_mode)}); only files are read")


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISFIFO(mode):
        return "pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def is_file(path: Path | str) -> bool:
    """Path.is_file() that answers False (not an OSError) for a name the system cannot take."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def exists(path: Path | str) -> bool:
    """Path.exists() that answers False for a name too long or holding a NUL."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False


def private_dir(path: Path | str) -> Path:
    """Make a folder (and its parents) readable by the owner only; an existing one is left as it is."""
    path = Path(path)
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    return path


def create_private(path: Path | str) -> None:
    """Create an empty file for the owner only (0600) if there is none; never through a symbolic link."""
    try:
        fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), PRIVATE_FILE)
    except FileExistsError:
        return
    os.close(fd)
