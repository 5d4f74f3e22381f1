"""Private folders of one process (mode 700 in the temp directory) that a later process can tell
dead from alive, and a sweep that removes the dead ones (issue 26).

An operation removes its private folders (a kubeconfig with the cluster's bearer token, helm's
home, registry credentials) when it ends, however it ends, except when its process is
SIGKILLed (a manager's mgmtworker killed; Cloudify then runs the operation again): nothing of
the process runs then. So every folder holds a lock file that its process keeps an exclusive
`flock` on for the folder's life. The kernel drops a flock when its process dies, however it
dies, so a folder whose lock can be taken has no owner left, and `sweep` removes it. The first
`make` of a process sweeps once, so an operation run again after a kill removes what the killed
run left.

How old a folder must be before a sweep looks at it (FRESH_SECONDS): the lock alone says
whether the owner lives, except in the moment in `make` between creating the folder and taking
its lock. A folder without a lock file is left for the hour OLD_FORMAT_SECONDS (a folder made by
an older version of the plugins, which took no lock: its owner may still run); with a lock file
not yet locked, `make` checks after taking the lock that its lock file is still there, and makes
another folder if a sweep took it first, so the bound guards no correctness. It is short (5 s)
because the run after a kill starts seconds after it (a mgmtworker restart took 8 to 18 s).

A sweep follows no symlink, touches only directories of this user with one of the given
prefixes, looks at no more than MAX_LOOKED of them, and never raises: it returns what it removed.
Pure stdlib, no ctx.
"""
from __future__ import annotations

import fcntl
import logging
import os
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Sequence

FILES_PREFIX = "vnf-files-"  # cloudify_shared.local_files: private copies and inline files
HELM_PREFIX = "vnf-helm-"  # cloudify_kubernetes.helm_cli: helm's home, kubeconfig, charts
PREFIXES = (FILES_PREFIX, HELM_PREFIX)
LOCK_NAME = ".vnf-owner.lock"
FRESH_SECONDS = 5.0
OLD_FORMAT_SECONDS = 3600.0
MAX_LOOKED = 300  # folders of ours examined per sweep
MAX_READ = 20000  # temp directory entries read per sweep
ATTEMPTS = 3

log = logging.getLogger(__name__)
_held: dict[str, int] = {}  # folder -> the open, flocked lock file's descriptor
_guard = threading.Lock()
_swept = False


def make(prefix: str) -> str:
    """A new private folder (mode 700) in the temp directory, locked by this process until
    `remove`; the process's first call sweeps the dead folders of PREFIXES first."""
    global _swept
    with _guard:
        if not _swept:
            _swept = True
            sweep(PREFIXES)
    for _ in range(ATTEMPTS):
        path = tempfile.mkdtemp(prefix=prefix)
        fd = _lock_new(path)
        if fd is not None:
            with _guard:
                _held[path] = fd
            return path
    raise OSError(f"cannot make a private folder {prefix}*: each was swept while being made")


def _lock_new(path: str) -> int | None:
    """The flocked descriptor of `path`'s new lock file, or None if a sweep removed the folder
    before the lock was taken."""
    lock = os.path.join(path, LOCK_NAME)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        if os.lstat(lock).st_ino == os.fstat(fd).st_ino:
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def remove(path: str) -> None:
    """Remove a folder `make` made (and everything in it) and release its lock."""
    with _guard:
        fd = _held.pop(path, None)
    shutil.rmtree(path, ignore_errors=True)
    if fd is not None:
        os.close(fd)


def sweep(prefixes: Sequence[str], now: float | None = None) -> list[str]:
    """Remove the folders in the temp directory named with one of `prefixes`, owned by this
    user, whose owner process is gone (see the module docstring); the paths removed."""
    removed: list[str] = []
    try:
        base = tempfile.gettempdir()
        looked = 0
        with os.scandir(base) as entries:
            for read, entry in enumerate(entries):
                if read >= MAX_READ or looked >= MAX_LOOKED:
                    break
                if not entry.name.startswith(tuple(prefixes)):
                    continue
                looked += 1
                path = os.path.join(base, entry.name)
                if _remove_if_dead(path, time.time() if now is None else now):
                    removed.append(path)
    except OSError as error:
        log.debug("sweep of private folders stopped: %s", error)
    return removed


def _remove_if_dead(path: str, now: float) -> bool:
    """True if `path` was a dead private folder of ours and is removed."""
    try:
        dir_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:  # a symlink, not a directory, gone
        return False
    try:
        info = os.fstat(dir_fd)
        age = now - info.st_mtime
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or age < FRESH_SECONDS:
            return False
        try:
            fd = os.open(LOCK_NAME, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dir_fd)
        except FileNotFoundError:  # an older plugin's folder: it took no lock
            return age >= OLD_FORMAT_SECONDS and _rmtree(path)
        try:
            return _owner_gone(fd) and _rmtree(path)
        finally:
            os.close(fd)  # after the removal: no make() can lock it meanwhile
    except OSError as error:
        log.debug("private folder %s left: %s", path, error)
        return False
    finally:
        os.close(dir_fd)


def _owner_gone(fd: int) -> bool:
    """True if the lock file's flock can be taken: no process holds it any more."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _rmtree(path: str) -> bool:
    """Remove `path` (shutil.rmtree follows no symlink inside); True if it is gone."""
    shutil.rmtree(path, ignore_errors=True)
    if os.path.lexists(path):
        log.debug("private folder %s: not all of it could be removed", path)
        return False
    return True
