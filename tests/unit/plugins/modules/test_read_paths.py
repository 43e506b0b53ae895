"""read_paths, run as Ansible runs a module (conftest.run_module), on real files, links and directories."""

import os


def test_kinds_of_path(run_module, tmp_path):
    release = tmp_path / "releases" / "abc123"
    release.mkdir(parents=True)
    (tmp_path / "current").symlink_to(release)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "PREVIOUS_RELEASE").write_text("old111\n")
    paths = [str(tmp_path / n) for n in ("current", "dangling", "PREVIOUS_RELEASE", "DRAIN", "releases")]
    rc, result = run_module("read_paths", paths=paths, check_mode=True)
    assert rc == 0, result
    assert result["changed"] is False
    state = result["paths"]
    assert state[paths[0]] == dict(exists=True, isdir=False, isreg=False, islnk=True, lnk_target=str(release))
    assert state[paths[1]]["exists"] is True and state[paths[1]]["lnk_target"] == str(tmp_path / "nowhere")
    assert state[paths[2]] == dict(exists=True, isdir=False, isreg=True, islnk=False)
    assert state[paths[3]] == dict(exists=False, isdir=False, isreg=False, islnk=False)
    assert state[paths[4]]["isdir"] is True
    assert "content" not in state[paths[2]]


def test_read_returns_text_through_a_link_and_skips_what_is_missing(run_module, tmp_path):
    release = tmp_path / "r1"
    release.mkdir()
    (release / "requirements.txt").write_text("flask==3.1.0\nnaïve-pkg\n", encoding="utf-8")
    (tmp_path / "current").symlink_to(release)
    req = str(tmp_path / "current" / "requirements.txt")
    missing = str(tmp_path / "PREVIOUS_RELEASE")
    rc, result = run_module("read_paths", paths=[str(release)], read=[req, missing, str(release)])
    assert rc == 0, result
    assert result["paths"][req]["content"] == "flask==3.1.0\nnaïve-pkg\n"
    assert result["paths"][req]["isreg"] is True
    assert result["paths"][missing] == dict(exists=False, isdir=False, isreg=False, islnk=False)
    assert "content" not in result["paths"][str(release)]  # a directory has no text


def test_a_path_under_a_file_does_not_exist(run_module, tmp_path):
    (tmp_path / "file").write_text("x")
    path = str(tmp_path / "file" / "venv")
    rc, result = run_module("read_paths", paths=[path], read=[path])
    assert rc == 0, result
    assert result["paths"][path]["exists"] is False


def test_refuses_large_binary_and_relative(run_module, tmp_path):
    big = tmp_path / "big"
    big.write_text("x" * 11)
    binary = tmp_path / "bin"
    binary.write_bytes(b"\xff\xfe\x00")
    rc, result = run_module("read_paths", paths=[], read=[str(big), str(binary)], max_size=10)
    assert rc == 1
    assert "%s is larger than max_size (10 bytes)" % big in result["msg"]
    assert "%s is not UTF-8 text" % binary in result["msg"]

    rc, result = run_module("read_paths", paths=["relative/path"])
    assert rc == 1
    assert result["msg"] == "paths and read take absolute paths only; relative: relative/path"

    rc, result = run_module("read_paths", paths=[str(big)], max_size=-1)
    assert rc == 1 and "max_size must be 0 or more" in result["msg"]


def test_unreadable_file_is_an_error_naming_it(run_module, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("x")
    os.chmod(secret, 0)
    rc, result = run_module("read_paths", paths=[], read=[str(secret)], as_unprivileged=True)
    assert rc == 1
    assert result["msg"].startswith("cannot read %s: " % secret)
