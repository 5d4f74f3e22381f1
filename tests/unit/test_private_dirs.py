"""Private folders a killed process leaves (cloudify_shared.private_dirs, issue 26): a sweep
removes a folder whose owner process is gone (SIGKILLed: no cleanup of its ran) and keeps one
whose owner lives, one just made, a symlink named like ours, and another prefix's folder. Every
test works in its own temp directory (tempfile.tempdir, TMPDIR for the child processes)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudify_shared import private_dirs
from cloudify_shared.private_dirs import FILES_PREFIX, HELM_PREFIX, LOCK_NAME, PREFIXES

ROOT = Path(__file__).resolve().parents[2]
OWNER = ("import sys, time\n"
         "from cloudify_shared import private_dirs\n"
         "print(private_dirs.make(sys.argv[1]), flush=True)\n"
         "time.sleep(120)\n")
LONG_AGO = time.time() - 600


@pytest.fixture
def tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(private_dirs, "_swept", True)  # no sweep by make() unless a test asks
    yield tmp_path
    for path in list(private_dirs._held):
        if path.startswith(str(tmp_path)):
            private_dirs.remove(path)


class Owner:
    """A child python that makes a private folder in `tmp` and sleeps holding its lock."""

    def __init__(self, tmp: Path, prefix: str = FILES_PREFIX) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", OWNER, prefix], cwd=ROOT,
                                     env={**os.environ, "TMPDIR": str(tmp)},
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.path = Path(self.proc.stdout.readline().strip())
        assert self.path.parent == tmp and self.path.name.startswith(prefix), self.path

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def backdate(self, when: float = LONG_AGO) -> None:
        os.utime(self.path, (when, when))


@pytest.fixture
def owner(tmp: Path) -> Iterator[Owner]:
    made = Owner(tmp)
    yield made
    if made.proc.poll() is None:
        made.kill()


def dead_folder(tmp: Path, name: str, when: float = LONG_AGO, lock: bool = True) -> Path:
    """A folder as a killed owner leaves it: a lock file nobody holds, a file, `when` old."""
    folder = tmp / name
    folder.mkdir(mode=0o700)
    (folder / "kubeconfig").write_text("token: secret\n")
    if lock:
        (folder / LOCK_NAME).touch()
    os.utime(folder, (when, when))
    return folder


def test_a_folder_whose_owner_lives_is_kept(owner: Owner) -> None:
    owner.backdate()
    assert (owner.path / LOCK_NAME).exists()
    assert private_dirs.sweep(PREFIXES) == []
    assert owner.path.is_dir()


def test_a_folder_whose_owner_was_sigkilled_is_removed(owner: Owner) -> None:
    (owner.path / "kubeconfig").write_text("token: secret\n")
    owner.kill()
    owner.backdate()
    assert private_dirs.sweep(PREFIXES) == [str(owner.path)]
    assert not owner.path.exists()


def test_a_folder_made_a_moment_ago_is_kept_even_if_its_owner_is_gone(owner: Owner) -> None:
    owner.kill()
    assert private_dirs.sweep(PREFIXES) == []  # mtime: now
    assert owner.path.is_dir()
    owner.backdate(time.time() - private_dirs.FRESH_SECONDS - 1)
    assert private_dirs.sweep(PREFIXES) == [str(owner.path)]


def test_a_symlink_named_like_ours_is_neither_followed_nor_removed(
        tmp: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    target = dead_folder(tmp_path_factory.mktemp("elsewhere"), "vnf-files-target")
    link = tmp / "vnf-files-link"
    link.symlink_to(target, target_is_directory=True)
    inner = dead_folder(tmp, "vnf-helm-inner")
    (inner / "escape").symlink_to(target, target_is_directory=True)
    os.utime(inner, (LONG_AGO, LONG_AGO))
    assert private_dirs.sweep(PREFIXES) == [str(inner)]
    assert link.is_symlink() and (target / "kubeconfig").is_file() and (target / LOCK_NAME).exists()


def test_another_prefix_and_a_plain_file_are_untouched(tmp: Path) -> None:
    other = dead_folder(tmp, "vnf-cluster-tests")
    (tmp / "vnf-files-plain").write_text("not a folder")
    ours = dead_folder(tmp, "vnf-files-abc")
    assert private_dirs.sweep(PREFIXES) == [str(ours)]
    assert other.is_dir() and (tmp / "vnf-files-plain").is_file()
    assert private_dirs.sweep([HELM_PREFIX]) == []


def test_an_older_plugins_folder_without_a_lock_file_goes_after_an_hour(tmp: Path) -> None:
    recent = dead_folder(tmp, "vnf-files-recent", time.time() - 1800, lock=False)
    old = dead_folder(tmp, "vnf-files-old", time.time() - 2 * 3600, lock=False)
    assert private_dirs.sweep(PREFIXES) == [str(old)]
    assert recent.is_dir()


def test_a_folder_of_another_user_is_untouched(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = dead_folder(tmp, "vnf-files-theirs")
    monkeypatch.setattr(os, "getuid", lambda: os.stat(folder).st_uid + 1)
    assert private_dirs.sweep(PREFIXES) == []
    assert folder.is_dir()


def test_a_sweep_looks_at_a_bounded_number_of_folders_and_never_raises(
        tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(5):
        dead_folder(tmp, f"vnf-files-{n}")
    monkeypatch.setattr(private_dirs, "MAX_LOOKED", 2)
    assert len(private_dirs.sweep(PREFIXES)) == 2
    assert len(list(tmp.iterdir())) == 3
    monkeypatch.setattr(tempfile, "tempdir", str(tmp / "missing"))
    assert private_dirs.sweep(PREFIXES) == []


def test_make_holds_the_lock_until_remove(tmp: Path) -> None:
    path = private_dirs.make(HELM_PREFIX)
    assert os.stat(path).st_mode & 0o777 == 0o700 and Path(path, LOCK_NAME).is_file()
    os.utime(path, (LONG_AGO, LONG_AGO))
    assert private_dirs.sweep(PREFIXES) == []  # a second open file of ours cannot take it
    private_dirs.remove(path)
    assert not os.path.exists(path) and path not in private_dirs._held


def test_the_first_make_of_a_process_sweeps_once(tmp: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(private_dirs, "_swept", False)
    first = dead_folder(tmp, "vnf-helm-killed")
    private_dirs.remove(private_dirs.make(FILES_PREFIX))
    assert not first.exists()
    second = dead_folder(tmp, "vnf-helm-killed-later")
    private_dirs.remove(private_dirs.make(FILES_PREFIX))
    assert second.is_dir()  # the next operation's process sweeps it


def test_make_takes_a_new_folder_when_a_sweep_removed_one_before_it_was_locked(
        tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_flock, swept = private_dirs.fcntl.flock, []

    def flock_after_a_sweep(fd: int, operation: int) -> None:
        if not swept:  # a sweep took the lock file's folder between its creation and flock
            folder = os.path.dirname(os.readlink(f"/proc/self/fd/{fd}"))
            swept.append(folder)
            private_dirs.remove(folder)
        real_flock(fd, operation)

    monkeypatch.setattr(private_dirs.fcntl, "flock", flock_after_a_sweep)
    path = private_dirs.make(FILES_PREFIX)
    assert swept and path != swept[0] and Path(path, LOCK_NAME).is_file()
    assert list(tmp.iterdir()) == [Path(path)]
