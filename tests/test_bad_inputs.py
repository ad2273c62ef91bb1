"""The bad-input catalogue: every input a user can get wrong, through the real CLI.

Each case prepares a RUNS (sharing the session's micro world through symlinks, with copies
of whatever it spoils), runs one CLI in-process as ``python -m <module>`` would, and asserts
the three properties the README promises: exit code non-zero, exactly one line on stderr
naming the problem and its fix, and every file that was there before unchanged. The README's
table lists the same cases (``CASES`` order).
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import mlflow
import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer

from configs import cli, tracking
from configs.layout import Layout
from evaluation.tasks.tiny import TASKS_VERSION
from reports.tables import column_metrics, row_models
from tests.privileges import unprivileged

ROOT = Path(__file__).resolve().parents[1]
MICRO = ROOT / "configs/micro.yaml"
PAPER = ROOT / "configs/paper/fusellm_7b.yaml"
TOOLCHAINS = "evaluation.code.toolchains"
NOISE = re.compile(r"\d+%\||^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d INFO mlflow")


@dataclass
class Run:
    """What a case runs: a CLI module (its ``main``), its arguments, the RUNS whose files must
    survive, its exit code, and what to run it under: a context (a lock held, another user),
    attributes patched (``(module name, attribute, value)``), environment variables."""

    module: str
    args: list[str]
    runs: Path
    context: Callable[[], AbstractContextManager] = nullcontext
    code: int = 2
    patches: list[tuple[str, str, object]] = field(default_factory=list)
    environ: dict[str, str] = field(default_factory=dict)


Setup = Callable[["Env"], Run]


@dataclass(frozen=True)
class Case:
    setup: Setup
    line: str  # the one line on stderr contains this


@dataclass
class Env:
    """The session's fused micro world and this case's scratch dir."""

    fused: Layout
    tmp: Path

    def runs(self, copies: tuple[str, ...] = (), links: tuple[str, ...] = ("world",)) -> Path:
        """A RUNS whose ``micro/`` links ``links`` of the fused world and copies ``copies``
        (paths under ``micro/``; their parents become real dirs, their siblings links)."""
        runs = self.tmp / "runs"
        root = runs / "micro"
        root.mkdir(parents=True)
        for rel in links:
            _mirror(self.fused.root, root, rel, [c for c in copies if c.startswith(rel + "/")])
        for rel in copies:
            if not any(rel.startswith(link + "/") for link in links):
                _copy(self.fused.root / rel, root / rel)
        return runs

    def args(self, runs: Path, *extra: str, config: Path = MICRO) -> list[str]:
        return ["--config", str(config), "--runs", str(runs), *extra]


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, symlinks=True)
    else:
        shutil.copy2(src, dst)


def _mirror(src_root: Path, dst_root: Path, rel: str, copies: list[str]) -> None:
    """``dst_root/rel`` as a link to ``src_root/rel``, or, when a copy lies below it, a real
    dir of links with the copies made real."""
    src, dst = src_root / rel, dst_root / rel
    if rel in copies:
        _copy(src, dst)
        return
    if not copies:
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.symlink_to(src.resolve())
        return
    dst.mkdir(parents=True)
    for child in src.iterdir():
        below = f"{rel}/{child.name}"
        _mirror(
            src_root,
            dst_root,
            below,
            [c for c in copies if c == below or c.startswith(below + "/")],
        )


CASES: dict[str, Case] = {}


def case(name: str, line: str) -> Callable[[Setup], Setup]:
    def register(setup: Setup) -> Setup:
        CASES[name] = Case(setup, line)
        return setup

    return register


# -- configs ---------------------------------------------------------------------------------


def _plan(*extra: str, config: Path = MICRO) -> Setup:
    def setup(env: Env) -> Run:
        runs = env.tmp / "runs"
        return Run("configs.plan", env.args(runs, *extra, config=config), runs)

    return setup


case("config: unknown key", "unknown key 'fusion.topkk': did you mean 'topk'")(
    _plan("--set", "fusion.topkk=5")
)
case("config: value of the wrong type", "fusion.topk")(_plan("--set", "fusion.topk=many"))
case("config: value not among the choices", "fusion.method")(_plan("--set", "fusion.method=max_ce"))
case("config: value out of range (λ = 1.5)", "training.clm_weight")(
    _plan("--set", "training.clm_weight=1.5")
)
case("config: override without a value", "form section.key=value")(_plan("--set", "fusion.topk"))
case("config: block longer than a model's context", "exceeds model")(
    _plan("--set", "fusion.block_size=100000")
)
case("config: DeepSpeed file missing", "does not exist")(
    _plan("--set", "training.deepspeed=configs/deepspeed/zero9.json")
)


@case("config: file missing", "not found")
def _missing_config(env: Env) -> Run:
    runs = env.tmp / "runs"
    return Run("configs.plan", env.args(runs, config=env.tmp / "none.yaml"), runs)


@case("config: invalid YAML", "invalid YAML")
def _bad_yaml(env: Env) -> Run:
    bad = env.tmp / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    runs = env.tmp / "runs"
    return Run("configs.plan", env.args(runs, config=bad), runs)


# -- names on the command line ---------------------------------------------------------------


@case("`make train VARIANT=` unknown", "unknown training variant 'fusellm_mtp'")
def _unknown_variant(env: Env) -> Run:
    runs = env.runs(links=("world", "fuse"))
    return Run("training.train", env.args(runs, "--variant", "fusellm_mtp"), runs)


@case("`make represent --model` unknown", "unknown model 'gpt5'")
def _unknown_model(env: Env) -> Run:
    runs = env.runs()
    return Run("fusion.represent", env.args(runs, "--model", "gpt5"), runs)


@case("`make eval SUITES=` unknown", "unknown suite 'bbhh'")
def _unknown_suite(env: Env) -> Run:
    runs = env.runs()
    return Run("evaluation.run_eval", env.args(runs, "--model", "llama2", "--suites", "bbhh"), runs)


@case("`make eval --tasks` unknown", "did you mean 'tiny_boolq'")
def _unknown_task(env: Env) -> Run:
    runs = env.runs()
    args = env.args(runs, "--model", "llama2", "--tasks", "tiny_bolq")
    return Run("evaluation.run_eval", args, runs)


@case("`make eval MODEL=` bad path", "unknown model '/no/such/checkpoint'")
def _bad_model_path(env: Env) -> Run:
    runs = env.runs()
    args = env.args(runs, "--model", "/no/such/checkpoint")
    return Run("evaluation.run_eval", args, runs)


@case("merge: unknown method", "did you mean 'ties'")
def _unknown_merge(env: Env) -> Run:
    runs = env.runs()
    model = str(runs / "micro/world/models/llama2")
    args = ["--models", model, model, "--out", str(env.tmp / "merged"), "--method", "tie"]
    return Run("fusion.merge", args, runs)


# -- the world -------------------------------------------------------------------------------


@case("world not built", "cannot load model 'llama2': no ")
def _no_world(env: Env) -> Run:
    runs = env.tmp / "runs"
    runs.mkdir()
    return Run("fusion.represent", env.args(runs, "--model", "llama2"), runs)


@case("world artifact missing (a model)", "cannot load model 'mpt'")
def _world_model_missing(env: Env) -> Run:
    runs = env.runs(copies=("world/models",))
    shutil.rmtree(runs / "micro/world/models/mpt")
    return Run("fusion.represent", env.args(runs, "--model", "mpt"), runs)


@case("world incomplete (no manifest)", "no tiny world at")
def _world_without_manifest(env: Env) -> Run:
    runs = env.runs(copies=("world/manifest.json",))
    (runs / "micro/world/manifest.json").unlink()
    return Run("evaluation.run_eval", env.args(runs, "--model", "llama2"), runs)


@case("world of another version", f"are version 0, this suite reads {TASKS_VERSION}: delete")
def _world_of_another_version(env: Env) -> Run:
    runs = env.runs(copies=("world/manifest.json",))
    (runs / "micro/world/manifest.json").write_text('{"versions": {"tasks": 0, "code": 0}}')
    return Run("evaluation.run_eval", env.args(runs, "--model", "llama2"), runs)


# -- models and data -------------------------------------------------------------------------


@case("tokenizer that does not fit its model", "pair the model with its own tokenizer")
def _mismatched_tokenizer(env: Env) -> Run:
    runs = env.runs(copies=("world/models/llama2",))
    other = AutoTokenizer.from_pretrained(str(env.fused.world / "models/openllama"))
    other.save_pretrained(str(runs / "micro/world/models/llama2"))
    return Run("fusion.represent", env.args(runs, "--model", "llama2"), runs)


@case("NaN logits", "NaN/inf logits")
def _nan_logits(env: Env) -> Run:
    runs = env.runs(copies=("world/models/llama2",))
    weights = runs / "micro/world/models/llama2/model.safetensors"
    state = {k: torch.full_like(v, float("nan")) for k, v in load_file(str(weights)).items()}
    save_file(state, str(weights), metadata={"format": "pt"})
    return Run("fusion.represent", env.args(runs, "--model", "llama2"), runs)


def _spoil_shard(env: Env, spoil: Callable[[Path], None]) -> Run:
    runs = env.runs(copies=("represent",))
    spoil(runs / "micro/represent/llama2/shard-00001")
    return Run("fusion.align", env.args(runs, "--source", "mpt"), runs)


@case("truncated shard", "shard-00001 is missing or corrupt")
def _truncated_shard(env: Env) -> Run:
    def truncate(shard: Path) -> None:
        arrow = next(shard.glob("*.arrow"))
        arrow.write_bytes(arrow.read_bytes()[:100])

    return _spoil_shard(env, truncate)


@case("corrupt shard", "shard-00001 is missing or corrupt")
def _corrupt_shard(env: Env) -> Run:
    def scramble(shard: Path) -> None:
        arrow = next(shard.glob("*.arrow"))
        arrow.write_bytes(bytes(reversed(arrow.read_bytes())))

    return _spoil_shard(env, scramble)


@case("missing shard", "shard-00001 is missing or corrupt")
def _missing_shard(env: Env) -> Run:
    return _spoil_shard(env, shutil.rmtree)


@case("source with no shared token", "shares no token with the target vocabulary")
def _no_shared_token(env: Env) -> Run:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    runs = env.runs(copies=("world/models/openllama",), links=("world", "represent"))
    raw = Tokenizer(models.WordLevel({"ж": 0, "щ": 1, "[?]": 2}, unk_token="[?]"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    alien = PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="[?]")
    model_dir = runs / "micro/world/models/openllama"
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (model_dir / name).unlink(missing_ok=True)
    alien.save_pretrained(str(model_dir))
    return Run("fusion.align", env.args(runs, "--source", "openllama"), runs)


@case("representations missing", "run `make represent`")
def _no_representation(env: Env) -> Run:
    runs = env.runs()
    return Run("fusion.align", env.args(runs, "--source", "mpt"), runs)


@case("alignment missing", "run `make align`")
def _no_alignment(env: Env) -> Run:
    runs = env.runs(links=("world", "represent"))
    return Run("fusion.fuse", env.args(runs), runs)


@case("fused data missing", "run `make fuse`")
def _no_fused(env: Env) -> Run:
    runs = env.runs()
    return Run("training.train", env.args(runs, "--variant", "fusellm"), runs)


@case("fused targets for another tokenizer", "has target_ids in [")
def _fused_for_another_tokenizer(env: Env) -> Run:
    runs = env.runs(links=("world",))
    data = datasets.load_from_disk(str(env.fused.fused("fusellm")))
    shifted = data.map(lambda row: {"target_ids": [i + 100_000 for i in row["target_ids"]]})
    out = runs / "micro/fuse/fusellm"
    shifted.save_to_disk(str(out))
    shutil.copy(env.fused.fused("fusellm") / "meta.json", out / "meta.json")
    return Run("training.train", env.args(runs, "--variant", "fusellm"), runs)


@case("checkpoint of another model", "is of another model than the target")
def _foreign_checkpoint(env: Env) -> Run:
    runs = env.runs(links=("world", "fuse"))
    checkpoint = runs / "micro/train/fusellm/checkpoints/checkpoint-2"
    shutil.copytree(env.fused.world / "models/llama2_13b", checkpoint)  # hidden 48, not 32
    (checkpoint / "trainer_state.json").write_text("{}")
    (checkpoint / "optimizer.pt").touch()
    return Run("training.train", env.args(runs, "--variant", "fusellm"), runs)


@case("unreadable checkpoint", "is unreadable")
def _unreadable_checkpoint(env: Env) -> Run:
    runs = env.runs(links=("world", "fuse"))
    checkpoint = runs / "micro/train/fusellm/checkpoints/checkpoint-2"
    shutil.copytree(env.fused.world / "models/llama2", checkpoint)
    (checkpoint / "model.safetensors").write_bytes(b"\x00not safetensors" * 64)
    (checkpoint / "trainer_state.json").write_text("{}")
    (checkpoint / "optimizer.pt").touch()
    return Run("training.train", env.args(runs, "--variant", "fusellm"), runs)


@case("`make eval MODEL=` unreadable checkpoint", "cannot load model")
def _unreadable_model(env: Env) -> Run:
    runs = env.runs()
    broken = env.tmp / "broken"
    shutil.copytree(env.fused.world / "models/llama2", broken)
    (broken / "model.safetensors").write_bytes(b"\x00not safetensors" * 64)
    args = env.args(runs, "--model", str(broken), "--suites", "perplexity")
    return Run("evaluation.run_eval", args, runs)


@case("corrupt stage stamp", "corrupt stage stamp")
def _corrupt_stamp(env: Env) -> Run:
    runs = env.runs()
    stamp = runs / "micro/stamps/fuse.json"
    stamp.parent.mkdir(parents=True)
    stamp.write_text("{")
    return Run("configs.stamps", env.args(runs, "--stage", "fuse", "--", "true"), runs)


# -- the MLflow store and RUNS ---------------------------------------------------------------


def _store(env: Env) -> Path:
    """A RUNS with an MLflow store holding one eval run, and a rendered table2."""
    runs = env.tmp / "runs"
    layout = Layout.of(env.fused.cfg, runs)
    with tracking.stage_run(layout, "eval", row_models(layout.cfg)["llama2"]):
        mlflow.log_metrics(dict.fromkeys(column_metrics(layout.cfg, "table2").values(), 0.5))
    cli_main("reports")(env.args(runs, "--table", "table2"))
    return runs


@case("no MLflow store", "no MLflow store at")
def _no_store(env: Env) -> Run:
    runs = env.tmp / "runs"
    runs.mkdir()
    return Run("reports", env.args(runs), runs)


@case("corrupt MLflow store", "file is not a database")
def _corrupt_store(env: Env) -> Run:
    runs = _store(env)
    (runs / "mlflow.db").write_bytes(b"\x00garbage, not sqlite\xff" * 512)
    return Run("reports", env.args(runs), runs)


@case("locked MLflow store", "another process holds it")
def _locked_store(env: Env) -> Run:
    runs = _store(env)

    @contextmanager
    def held() -> Iterator[None]:
        holder = sqlite3.connect(runs / "mlflow.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.close()

    patches = [("reports.tables", "STORE_WAIT_S", 0.2)]
    return Run("reports", env.args(runs), runs, held, patches=patches)


@case("read-only RUNS", "cannot write under")
def _read_only_runs(env: Env) -> Run:
    runs = _store(env)
    for path in [runs, *runs.rglob("*")]:
        if path.is_dir():
            path.chmod(0o555)

    return Run("reports", env.args(runs), runs, unprivileged)


@case("toolchain missing, installed without root", "needs root and apt-get")
def _install_without_root(env: Env) -> Run:
    runs = env.tmp / "runs"
    patches = [
        (TOOLCHAINS, "missing_toolchain", lambda lang: "go" if lang == "go" else None),
        ("os", "geteuid", lambda: 1000),
    ]
    return Run("evaluation.code.toolchains", ["--install"], runs, code=1, patches=patches)


@case("toolchain missing, not installable", "could not install")
def _install_fails(env: Env) -> Run:
    runs = env.tmp / "runs"
    patches = [
        (TOOLCHAINS, "missing_toolchain", lambda lang: "go" if lang == "go" else None),
        (TOOLCHAINS, "_apt", lambda argv: None if "update" in argv else "exit 100: E: no package"),
    ]
    return Run("evaluation.code.toolchains", ["--install"], runs, code=1, patches=patches)


@case("OpenCompass data folder missing", "no OpenCompass data at")
def _no_opencompass_data(env: Env) -> Run:
    runs = env.tmp / "runs"
    args = env.args(runs, "--model", "llama2_7b", "--suites", "generation", config=PAPER)
    args += ["--set", "evaluation.backend=opencompass"]
    patches = [("opencompass.utils.datasets", "DEFAULT_DATA_FOLDER", str(env.tmp / "none"))]
    environ = {"COMPASS_DATA_CACHE": str(env.tmp / "compass")}
    return Run("evaluation.run_eval", args, runs, patches=patches, environ=environ)


def cli_main(module: str) -> Callable[[list[str]], None]:
    """``python -m module args`` in this process (its ``main``, behind ``cli.run``)."""
    try:
        target = importlib.import_module(f"{module}.__main__")
    except ModuleNotFoundError:
        target = importlib.import_module(module)

    def call(args: list[str]) -> None:
        sys.argv = [module, *args]
        if module == "evaluation.code.toolchains":
            raise SystemExit(target.main(args))
        cli.run(target.main)

    return call


def messages(stderr: str) -> list[str]:
    """The lines of ``stderr`` that say something: progress bars (tqdm's ``%|``) and MLflow's
    INFO log of creating a store are not messages."""
    return [line for line in stderr.splitlines() if line.strip() and not NOISE.search(line)]


def snapshot(runs: Path) -> dict[str, str]:
    """Every file and link under ``runs`` (links not followed): its digest or target."""
    found = {}
    for top, dirs, files in os.walk(runs):
        for name in dirs + files:
            path = Path(top) / name
            rel = path.relative_to(runs).as_posix()
            if path.is_symlink():
                found[rel] = f"-> {os.readlink(path)}"
            elif path.is_file():
                found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture
def env(fused_world, monkeypatch) -> Iterator[Env]:
    """A scratch dir any user may enter (the read-only case runs as nobody; pytest's tmp is
    0700), removed afterwards."""
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    scratch = Path(tempfile.mkdtemp(prefix="bad-input-"))
    scratch.chmod(0o755)
    yield Env(fused_world, scratch)
    shutil.rmtree(scratch)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_non_zero_and_loses_nothing(name, env, monkeypatch, capfd) -> None:
    bad = CASES[name]
    run = bad.setup(env)
    for module, attr, value in run.patches:
        monkeypatch.setattr(importlib.import_module(module), attr, value)
    for key, value in run.environ.items():
        monkeypatch.setenv(key, value)
    before = snapshot(run.runs) if run.runs.exists() else {}
    capfd.readouterr()
    with pytest.raises(SystemExit) as exited, run.context():
        cli_main(run.module)(run.args)
    err = capfd.readouterr().err
    lines = messages(err)
    assert exited.value.code == run.code != 0, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert bad.line in lines[0], lines[0]
    after = snapshot(run.runs) if run.runs.exists() else {}
    assert {k: v for k, v in after.items() if k in before} == before, "a file was lost or changed"


def test_a_full_runs_is_one_line_and_keeps_the_tables(env) -> None:
    """A disk that fills up mid-write (simulated: a file size limit, SIGXFSZ ignored, so a
    write fails with EFBIG as with ENOSPC): one line, exit 2, the tables already there kept."""
    runs = _store(env)
    before = snapshot(runs)

    def tiny_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))

    cmd = [sys.executable, "-m", "reports", *env.args(runs)]
    proc = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, preexec_fn=tiny_files, timeout=600
    )
    lines = messages(proc.stderr)
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "cannot write under" in lines[0] and "File too large" in lines[0], lines[0]
    after = snapshot(runs)
    assert {k: v for k, v in after.items() if k in before} == before
