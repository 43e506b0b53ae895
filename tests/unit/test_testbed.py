"""The test bed's pure parts: which apt sources the images get, and when an image counts as stale."""

import os
import pathlib
import shutil
import stat
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TESTBED = ROOT / "tests" / "testbed"


def run(args, env=None, cwd=None):
    return subprocess.run(
        ["bash", str(cwd or TESTBED) + "/testbed.sh", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@pytest.fixture()
def fake_apt(tmp_path):
    """A PATH whose apt-get answers `indextargets` with the given lines."""

    def make(lines):
        bindir = tmp_path / "bin"
        bindir.mkdir()
        script = bindir / "apt-get"
        body = "\n".join(lines)
        script.write_text(f"#!/bin/sh\n[ \"$1\" = indextargets ] || exit 99\ncat <<'X'\n{body}\nX\n")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}")
        env.pop("TESTBED_MIRROR", None)
        return env

    return make


def test_apt_sources_follow_the_machines_mirrors(fake_apt):
    env = fake_apt(
        [
            "http://mirror.example/debian-security/|Debian-Security|bookworm-security",
            "http://mirror.example/debian/|Debian|bookworm-updates",
            "http://mirror.example/debian/|Debian|bookworm",
            "https://other.example/apt|Other|nodistro",
        ]
    )
    result = run(["apt-sources", "debian12"], env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "deb http://mirror.example/debian/ bookworm main",
        "deb http://mirror.example/debian/ bookworm-updates main",
        "deb http://mirror.example/debian-security/ bookworm-security main",
    ]


def test_apt_sources_without_security_repository(fake_apt):
    env = fake_apt(["http://m.example/debian/|Debian|bookworm"])
    result = run(["apt-sources"], env=env)
    assert result.returncode == 0, result.stderr
    # The image's release comes from the recipe (debian13 by default), not from the machine's release.
    assert result.stdout.splitlines() == [
        "deb http://m.example/debian/ trixie main",
        "deb http://m.example/debian/ trixie-updates main",
    ]


def test_unknown_release_is_a_clear_error(fake_apt):
    env = fake_apt(["http://m.example/debian/|Debian|bookworm"])
    result = run(["apt-sources", "debian99"], env=env)
    assert result.returncode != 0
    assert "unknown test-bed release 'debian99'" in result.stderr


def test_mirror_override(fake_apt):
    env = fake_apt([])
    env["TESTBED_MIRROR"] = "http://override.example/debian"
    result = run(["apt-sources"], env=env)
    assert result.stdout.splitlines()[0] == "deb http://override.example/debian trixie main"


def test_no_debian_mirror_is_a_clear_error(fake_apt):
    env = fake_apt(["https://other.example/apt|Other|nodistro"])
    result = run(["apt-sources"], env=env)
    assert result.returncode != 0
    assert "TESTBED_MIRROR" in result.stderr


def test_recipe_hash_depends_on_image_and_recipe_only(tmp_path):
    copy = tmp_path / "testbed"
    shutil.copytree(TESTBED, copy)

    def recipe(image):
        return run(["recipe-hash", image], cwd=copy).stdout.strip()

    amd64 = recipe("debian13:amd64")
    hashes = {amd64, recipe("debian13:arm64"), recipe("debian13:armhf"), recipe("debian12:amd64")}
    assert len(amd64) == 16 and len(hashes) == 4
    assert run(["recipe-hash", "debian13:amd64"]).stdout.strip() == amd64  # the same recipe anywhere

    (copy / "lab.yml").write_text("# not part of the recipe\n")
    assert recipe("debian13:amd64") == amd64

    # Adding an image to the list rebuilds none of the others.
    env_file = copy / "base-image.env"
    env_file.write_text(env_file.read_text().replace('BASE_IMAGES="', 'BASE_IMAGES="debian12:arm64 '))
    assert recipe("debian13:amd64") == amd64

    setup = copy / "base-image-setup.sh"
    setup.write_text(setup.read_text() + "\n# changed\n")
    assert recipe("debian13:amd64") != amd64


def test_recipe_hash_needs_a_known_release_and_an_arch():
    assert "RELEASE:ARCH" in run(["recipe-hash", "amd64"]).stderr
    assert "unknown test-bed release" in run(["recipe-hash", "debian7:amd64"]).stderr


def test_unknown_command_shows_usage():
    result = run(["bogus"])
    assert result.returncode == 2
    assert "usage:" in result.stderr
