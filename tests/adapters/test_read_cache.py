"""Files are read once per run (roots.read_bytes keeps whole files by path, inode, size and
mtime): a file that changes, or is replaced, is read again, and the checks that guard a read
still run on every read."""
from __future__ import annotations

import os

import pytest

from cfglint.adapters import roots
from cfglint.adapters.limits import read_config_text
from cfglint.errors import CfglintError


def test_a_rewritten_file_is_read_again(tmp_path) -> None:
    path = tmp_path / "a.py"
    path.write_text("x = 1\n")
    assert read_config_text(str(path)) == "x = 1\n"
    path.write_text("x = 2\n")                       # same size
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert read_config_text(str(path)) == "x = 2\n"


def test_a_replaced_file_with_the_same_size_and_time_is_read_again(tmp_path) -> None:
    path, other = tmp_path / "a.py", tmp_path / "b.py"
    path.write_text("x = 1\n")
    assert read_config_text(str(path)) == "x = 1\n"
    st = path.stat()
    other.write_text("x = 9\n")
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(other, path)                          # a new inode
    assert read_config_text(str(path)) == "x = 9\n"


def test_a_file_turned_into_a_symlink_out_of_the_project_is_refused(tmp_path, monkeypatch) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir(), outside.mkdir()
    (project / "pyproject.toml").write_text("")
    secret = outside / "secret.py"
    secret.write_text("token = 'x'\n")
    path = project / "a.py"
    path.write_text("token = 'x'\n")
    monkeypatch.chdir(project)
    assert read_config_text("a.py") == "token = 'x'\n"
    read_config_text(str(secret))                    # the outside file's bytes are known to the cache
    path.unlink()
    path.symlink_to(secret)
    with pytest.raises(CfglintError, match="symbolic link"):
        read_config_text("a.py")


def test_a_fifo_is_still_refused_without_blocking(tmp_path) -> None:
    path = tmp_path / "a.py"
    os.mkfifo(path)
    with pytest.raises(CfglintError, match="not a regular file"):
        roots.read_bytes(str(path), 100)


def test_large_files_are_not_kept(tmp_path) -> None:
    path = tmp_path / "big.py"
    path.write_bytes(b"#" * (roots._KEEP_AT_MOST + 1))
    roots.read_bytes(str(path), roots._KEEP_AT_MOST * 2)
    assert not any(key[0] == str(path) for key in roots._READ)
    small = tmp_path / "small.py"
    small.write_text("x = 1\n")
    roots.read_bytes(str(small), 100)
    assert any(key[0] == str(small) for key in roots._READ)
