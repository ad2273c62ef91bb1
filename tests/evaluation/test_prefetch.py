"""`make prefetch`: what it fetches covers everything the eval stage of the paper config opens,
and what it cannot fetch it names in one line; tiny configs fetch nothing.

The hub is unreachable here: prefetch runs against a loopback HTTP server this test starts,
which answers 404 to everything and records the repo ids asked for. The eval stage's list is
derived from the harnesses' own task definitions (lm-eval's task YAMLs, OpenCompass's dataset
configs), through the eval stage's task plan.
"""

from __future__ import annotations

import http.server
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from datasets import config as hf_config
from lm_eval.tasks._yaml_loader import load_yaml

from configs.errors import SuiteError
from configs.loader import load_config
from configs.prefetch import hub_items
from evaluation.benchmark_data import MULTIPLE_DATASET, benchmark_data
from evaluation.evaluate import plan_tasks, uses_opencompass
from evaluation.lm_eval_runner import builtin_tasks
from evaluation.opencompass_datasets import config_datasets, paper_configs, paper_datasets
from evaluation.prefetch import prefetch

ROOT = Path(__file__).resolve().parents[2]
PAPER = ROOT / "configs/paper/fusellm_7b.yaml"
# /api/models/<repo>/revision/main, /api/datasets/<repo>, /datasets/<repo>/resolve/...
REPO = re.compile(
    r"^/(?:api/)?(models|datasets)/(.+?)(?:/(?:revision|resolve|tree|paths-info)/.*)?$"
)


class _Recorder(http.server.BaseHTTPRequestHandler):
    asked: list[tuple[str, str]] = []

    def _answer(self) -> None:
        path = self.path.split("?")[0]
        if (m := REPO.match(path)) is not None:
            self.asked.append((m.group(1), m.group(2)))
        body = b'{"error": "Repository not found"}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = _answer

    def log_message(self, *args) -> None:  # quiet
        pass


@pytest.fixture
def fake_hub() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    asked: list[tuple[str, str]] = []
    handler = type("Handler", (_Recorder,), {"asked": asked})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()


def _opencompass_data_on_disk(cfg, root: Path) -> None:
    """The OpenCompass data prefetch declares, as placeholders (its only download is not on
    the loopback: the test must not reach it)."""
    for item in benchmark_data(cfg):
        if item.kind == "opencompass":
            path = root / item.id
            if path.suffix:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("{}")
            else:
                path.mkdir(parents=True, exist_ok=True)


def _prefetch(config: Path, tmp_path: Path, endpoint: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "COMPASS_"))}
    env |= {"HF_ENDPOINT": endpoint, "HF_HOME": str(tmp_path / "hf")}
    env |= {"COMPASS_DATA_CACHE": str(tmp_path / "compass")}
    return subprocess.run(
        [sys.executable, "-m", "evaluation.prefetch", "--config", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _eval_hf_datasets(cfg) -> set[str]:
    """Every Hugging Face dataset the eval stage opens, from the harnesses' own definitions."""
    opened = set()
    index = builtin_tasks().task_index
    for suite, tasks in plan_tasks(cfg, list(cfg.evaluation.suites), None).items():
        for task in tasks:
            if uses_opencompass(cfg, suite):  # OpenCompass configs: HF data only for IWSLT2017
                found = config_datasets(task)
                opened |= {d["path"] for d in found if str(d["type"]).endswith("IWSLT2017Dataset")}
            else:
                opened.add(load_yaml(index[task].yaml_path, resolve_func=False)["dataset_path"])
    if "multiple" in cfg.evaluation.suites:  # bigcode-evaluation-harness's multiple-<lang>
        opened.add(MULTIPLE_DATASET)
    return opened


@pytest.mark.slow  # lm-eval's task index and ~50 refused fetches: about a minute
def test_prefetch_asks_for_every_dataset_the_eval_stage_opens(tmp_path, fake_hub) -> None:
    endpoint, asked = fake_hub
    cfg = load_config(PAPER)
    _opencompass_data_on_disk(cfg, tmp_path / "compass")
    proc = _prefetch(PAPER, tmp_path, endpoint)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "meta-llama/Llama-2-7b-hf" in lines[0] and "make prefetch" in lines[0]
    datasets = {repo for kind, repo in asked if kind == "datasets"}
    models = {repo for kind, repo in asked if kind == "models"}
    opened = _eval_hf_datasets(cfg)
    assert {"allenai/ai2_arc", "SaylorTwift/bbh", "iwslt2017", MULTIPLE_DATASET} <= opened
    assert opened <= datasets, sorted(opened - datasets)
    assert {h for k, h, _ in hub_items(cfg) if k == "model"} <= models
    assert {h for k, h, _ in hub_items(cfg) if k == "dataset"} <= datasets


@pytest.mark.slow  # reads OpenCompass's configs; with lm-eval's index about half a minute
def test_declared_opencompass_data_is_all_the_eval_stage_checks_for(tmp_path, monkeypatch) -> None:
    """With exactly the declared OpenCompass data on disk (and IWSLT2017 in the datasets
    cache), the eval stage's own check passes; without one declared file it fails."""
    cfg = load_config(PAPER)
    monkeypatch.setenv("COMPASS_DATA_CACHE", str(tmp_path / "compass"))
    monkeypatch.setattr(hf_config, "HF_DATASETS_CACHE", str(tmp_path / "hf"))
    (tmp_path / "hf" / "iwslt2017").mkdir(parents=True)
    _opencompass_data_on_disk(cfg, tmp_path / "compass")
    assert len(paper_datasets(paper_configs("generation"))) == 44  # 4 configs + 40 SciBench
    (tmp_path / "compass" / "data/scibench/thermo.json").unlink()
    with pytest.raises(SuiteError, match="scibench"):
        paper_datasets(paper_configs("generation"))


@pytest.fixture
def refusing() -> Iterator[str]:
    """A loopback endpoint this test owns that refuses every connection: a socket bound to a
    free port on 127.0.0.1 and never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.slow  # the CLI's imports (lm-eval, mlflow, OpenCompass configs): ~20 s here
def test_tiny_config_has_nothing_to_fetch(tmp_path: Path, refusing: str) -> None:
    proc = _prefetch(ROOT / "configs/micro.yaml", tmp_path, refusing)
    assert proc.returncode == 0, proc.stderr
    assert "nothing to fetch" in proc.stdout


def _dry_run(endpoint: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env["HF_ENDPOINT"] = endpoint  # never asked: a dry run fetches nothing
    command = [sys.executable, "-m", "evaluation.prefetch", "--dry-run", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow  # lm-eval's task index: about half a minute
def test_dry_run_lists_the_benchmark_data_and_a_harness_departure(refusing: str) -> None:
    proc = _dry_run(refusing, "--config", str(PAPER))
    assert proc.returncode == 0, proc.stderr
    for text in [
        "model meta-llama/Llama-2-7b-hf",
        "dataset JeanKaddour/minipile",
        "benchmark SaylorTwift/bbh [navigate]  <- bbh_cot_fewshot_navigate",
        "benchmark allenai/ai2_arc [ARC-Challenge]  <- arc_challenge",
        "benchmark iwslt2017 [iwslt2017-en-de]  <- iwslt2017_gen",
        "benchmark ./data/scibench/thermo.json (OpenCompass data)  <- scibench_gen",
        "benchmark nuprl/MultiPL-E [humaneval-rs]  <- multiple-rs",
    ]:
        assert text in proc.stdout, text
    assert "parity:" not in proc.stdout and "fetched" not in proc.stdout
    lm_eval = _dry_run(refusing, "--config", str(PAPER), "--set", "evaluation.backend=lm_eval")
    assert "parity: generation harness lm_eval (paper: opencompass)" in lm_eval.stdout
    assert "iwslt2017" not in lm_eval.stdout  # lm-eval has no IWSLT2017: it would not run


def test_make_plan_prints_what_prefetch_would_fetch() -> None:
    dry = subprocess.run(
        ["make", "-n", "plan", "CONFIG=configs/paper/fusellm_7b.yaml", "prefetch", "DRY_RUN=1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    lines = [line for line in dry.stdout.splitlines() if "-m evaluation.prefetch" in line]
    assert len(lines) == 2 and all(line.endswith("--dry-run") for line in lines), dry.stdout


@pytest.mark.slow  # the CLI's imports and five refused fetches: ~30 s here
def test_unreachable_hub_fails_fast_with_one_line(tmp_path: Path, refusing: str) -> None:
    """Every item is tried against a refusing port, then one line names the first failure."""
    overrides = tmp_path / "paper_ppl.yaml"
    overrides.write_text(
        PAPER.read_text().replace(
            "suites: [bbh, commonsense, generation, multiple]", "suites: [perplexity]"
        )
    )
    proc = _prefetch(overrides, tmp_path, refusing)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "could not fetch 5 of 5 items, first model 'meta-llama/Llama-2-7b-hf'" in lines[0]
    assert "make prefetch" in lines[0]
    assert proc.stdout.count("failed ") == 5  # the four models and MiniPile, each listed


def test_every_item_is_tried_and_one_line_names_the_first_failure(capsys) -> None:
    fetched = []

    def refuse(what: str):
        def get() -> None:
            raise ConnectionError(f"{what} refused. Retry later")

        return get

    todo = [("model 'a'", refuse("a")), ("dataset 'b'", lambda: fetched.append("b"))]
    todo.append(("benchmark data 'c'", refuse("c")))
    with pytest.raises(SuiteError) as err:
        prefetch(todo)
    assert fetched == ["b"]  # tried after the first failure
    assert str(err.value).startswith("could not fetch 2 of 3 items, first model 'a' (a refused)")
    assert "\n" not in str(err.value)
    out = capsys.readouterr().out
    assert "failed benchmark data 'c' (c refused)" in out and "fetched dataset 'b'" in out


def test_tiny_configs_read_no_benchmark_data() -> None:
    cfg = load_config(ROOT / "configs/micro.yaml")
    assert benchmark_data(cfg) == [] and hub_items(cfg) == []
    assert benchmark_data(load_config(PAPER, ["evaluation.suites=[perplexity]"])) == []
