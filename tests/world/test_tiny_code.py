"""The tiny world's MultiPL-E problems: MultiPL-E's shape in all ten languages, reference
completions that pass (and wrong ones that fail) in the sandbox, held out of every corpus."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from configs.loader import load_config
from evaluation.code.languages import LANGUAGES
from evaluation.code.multiple import first_stop
from evaluation.code.sandbox import run_program, unavailable
from fusion.corpus import load_corpora
from world.benchmarks import code_syntax as syn
from world.benchmarks.code import SPECS, tiny_code_problems
from world.benchmarks.code_solutions import SOLUTIONS
from world.corpus import build_corpora
from world.knowledge import build_knowledge

ROOT = Path(__file__).resolve().parents[2]
FAST = ("keep_greater", "initials")  # list in and out with two arguments; strings


@pytest.fixture(scope="module")
def problems(micro_cfg) -> list:
    world = micro_cfg.world
    return tiny_code_problems(
        build_knowledge(world.seed, world.entities), world.seed, list(LANGUAGES)
    )


def _run_all(programs: list[tuple[str, str]]) -> list:
    with ThreadPoolExecutor(3) as pool:
        return list(pool.map(lambda p: run_program(p[0], p[1], timeout_s=30), programs))


def _verdict(lang: str, result, expected: str) -> None:
    """``expected``, or where the sandbox cannot run ``lang`` here, that reported by name."""
    why = unavailable(lang)
    if why is not None:
        assert result.status == "no_toolchain" and why in result.stderr_tail, (lang, result)
    else:
        assert result.status == expected, (lang, result.stderr_tail)


def test_every_problem_in_every_language_in_multiple_shape(problems) -> None:
    assert set(syn.SYNTAX) == set(LANGUAGES) and len(SPECS) == 12
    assert {name: set(langs) for name, langs in SOLUTIONS.items()} == {
        spec.name: set(LANGUAGES) for spec in SPECS
    }
    assert len(problems) == 120 and len({(p.name, p.language) for p in problems}) == 120
    for p in problems:
        assert p.stop_sequences == LANGUAGES[p.language].stop_sequences
        assert p.tests.count("\n") >= 6, p.tests  # six test cases, one line each at least
        assert first_stop(p.solution, p.stop_sequences) == p.solution, (p.name, p.language)
        assert ">>> " in p.prompt  # one worked example in the doc comment
    by_lang = {p.language: p for p in problems if p.name == "tiny_code_3_keep_greater"}
    assert by_lang["java"].prompt.endswith(
        "    public static ArrayList<Long> keepGreater(ArrayList<Long> xs, long limit) {\n"
    )
    assert "// Keep the numbers of the array list xs" in by_lang["java"].prompt
    assert by_lang["cpp"].tests.startswith("}\nint main() {\n    auto candidate = keep_greater;")
    assert by_lang["rs"].prompt.endswith(
        "fn keep_greater(xs: Vec<isize>, limit: isize) -> Vec<isize> {\n"
    )
    assert by_lang["r"].prompt.endswith("keep_greater <- function(xs, limit) {")
    assert by_lang["py"].prompt.startswith("from typing import List\n\ndef keep_greater(")
    assert by_lang["go"].prompt.startswith("package keep_greater_test\n")
    assert by_lang["js"].prompt.startswith("//Keep the numbers of the array xs")
    assert by_lang["php"].prompt.startswith("<?php\n// Keep")


def test_values_render_as_multiple_writes_them() -> None:
    java, cpp, r, rs, py = (syn.SYNTAX[k] for k in ("java", "cpp", "r", "rs", "py"))
    assert syn.value(java, [1, -2], "list[int]") == (
        "new ArrayList<Long>(Arrays.asList((long)1l, (long)-2l))"
    )
    assert syn.value(cpp, [], "list[int]") == "std::vector<long>()"
    assert syn.value(cpp, [3], "list[int]") == "std::vector<long>({(long)3})"
    assert syn.value(r, True, "bool") == "TRUE" and syn.value(r, [], "list[int]") == "c()"
    assert syn.value(rs, "ab", "str") == 'String::from("ab")'
    assert syn.value(py, "ab", "str") == "'ab'" and syn.value(py, False, "bool") == "False"
    assert syn.call(syn.SYNTAX["rb"], "f", (4,), ("int",)) == "f.call(4)"
    assert syn.describe(syn.SYNTAX["rs"], "the {list} xs is {true}") == "the vector xs is true"
    with pytest.raises(ValueError, match="letters, digits and spaces"):
        syn.value(py, 'say "hi"', "str")


def test_problems_are_deterministic_per_seed() -> None:
    kb = build_knowledge(0, 12)
    first, again = tiny_code_problems(kb, 0, ["py"]), tiny_code_problems(kb, 0, ["py"])
    assert first == again
    other = tiny_code_problems(build_knowledge(1, 12), 1, ["py"])
    assert [p.tests for p in other] != [p.tests for p in first]
    assert [p.language for p in tiny_code_problems(kb, 0, ["rs", "go"])] == ["rs"] * 12 + [
        "go"
    ] * 12


def test_reference_passes_and_a_wrong_completion_fails(problems) -> None:
    fast = [p for p in problems if p.name.split("_", 3)[-1] in FAST]
    assert len(fast) == 2 * len(LANGUAGES)
    wrong = [p for p in fast if p.name.endswith("keep_greater")]
    programs = [(p.language, p.program(p.solution)) for p in fast]
    # The running sums of xs: compiles against keep_greater's signature, answers wrongly.
    programs += [(p.language, p.program(SOLUTIONS["running_sum"][p.language])) for p in wrong]
    results = _run_all(programs)
    for p, result in zip(fast, results, strict=False):
        _verdict(p.language, result, "passed")
    for p, result in zip(wrong, results[len(fast) :], strict=True):
        _verdict(p.language, result, "failed")


@pytest.mark.slow
def test_every_reference_passes_in_the_default_tiny_world() -> None:
    world = load_config(ROOT / "configs/tiny.yaml").world
    problems = tiny_code_problems(
        build_knowledge(world.seed, world.entities), world.seed, list(LANGUAGES)
    )
    results = _run_all([(p.language, p.program(p.solution)) for p in problems])
    for p, result in zip(problems, results, strict=True):
        _verdict(p.language, result, "passed")


def _assert_held_out(problems: list, corpus: str) -> None:
    for p in problems:
        assert p.prompt.strip() not in corpus, (p.name, p.language)
    for spec in SPECS:
        sentence = syn.describe(syn.SYNTAX["py"], spec.doc)
        for text in (sentence, f"def {spec.name}(", f" {spec.name}("):
            assert text not in corpus, (spec.name, text)


def test_no_problem_occurs_in_any_corpus(micro_world, problems) -> None:
    corpora = load_corpora(micro_world)
    corpus = "\x00".join(doc for splits in corpora.values() for s in splits.values() for doc in s)
    _assert_held_out(problems, corpus)


def test_default_tiny_world_problems_are_held_out_too() -> None:
    world = load_config(ROOT / "configs/tiny.yaml").world
    kb = build_knowledge(world.seed, world.entities)
    corpora = build_corpora(kb, world.docs_per_domain, world.test_fraction, world.seed)
    corpus = "\x00".join(doc for splits in corpora.values() for s in splits.values() for doc in s)
    _assert_held_out(tiny_code_problems(kb, world.seed), corpus)
