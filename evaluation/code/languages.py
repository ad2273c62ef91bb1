"""The ten MultiPL-E languages the paper reports, and how to compile and run a program in each.

Stop sequences are the ones the MultiPL-E translators (``dataset_builder/humaneval_to_*.py``)
write into the dataset's ``stop_tokens``, which bigcode-evaluation-harness's ``multiple`` task
uses verbatim (it also appends the model-specific ``<file_sep>``, which is not a language fact).
Commands follow MultiPL-E's ``evaluation/src/eval_*.py``; where it compiles and runs in one
command (``go test``), the command is split so that the compile step gets its own timeout.

Command templates are argv tuples whose first word is a toolchain binary (resolved on PATH at
run time) or ``{exe}``; ``{src}``, ``{exe}``, ``{dir}`` and ``{heap}`` are filled in by the
sandbox (``{heap}`` is the runtime's own heap cap in MiB, half the memory limit).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Literal

from configs.errors import SuiteError

# Debian's libjavatuples-java: every MultiPL-E Java prompt imports org.javatuples.*.
JAVATUPLES_JAR = "/usr/share/java/javatuples.jar"


@dataclass(frozen=True)
class Language:
    """How one MultiPL-E language is generated (stop sequences), compiled and run.

    ``memory`` says how the memory limit is enforced: ``"as"`` caps the address space of the
    run step (native programs and plain interpreters); ``"data"`` caps the data segment and
    passes ``{heap}`` to the runtime, because JVM and V8 reserve far more address space than
    they use and die under an address-space cap.
    """

    name: str
    display: str
    extension: str
    source_file: str
    stop_sequences: tuple[str, ...]
    binaries: tuple[str, ...]
    run: tuple[str, ...]
    compile: tuple[str, ...] = ()
    memory: Literal["as", "data"] = "as"
    env: tuple[tuple[str, str], ...] = ()
    files: tuple[str, ...] = ()
    apt: tuple[str, ...] = ()


LANGUAGES: dict[str, Language] = {
    "cpp": Language(
        name="cpp",
        display="C++",
        extension="cpp",
        source_file="main.cpp",
        stop_sequences=("\n}",),
        binaries=("g++",),
        compile=("g++", "-std=c++17", "{src}", "-o", "{exe}"),
        run=("{exe}",),
        apt=("g++",),
    ),
    "go": Language(
        name="go",
        display="Go",
        extension="go",
        source_file="main_test.go",  # `go test` only accepts *_test.go files
        stop_sequences=("\nfunc", "struct", "\n// "),
        binaries=("go",),
        compile=("go", "test", "-c", "-o", "{exe}", "{src}"),
        run=("{exe}",),
        env=(
            ("GOCACHE", "{dir}/.gocache"),
            ("GOPATH", "{dir}/.gopath"),
            ("GOTOOLCHAIN", "local"),
            ("GOPROXY", "off"),
            ("CGO_ENABLED", "0"),  # no C toolchain runs on behalf of the sample
        ),
        apt=("golang-go",),
    ),
    "java": Language(
        name="java",
        display="Java",
        extension="java",
        source_file="Problem.java",  # MultiPL-E's class is always `Problem`
        stop_sequences=("\n    }\n",),
        binaries=("javac", "java"),
        compile=(
            "javac",
            "-J-Xmx1024m",
            "-J-XX:+UseSerialGC",
            "-J-XX:-UsePerfData",  # no hsperfdata files in the shared /tmp
            "-encoding",
            "UTF8",
            "-cp",
            JAVATUPLES_JAR,
            "-d",
            "{dir}",
            "{src}",
        ),
        run=(
            "java",
            "-ea",  # the tests are `assert` statements
            "-Xmx{heap}m",
            "-XX:+UseSerialGC",
            "-XX:-UsePerfData",
            "-cp",
            "{dir}:" + JAVATUPLES_JAR,
            "Problem",
        ),
        memory="data",
        files=(JAVATUPLES_JAR,),
        apt=("default-jdk-headless", "libjavatuples-java"),
    ),
    "js": Language(
        name="js",
        display="JavaScript",
        extension="js",
        source_file="main.js",
        stop_sequences=("\nfunction ", "\n/*", "\n//", "\nconsole.log"),
        binaries=("node",),
        run=("node", "--max-old-space-size={heap}", "{src}"),
        memory="data",
        apt=("nodejs",),
    ),
    "php": Language(
        name="php",
        display="PHP",
        extension="php",
        source_file="main.php",
        stop_sequences=("\nfunction", "\n?>", "\n//", "\n#"),
        binaries=("php",),
        run=("php", "-d", "memory_limit={heap}M", "-f", "{src}"),
        apt=("php-cli",),
    ),
    "py": Language(
        name="py",
        display="Python",
        extension="py",
        source_file="main.py",
        stop_sequences=("\ndef", "\n#", "\nif", "\nclass"),
        binaries=("python3",),
        run=("python3", "{src}"),
        apt=("python3",),
    ),
    "r": Language(
        name="r",
        display="R",
        extension="r",
        source_file="main.r",
        stop_sequences=("\n#", "\n```"),
        binaries=("Rscript",),
        run=("Rscript", "{src}"),
        apt=("r-base-core",),
    ),
    "rb": Language(
        name="rb",
        display="Ruby",
        extension="rb",
        source_file="main.rb",
        stop_sequences=("\nclass", "\ndef", "\n#", "\n\n"),
        binaries=("ruby",),
        run=("ruby", "{src}"),
        apt=("ruby",),
    ),
    "rs": Language(
        name="rs",
        display="Rust",
        extension="rs",
        source_file="main.rs",
        stop_sequences=("\n}",),
        binaries=("rustc",),
        compile=("rustc", "{src}", "-o", "{exe}"),
        run=("{exe}",),
        apt=("rustc",),
    ),
    "ts": Language(
        name="ts",
        display="TypeScript",
        extension="ts",
        source_file="main.ts",
        stop_sequences=("\nfunction ", "\n/*", "\n//", "\nclass"),
        binaries=("tsc", "node"),
        # Emits main.js beside main.ts. --skipLibCheck only skips re-checking TypeScript's own
        # lib .d.ts files, which cannot change a sample's verdict, and halves the compile time.
        compile=("tsc", "--target", "esnext", "--skipLibCheck", "{src}"),
        run=("node", "--max-old-space-size={heap}", "{dir}/main.js"),
        memory="data",
        apt=("node-typescript", "nodejs"),
    ),
}


def get_language(lang: str) -> Language:
    """The language called ``lang``; a typo is a user error that lists the known names."""
    if lang not in LANGUAGES:
        raise SuiteError(f"unknown MultiPL-E language {lang!r}; use one of: {', '.join(LANGUAGES)}")
    return LANGUAGES[lang]


def reachable_by_others(path: str) -> bool:
    """Whether an unprivileged user could reach ``path``: it and every parent dir are o+x."""
    real = os.path.realpath(path)
    parts = real.split(os.sep)
    for i in range(2, len(parts)):
        if not os.stat(os.sep.join(parts[:i])).st_mode & 0o001:
            return False
    return bool(os.stat(real).st_mode & 0o001)


def _candidates(binary: str) -> list[str]:
    """Every executable called ``binary`` on PATH, in PATH order, without duplicates."""
    found: list[str] = []
    for entry in os.environ.get("PATH", os.defpath).split(os.pathsep):
        hit = shutil.which(binary, path=entry)
        if hit and os.path.realpath(hit) not in {os.path.realpath(f) for f in found}:
            found.append(hit)
    return found


def _unproxy(path: str) -> str:
    """The real compiler behind a rustup proxy: the proxy needs the caller's HOME to work."""
    if os.path.basename(os.path.realpath(path)) != "rustup":
        return path
    sysroot = subprocess.run(
        [path, "--print", "sysroot"], capture_output=True, text=True, timeout=60, check=False
    ).stdout.strip()
    real = os.path.join(sysroot, "bin", os.path.basename(path))
    return real if sysroot and os.access(real, os.X_OK) else path


@functools.cache
def locate(binary: str) -> tuple[str, bool] | None:
    """Absolute path of ``binary`` and whether an unprivileged user can run it, or None.

    Prefers a copy that unprivileged users can run (e.g. /usr/bin/python3 over a pyenv shim
    under /root), so the sandbox can drop privileges for it.
    """
    found = [_unproxy(path) for path in _candidates(binary)]
    for path in found:
        if reachable_by_others(path):
            return path, True
    return (found[0], False) if found else None


def missing_toolchain(lang: str) -> str | None:
    """The first binary or support file ``lang`` needs that this machine lacks, else None."""
    spec = get_language(lang)
    for binary in spec.binaries:
        if locate(binary) is None:
            return binary
    for path in spec.files:
        if not os.path.isfile(path):
            return path
    return None


def available(lang: str) -> bool:
    """Whether every binary and support file ``lang`` needs is present."""
    return missing_toolchain(lang) is None
