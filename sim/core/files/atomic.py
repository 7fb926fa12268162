"""Files written whole or not at all: a temporary file in the same folder, synced, then renamed (or linked) into
place, the folder synced after. A full disk, an error or a signal never leaves a short file under the real name,
and the temporary file is removed on every failure that the process lives through (a SIGKILL can leave one, named
`.NAME.XXXXXXXX.tmp`, which may be deleted)."""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path


def write_atomic(path: Path | str, data: bytes, mode: int = 0o600, exclusive: bool = False,
                 durable: bool = True) -> None:
    """Write `data` to `path` in one step. `mode` is the new file's permissions (less the umask; the owner's only
    unless asked: records and journals hold names and results). With `exclusive` the file is only made if it does
    not exist yet (FileExistsError otherwise): of several processes making it at once, exactly one succeeds and the
    others see its whole content, never a part. Without `durable` nothing is synced (a cache)."""
    path = Path(path)
    folder = path.parent
    tmp, fd = _temporary(folder, path.name, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        if exclusive:
            _link(tmp, path)
        else:
            os.replace(tmp, path)
            tmp = None
        if durable:
            _sync_folder(folder)
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _temporary(folder: Path, name: str, mode: int) -> tuple[str, int]:
    for _ in range(100):
        tmp = str(folder / f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                                | getattr(os, "O_BINARY", 0), mode)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder))


def _link(tmp: str, path: Path) -> None:
    """The temporary file under the real name, unless that exists: a hard link cannot replace a file, so the first
    process to link wins. Where links are not supported the rename below is the best there is."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
        if path.exists():
            raise FileExistsError(errno.EEXIST, "exists", str(path)) from None
        os.replace(tmp, path)


def _sync_folder(folder: Path) -> None:
    """The rename itself made durable (POSIX); folders cannot be opened for this on Windows."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
