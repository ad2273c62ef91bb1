"""MultiPL-E in `make eval`: stop-sequence cuts, pass@k from the written samples, missing
toolchains reported (never scored), resumption, MLflow holding exactly the written numbers,
and table3 reading them back."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from configs.errors import SuiteError
from configs.layout import Layout
from configs.loader import load_config
from configs.schema import MULTIPLE_LANGUAGES
from configs.tracking import metric_key
from evaluation.code import multiple, sandbox, verdicts
from evaluation.code.bigcode import INSTALL, bigcode_problems
from evaluation.code.languages import LANGUAGES
from evaluation.code.multiple import first_stop, run_multiple, score
from evaluation.code.passk import mean_pass_at_k
from evaluation.code.problems import load_problems
from evaluation.code.sandbox import ExecResult
from evaluation.code.suite import suite_problems
from evaluation.evaluate import evaluate
from reports.paper import PAPER_TABLES
from reports.render import formatted, markdown
from reports.tables import build, eval_runs
from world.benchmarks.code import tiny_code_problems
from world.knowledge import build_knowledge

ROOT = Path(__file__).resolve().parents[2]
CPP, PY = LANGUAGES["cpp"].stop_sequences, LANGUAGES["py"].stop_sequences


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _pass1(rows: list[dict]) -> float:
    counts: dict[str, list[int]] = {}
    for row in rows:
        n_c = counts.setdefault(row["problem"], [0, 0])
        n_c[0] += 1
        n_c[1] += row["status"] == "passed"
    return mean_pass_at_k([tuple(v) for v in counts.values()], 1)


def test_first_stop_cuts_before_the_earliest_stop_sequence() -> None:
    assert first_stop("    return x;\n}\nint main() {\n}", CPP) == "    return x;"
    assert first_stop("    return 1\n# note\ndef g():\n", PY) == "    return 1"
    assert first_stop("    return 1\n\ndef g():\n    # x\n", PY) == "    return 1\n"
    assert first_stop("    x = [i\nif i]", PY) == "    x = [i"
    assert first_stop("\ndef g(): pass", PY) == ""
    assert first_stop("  no stop here", PY) == "  no stop here"
    assert first_stop("a struct b\nfunc c", LANGUAGES["go"].stop_sequences) == "a "


def test_score_is_the_unbiased_pass_at_k_over_problems() -> None:
    rows = [{"problem": "a", "status": s} for s in ("passed", "failed", "timeout")]
    rows += [{"problem": "b", "status": "passed"} for _ in range(3)]
    entry = score(rows, samples=3)
    assert entry["pass@1"] == pytest.approx((1 / 3 + 1) / 2)
    assert "pass@10" not in entry and entry["n"] == 3 and entry["problems"] == 2
    assert entry["statuses"] == {"passed": 4, "failed": 1, "timeout": 1}


def test_a_language_not_fully_isolated_is_noted_and_old_samples_are_redone(
    tmp_path: Path,
) -> None:
    boxed = {"network": True, "filesystem": True, "uid": True}
    bare = {"network": True, "filesystem": False, "uid": False}
    rows = [
        {"problem": name, "sample": 0, "status": "passed", "isolation": held}
        for name, held in (("a", boxed), ("b", bare))
    ]
    assert multiple.held_by_all(rows) == bare
    entry = score(rows, samples=1) | {"isolation": multiple.held_by_all(rows)}
    table = multiple.results_table({"py": entry, "js": entry | {"isolation": boxed}})
    assert "| Python | 1.0000 | 1 | 2 | {'passed': 2}; not isolated: filesystem, uid |" in table
    assert "| JavaScript | 1.0000 | 1 | 2 | {'passed': 2} |" in table
    path, expected = tmp_path / "samples_py.jsonl", {("a", 0), ("b", 0)}
    path.write_text("".join(json.dumps(r | {"run": "r1"}) + "\n" for r in rows))
    assert multiple._finished(path, "r1", expected) is not None
    older = [{k: v for k, v in r.items() if k != "isolation"} | {"run": "r1"} for r in rows]
    path.write_text("".join(json.dumps(r) + "\n" for r in older))
    assert multiple._finished(path, "r1", expected) is None  # isolation unknown: run again


def test_config_languages_are_the_executor_languages() -> None:
    assert set(MULTIPLE_LANGUAGES) == set(LANGUAGES)
    assert set(PAPER_TABLES["table3"].columns[:-1]) == set(LANGUAGES)
    with pytest.raises(SuiteError, match="multiple_temperature"):
        load_config(ROOT / "configs/micro.yaml", ["evaluation.multiple_temperature=0"])


@pytest.fixture(scope="module")
def target(micro_world) -> str:
    return micro_world.model(micro_world.cfg.models.target)


def test_run_on_the_micro_target_scores_its_samples_and_resumes(
    target: str, micro_world, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problems = load_problems(micro_world.code_problems)
    out = tmp_path / "multiple"
    results = run_multiple(target, problems, out, max_new_tokens=16, batch_size=4, limit=1)
    assert list(results["results"]) == list(LANGUAGES)
    written = json.loads((out / "results.json").read_text())
    assert written == json.loads(json.dumps(results))
    held = vars(sandbox.isolation())
    for lang, entry in written["results"].items():
        why = sandbox.unavailable(lang)
        if why is not None:  # no toolchain here: reported, not scored, and said why
            assert "pass@1" not in entry and entry["missing"] in why, entry
            assert written["missing_toolchain"][lang] == entry["missing"]
            continue
        rows = _rows(out / f"samples_{lang}.jsonl")
        assert [r["problem"] for r in rows] == ["tiny_code_0_sum_list"]
        assert entry["pass@1"] == _pass1(rows) and entry["n"] == 1 and entry["problems"] == 1
        assert entry["isolation"] == held and all(r["isolation"] == held for r in rows)
        compiled = bool(LANGUAGES[lang].compile)
        for row in rows:  # a real completion: cut before any stop, then run
            assert (
                first_stop(row["completion"], LANGUAGES[lang].stop_sequences) == row["completion"]
            )
            assert row["status"] in ("passed", "failed", "timeout") + (("error",) * compiled)
            assert (row["status"] == "passed") == (row["exit_code"] == 0), row
    assert "| Python |" in (out / "results.md").read_text()

    def no_generation(*args, **kwargs):
        raise AssertionError("a finished language was generated again")

    monkeypatch.setattr(multiple, "generate", no_generation)
    again = run_multiple(target, problems, out, max_new_tokens=16, batch_size=4, limit=1)
    assert again["results"] == results["results"]
    with pytest.raises(AssertionError, match="generated again"):  # other settings: a new run
        run_multiple(target, problems, out, max_new_tokens=8, batch_size=4, limit=1)


def _known_completions(problems, right: set[str]):
    """A stand-in model: the reference completion for problems in ``right``, else nothing.

    It is fed the stripped prompt, so a right answer first restores the stripped newline.
    """
    by_prompt = {p.prompt.strip(): p for p in problems}

    def fake(model, tokenizer, prompts, stops, settings, room):
        found = [by_prompt[prompt] for prompt in prompts]
        return [
            (p.prompt[len(p.prompt.strip()) :] + p.solution if p.name in right else "", False)
            for p in found
        ]

    return fake


def test_sampled_pass_at_k_from_known_completions(
    target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problems = tiny_code_problems(build_knowledge(0, 12), 0, ["py", "js"])
    right = {"tiny_code_0_sum_list"}
    monkeypatch.setattr(multiple, "generate", _known_completions(problems, right))
    results = run_multiple(
        target, problems, tmp_path, samples=3, temperature=0.8, max_new_tokens=16, limit=2
    )
    for lang in ("py", "js"):
        entry, rows = results["results"][lang], _rows(tmp_path / f"samples_{lang}.jsonl")
        assert len(rows) == 6 and entry["n"] == 3 and entry["problems"] == 2
        assert entry["pass@1"] == pytest.approx(0.5) == _pass1(rows)
        assert {r["status"] for r in rows if r["problem"] in right} == {"passed"}
    with pytest.raises(SuiteError, match="temperature > 0"):
        run_multiple(target, problems, tmp_path, samples=2, temperature=0.0)


def test_missing_toolchain_is_reported_not_scored(
    target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problems = tiny_code_problems(build_knowledge(0, 12), 0, ["go", "py", "rb"])
    monkeypatch.setattr(multiple, "generate", _known_completions(problems, set()))
    monkeypatch.setattr(
        multiple, "missing_toolchain", lambda lang: "ghostc" if lang == "go" else None
    )
    real_run = verdicts.run_program

    def ruby_unreachable(lang, source, **kwargs):  # the sandbox's own verdict, mid-run
        if lang == "rb":
            held = sandbox.isolation()
            return ExecResult("no_toolchain", None, "", "missing toolchain: ruby", 0.0, held)
        return real_run(lang, source, **kwargs)

    monkeypatch.setattr(verdicts, "run_program", ruby_unreachable)
    results = run_multiple(target, problems, tmp_path, max_new_tokens=16, limit=1)
    go, rb = results["results"]["go"], results["results"]["rb"]
    assert go["missing"] == "ghostc" and "no ghostc toolchain" in go["reason"]
    assert rb == {"missing": "ruby", "reason": "missing toolchain: ruby"}
    assert "pass@1" not in go and "pass@1" not in rb
    assert results["results"]["py"]["pass@1"] == 0.0  # scored: the empty completions fail
    assert results["missing_toolchain"] == {"go": "ghostc", "rb": "ruby"}
    assert not (tmp_path / "samples_go.jsonl").exists()
    assert "no ghostc toolchain" in (tmp_path / "results.md").read_text()


@pytest.fixture(scope="module")
def evaluated(micro_world, tmp_path_factory) -> tuple[Layout, dict]:
    """``evaluate(..., suites=["multiple"])`` on the micro target, Go's toolchain hidden,
    logging to a store of its own (other eval tests count the runs of theirs)."""
    store = tmp_path_factory.mktemp("store") / "mlflow.db"
    overrides = [
        "evaluation.limit=1",
        "evaluation.multiple_max_new_tokens=16",
        "evaluation.multiple_languages=[py,go,js]",
        f"reporting.tracking_uri=sqlite:///{store}",
    ]
    cfg = load_config(ROOT / "configs/micro.yaml", overrides)
    layout = Layout.of(cfg, micro_world.runs)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(multiple, "missing_toolchain", lambda lang: "go" if lang == "go" else None)
        outcomes = evaluate(cfg, layout, "llama2", ["multiple"])
    return layout, outcomes


def test_evaluate_logs_exactly_the_written_numbers(evaluated) -> None:
    layout, outcomes = evaluated
    out = layout.evaluation("llama2") / "multiple"
    written = json.loads((out / "results.json").read_text())
    assert outcomes["multiple"] == written
    client = MlflowClient(layout.tracking_uri)
    experiment = client.get_experiment_by_name(layout.cfg.name)
    (run,) = client.search_runs([experiment.experiment_id], "tags.stage = 'eval'")
    expected = {
        metric_key("eval", "multiple", lang, "pass@1"): entry["pass@1"]
        for lang, entry in written["results"].items()
        if "pass@1" in entry
    }
    assert set(expected) == {"eval/multiple/py/pass_1", "eval/multiple/js/pass_1"}
    assert run.data.metrics == expected
    assert run.data.tags["missing.multiple.go"] == written["results"]["go"]["reason"]
    for lang in ("py", "js"):
        held = written["results"][lang]["isolation"]
        assert held == vars(sandbox.isolation())
        for name, value in held.items():
            assert run.data.tags[f"isolation.multiple.{lang}.{name}"] == str(value).lower()
    assert not any(key.startswith("isolation.multiple.go") for key in run.data.tags)
    assert run.data.tags["task_version.tiny_code"] == "1"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "eval/multiple")}
    assert artifacts == {
        f"eval/multiple/{f}"
        for f in ("results.json", "results.md", "samples_py.jsonl", "samples_js.jsonl")
    }


def test_table3_reads_the_logged_numbers_back(evaluated) -> None:
    layout, _ = evaluated
    written = json.loads((layout.evaluation("llama2") / "multiple/results.json").read_text())
    table = build(layout.cfg, layout, "table3", eval_runs(layout))
    assert table.values.loc["llama2", "py"] == written["results"]["py"]["pass@1"] * 100
    assert table.values.loc["llama2", "js"] == written["results"]["js"]["pass@1"] * 100
    assert table.reasons[("llama2", "go")] == "not scored: " + written["results"]["go"]["reason"]
    assert "has no metric eval/multiple/cpp/pass_1" in table.reasons[("llama2", "cpp")]
    assert table.reasons[("llama2", "average")].startswith("average needs every column")
    held = written["results"]["py"]["isolation"]
    lacking = [name for name, value in held.items() if not value]
    if lacking:  # this machine could not isolate fully: the cell says so
        assert table.unisolated[("llama2", "py")] == f"not isolated: {', '.join(lacking)}"
    else:
        assert table.unisolated == {}


def test_table3_marks_a_cell_scored_without_full_isolation(evaluated) -> None:
    layout, _ = evaluated
    client = MlflowClient(layout.tracking_uri)
    experiment = client.get_experiment_by_name(layout.cfg.name)
    (run,) = client.search_runs([experiment.experiment_id], "tags.stage = 'eval'")
    key = "isolation.multiple.js.filesystem"
    saved = run.data.tags[key]
    client.set_tag(run.info.run_id, key, "false")
    try:
        table = build(layout.cfg, layout, "table3", eval_runs(layout))
    finally:
        client.set_tag(run.info.run_id, key, saved)
    assert "not isolated: filesystem" in table.unisolated[("llama2", "js")]
    assert ("llama2", "go") not in table.unisolated  # not scored: nothing to mark
    page = markdown(table, "micro")
    assert "‡" in formatted(table).loc["Llama-2", "js"]
    assert "‡ Code run without the sandbox's full isolation" in page
    assert "- Llama-2 / js: not isolated: filesystem" in page


def test_paper_configs_need_bigcode_eval(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "bigcode_eval", None)  # not importable
    monkeypatch.setitem(sys.modules, "bigcode_eval.tasks", None)
    cfg = load_config(ROOT / "configs/paper/fusellm_7b.yaml")
    with pytest.raises(SuiteError) as err:
        suite_problems(cfg, Layout.of(cfg, tmp_path))
    assert str(err.value) == INSTALL and "\n" not in INSTALL


def test_bigcode_items_become_code_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = {"name": "HumanEval_0_f", "prompt": "def f():\n", "tests": "assert f() is None\n"}
    doc["stop_tokens"] = ["\ndef"]
    task = types.SimpleNamespace(get_dataset=lambda: [doc])
    names: list[str] = []
    fake = types.ModuleType("bigcode_eval.tasks")
    fake.get_task = lambda name: names.append(name) or task
    monkeypatch.setitem(sys.modules, "bigcode_eval", types.ModuleType("bigcode_eval"))
    monkeypatch.setitem(sys.modules, "bigcode_eval.tasks", fake)
    (problem,) = bigcode_problems(["py"])
    assert names == ["multiple-py"]
    assert (problem.name, problem.language, problem.stop_sequences) == (
        "HumanEval_0_f",
        "py",
        ("\ndef",),
    )
    assert problem.program("    return None") == "def f():\n    return None\nassert f() is None\n"

    def offline(name):
        raise ConnectionError(
            "Couldn't reach 'nuprl/MultiPL-E' on the Hub (LocalEntryNotFoundError)"
        )

    fake.get_task = offline
    with pytest.raises(SuiteError, match="cannot load MultiPL-E humaneval-py") as err:
        bigcode_problems(["py"])
    assert "\n" not in str(err.value)
