"""BBH's 27 subtasks rebuilt from the BIG-bench task.json files they were drawn from.

BBH (Suzgun et al., 2022) took 23 BIG-bench tasks, split three of them by object count and
rewrote each example into one question with a single short answer: multiple choice becomes an
``Options:`` block with lettered choices and the gold letter (``(B)``), yes/no and valid/invalid
questions list their two answers with dashes, and free answers stay as they are. Each
converter here applies that rewrite to one BIG-bench example, taking the task's own prefix
text from its task.json. Three BBH tasks come from programmatic BIG-bench tasks (no JSON);
`evaluation.real.bbh_rules` generates them by BBH's rule.

Departures, all deliberate: options keep BIG-bench's order except where that order gives the
answer away (date_understanding and temporal_sequences always list the gold first; there the
options are shuffled, seeded); an example with more than one correct option is dropped
(exact match needs one gold letter), after dropping reasoning_about_colored_objects' digit
duplicates of number words ("3" beside "three").
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from evaluation.tasks.docs import Doc, letter, options

Example = dict[str, Any]  # one BIG-bench example: input, target_scores and/or target
Task = dict[str, Any]  # a whole task.json
Convert = Callable[[Task, Example, random.Random], Doc | None]


@dataclass(frozen=True)
class Source:
    """Where a BBH subtask's items live in BIG-bench and how one example is rewritten."""

    path: str  # task directory under bigbench/benchmark_tasks, e.g. "navigate"
    convert: Convert


def _correct(example: Example, keep: Callable[[str], bool] = lambda _: True) -> tuple[list, str]:
    """The kept options and the single correct one ("" when not exactly one is correct)."""
    scores = {k: v for k, v in example["target_scores"].items() if keep(k)}
    best = [k for k, v in scores.items() if v == 1]
    return list(scores), best[0] if len(best) == 1 else ""


def _lettered(question: str, choices: Sequence[str], answer: str) -> Doc | None:
    """``question`` with the lettered options block; the gold is the answer's letter."""
    if answer not in choices:
        return None
    return {"input": f"{question}\n{options(choices)}", "target": letter(choices.index(answer))}


def _dashed(question: str, choices: Sequence[str], answer: str) -> Doc | None:
    """``question`` with BBH's dashed two-answer block; the gold is the answer itself."""
    if answer not in choices:
        return None
    block = "\n".join(f"- {c}" for c in choices)
    return {"input": f"{question}\nOptions:\n{block}", "target": answer}


def _mc(
    question: Callable[[Task, Example], str],
    option: Callable[[str], str] = str,
    keep: Callable[[str], bool] = lambda _: True,
    shuffle: bool = False,
) -> Convert:
    """A lettered multiple-choice converter: question text, option rewrite, option filter."""

    def convert(task: Task, example: Example, rng: random.Random) -> Doc | None:
        keys, answer = _correct(example, keep)
        if not answer:
            return None
        if shuffle:
            rng.shuffle(keys)
        return _lettered(question(task, example), [option(k) for k in keys], option(answer))

    return convert


def _input(_: Task, example: Example) -> str:
    return example["input"].strip()


def _prefixed(separator: str) -> Callable[[Task, Example], str]:
    """The task's prefix and the example's input, joined by ``separator``."""
    return lambda task, example: task["task_prefix"].strip() + separator + example["input"].strip()


def _flattened(task: Task, example: Example) -> str:
    """Prefix and input prefix on one line, as BBH prints penguins and translation errors."""
    prefix = task["task_prefix"] + task.get("example_input_prefix", "")
    return prefix.replace("\n", " ") + example["input"].strip()


def _causal(task: Task, example: Example, _: random.Random) -> Doc | None:
    _, answer = _correct(example)
    return _dashed(_prefixed("\n")(task, example), ("Yes", "No"), answer)


def _dyck(task: Task, example: Example, _: random.Random) -> Doc | None:
    _, answer = _correct(example)
    return {"input": _prefixed(" Input: ")(task, example), "target": answer} if answer else None


def _fallacy(_: Task, example: Example, __: random.Random) -> Doc | None:
    question = "\n".join(line.strip() for line in example["input"].strip().splitlines())
    return _dashed(question, ("valid", "invalid"), _correct(example)[1])


_HYPERBATON = re.compile(r'^(.*?:) a " (.*) " b " (.*) " \?$')


def _hyperbaton(_: Task, example: Example, __: random.Random) -> Doc | None:
    found = _HYPERBATON.match(example["input"].strip())
    _, answer = _correct(example)
    if found is None or answer not in ("a", "b"):
        return None
    question, a, b = found.groups()
    return _lettered(question, [a, b], a if answer == "a" else b)


def _navigate(task: Task, example: Example, _: random.Random) -> Doc | None:
    answer = {"True": "Yes", "False": "No"}.get(_correct(example)[1], "")
    return _dashed(_prefixed(" ")(task, example), ("Yes", "No"), answer)


def _counting(_: Task, example: Example, __: random.Random) -> Doc | None:
    digits = [t for t in example["target"] if t.isdigit()]
    return {"input": example["input"].strip(), "target": digits[0]} if digits else None


_SNARKS = re.compile(r"^(.*?) \(a\) (.*) \(b\) (.*)$", re.DOTALL)


def _snarks(_: Task, example: Example, __: random.Random) -> Doc | None:
    found = _SNARKS.match(example["input"].strip())
    _, answer = _correct(example)
    if found is None or answer not in ("(a)", "(b)"):
        return None
    question, a, b = (part.strip() for part in found.groups())
    return _lettered(question, [a, b], a if answer == "(a)" else b)


def _sports(_: Task, example: Example, __: random.Random) -> Doc | None:
    answer = {"plausible": "yes", "implausible": "no"}.get(_correct(example)[1])
    sentence = example["input"].strip().rstrip(".")
    text = f'Is the following sentence plausible? "{sentence}."'
    return {"input": text, "target": answer} if answer else None


def _lines(_: Task, example: Example) -> str:
    return "\n".join(line.rstrip() for line in example["input"].strip().splitlines())


def _tracking(_: Task, example: Example) -> str:
    return re.sub(r"\s*\n\n", "\n", example["input"].strip())


def _word_sorting(task: Task, example: Example, _: random.Random) -> Doc:
    return {"input": _flattened(task, example), "target": example["target"].strip()}


def _no_period(option: str) -> str:
    return option.strip().rstrip(".")


def _deduction(objects: str) -> Source:
    return Source(f"logical_deduction/{objects}", _mc(_prefixed(" "), _no_period))


def _tracking_objects(objects: str) -> Source:
    return Source(f"tracking_shuffled_objects/{objects}", _mc(_tracking, _no_period))


# BBH subtask -> its BIG-bench source; the three generated ones are in bbh_rules.GENERATED.
SOURCES: dict[str, Source] = {
    "causal_judgement": Source("causal_judgment", _causal),
    "date_understanding": Source("date_understanding", _mc(_input, shuffle=True)),
    "disambiguation_qa": Source(
        "disambiguation_qa",
        _mc(lambda t, e: t["task_prefix"].strip() + t["example_input_prefix"] + e["input"]),
    ),
    "dyck_languages": Source("dyck_languages", _dyck),
    "formal_fallacies": Source("formal_fallacies_syllogisms_negation", _fallacy),
    "geometric_shapes": Source("geometric_shapes", _mc(_input)),
    "hyperbaton": Source("hyperbaton", _hyperbaton),
    "logical_deduction_five_objects": _deduction("five_objects"),
    "logical_deduction_seven_objects": _deduction("seven_objects"),
    "logical_deduction_three_objects": _deduction("three_objects"),
    "movie_recommendation": Source(
        "movie_recommendation",
        _mc(lambda t, e: t["example_input_prefix"].strip() + " " + e["input"].strip()),
    ),
    "navigate": Source("navigate", _navigate),
    "object_counting": Source("object_counting", _counting),
    "penguins_in_a_table": Source("penguins_in_a_table", _mc(_flattened)),
    "reasoning_about_colored_objects": Source(
        "reasoning_about_colored_objects", _mc(_input, keep=lambda k: not k.isdigit())
    ),
    "ruin_names": Source("ruin_names", _mc(_input)),
    "salient_translation_error_detection": Source(
        "salient_translation_error_detection", _mc(_flattened)
    ),
    "snarks": Source("snarks", _snarks),
    "sports_understanding": Source("sports_understanding", _sports),
    "temporal_sequences": Source("temporal_sequences", _mc(_lines, shuffle=True)),
    "tracking_shuffled_objects_five_objects": _tracking_objects("five_objects"),
    "tracking_shuffled_objects_seven_objects": _tracking_objects("seven_objects"),
    "tracking_shuffled_objects_three_objects": _tracking_objects("three_objects"),
    "word_sorting": Source("word_sorting", _word_sorting),
}


def convert_task(sub: str, task: Task, rng: random.Random) -> list[Doc]:
    """Every usable example of a BBH subtask's task.json, rewritten in BBH's format."""
    convert = SOURCES[sub].convert
    docs = (convert(task, example, rng) for example in task.get("examples", []))
    return [doc for doc in docs if doc is not None]


def description(task: Task) -> str:
    """The task's own one-line description, shown before the shots."""
    text = " ".join(str(task.get("description", "")).split())
    return text if text.endswith(".") else f"{text}."
