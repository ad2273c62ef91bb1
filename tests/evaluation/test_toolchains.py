"""What `make setup` says is missing for MultiPL-E, and installing it language by language."""

from __future__ import annotations

import pytest

from configs.errors import SuiteError
from evaluation.code import toolchains


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without Go and Java toolchains and without bubblewrap."""
    absent = {"go": "go", "java": "javac"}
    monkeypatch.setattr(toolchains, "missing_toolchain", lambda lang: absent.get(lang))
    real_which = toolchains.shutil.which
    monkeypatch.setattr(
        toolchains.shutil, "which", lambda cmd: None if cmd == "bwrap" else real_which(cmd)
    )


def test_setup_names_what_is_missing_and_the_install_command(fresh, capsys) -> None:
    assert toolchains.missing_groups() == {
        "go": ["golang-go"],
        "java": ["default-jdk-headless", "libjavatuples-java"],
        "box": ["bubblewrap"],
    }
    assert toolchains.main(["--missing"]) == 0
    out = capsys.readouterr().out
    assert "missing here: go, java, box" in out
    assert "make toolchains-install" in out
    assert "apt-get install golang-go default-jdk-headless libjavatuples-java bubblewrap" in out


def test_nothing_missing_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(toolchains, "missing_toolchain", lambda lang: None)
    monkeypatch.setattr(toolchains.shutil, "which", lambda cmd: f"/usr/bin/{cmd}")
    assert toolchains.missing_summary() == "MultiPL-E: all 10 toolchains and bubblewrap present"


def test_install_falls_back_to_one_language_at_a_time(
    fresh, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []

    def apt(argv: list[str]) -> str | None:
        calls.append(argv)  # java's package is unavailable: so is the whole set at once
        return "exit 100: E: Unable to locate package" if "javac" in argv else None

    monkeypatch.setattr(toolchains, "_apt", apt)
    monkeypatch.setattr(toolchains.os, "geteuid", lambda: 0)
    groups = {"go": ["golang-go"], "java": ["javac", "x"], "box": ["bubblewrap"]}
    with pytest.raises(SuiteError, match="could not install: {'java'"):
        toolchains.install(groups)
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends"]
    assert calls == [
        ["apt-get", "update", "-q"],
        [*install, "golang-go", "javac", "x", "bubblewrap"],
        [*install, "golang-go"],
        [*install, "javac", "x"],
        [*install, "bubblewrap"],
    ]


def test_install_needs_root(fresh, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(toolchains.os, "geteuid", lambda: 1000)
    with pytest.raises(SuiteError, match="needs root and apt-get"):
        toolchains.install(toolchains.missing_groups())
