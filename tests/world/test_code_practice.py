"""The code corpus's practice programs: a sibling of every tiny code problem in every language,
free of facts, runnable, in the code domain, while the benchmark's own prompts stay out."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from evaluation.code.languages import LANGUAGES
from evaluation.code.sandbox import run_program, unavailable
from world.benchmarks import code_syntax as syn
from world.benchmarks.code import CASES, SPECS, tiny_code_problems
from world.benchmarks.code_practice import SIBLINGS, code_practice
from world.benchmarks.code_solutions import SOLUTIONS
from world.knowledge import KnowledgeBase

Corpora = dict[str, dict[str, list[str]]]


@pytest.fixture(scope="module")
def practice(kb: KnowledgeBase) -> list[str]:
    return code_practice(kb, kb.seed)


def _file_tail(spec_name: str, lang: str) -> str:
    """The reference body, then the head of the sibling's tests: unique to one language."""
    syntax = syn.SYNTAX[lang]
    name = SIBLINGS[spec_name][0]
    head = syn.fill(syntax.tests_head, name=syn.function_name(syntax, name), title=name.title())
    return SOLUTIONS[spec_name][lang] + "\n" + head


def _python(practice: list[str]) -> dict[str, str]:
    """The Python practice program of each problem, by the problem's name."""
    return {
        spec.name: next(p for p in practice if _file_tail(spec.name, "py") in p) for spec in SPECS
    }


def test_practice_is_deterministic_and_covers_every_problem_in_every_language(
    kb: KnowledgeBase, practice: list[str]
) -> None:
    assert practice == code_practice(kb, kb.seed)
    assert practice != code_practice(kb, kb.seed + 1)  # other examples, same programs
    assert set(SIBLINGS) == {spec.name for spec in SPECS}
    assert len(practice) == len(SPECS) * len(LANGUAGES) == len(set(practice))
    for spec in SPECS:
        for lang in LANGUAGES:
            tail = _file_tail(spec.name, lang)
            assert sum(tail in p for p in practice) == 1, (spec.name, lang)
    for program in practice:
        assert ">>> " in program and 100 <= len(program) <= 2500


def test_practice_names_no_facts_and_no_benchmark_function(
    kb: KnowledgeBase, practice: list[str]
) -> None:
    names = {part for g in "ab" for e in kb.entities(g) for part in e.name.split()}
    words = set(re.findall(r"[A-Za-z]+", "\n".join(practice)))
    assert names.isdisjoint(words), names & words
    assert {n.lower() for n in names}.isdisjoint(words)
    prompts = [p.prompt.strip() for p in tiny_code_problems(kb, kb.seed)]
    for spec in SPECS:
        sibling, doc = SIBLINGS[spec.name]
        assert sibling != spec.name and doc != spec.doc
        own = {spec.name, syn.function_name(syn.SYNTAX["java"], spec.name)}
        for program in practice:
            assert not own & set(re.findall(r"\w+", program)), (spec.name, program)
            assert syn.describe(syn.SYNTAX["py"], spec.doc) not in program
    for program in practice:
        assert not any(prompt in program for prompt in prompts)


def test_python_practice_passes_its_own_tests(practice: list[str]) -> None:
    for name, program in _python(practice).items():
        assert program.count("\n    assert candidate(") == CASES, name
        exec(compile(program, f"<practice {name}>", "exec"), {})  # our own rendered program
    # the same file with a wrong body fails its tests
    wrong = _python(practice)["sum_list"].replace(SOLUTIONS["sum_list"]["py"], "    return 0\n")
    with pytest.raises(AssertionError):
        exec(compile(wrong, "<wrong practice>", "exec"), {})


def test_practice_runs_in_every_language_sandbox(practice: list[str]) -> None:
    """`keep_greater`'s sibling (two arguments, a list out) passes in each language's sandbox,
    or that language is reported as unavailable here."""
    programs = {
        lang: next(p for p in practice if _file_tail("keep_greater", lang) in p)
        for lang in LANGUAGES
    }
    with ThreadPoolExecutor(3) as pool:
        results = pool.map(lambda lp: (lp[0], run_program(*lp, timeout_s=30)), programs.items())
        for lang, result in results:
            why = unavailable(lang)
            if why is not None:
                assert result.status == "no_toolchain" and why in result.stderr_tail, lang
            else:
                assert result.status == "passed", (lang, result.stderr_tail)


def test_code_domain_practises_every_sibling_but_never_a_benchmark_prompt(
    kb: KnowledgeBase, corpora: Corpora, practice: list[str]
) -> None:
    code = "\x00".join(d for s in corpora["code"].values() for d in s)
    assert sum(program in code for program in practice) > 0.8 * len(practice)
    every = "\x00".join(d for splits in corpora.values() for s in splits.values() for d in s)
    for problem in tiny_code_problems(kb, kb.seed):
        assert problem.prompt.strip() not in every, (problem.name, problem.language)
