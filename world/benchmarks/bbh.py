"""The 27 BBH analogues: one draw per BBH subtask, and their 3-shot chain-of-thought docs.

As in lm-eval's `bbh_cot_fewshot`, few-shot docs carry the worked rationale ending in
"So the answer is X." as their target, test docs carry the bare answer, and the `get-answer`
filter pulls X out of a generation.
"""

from __future__ import annotations

import re

from evaluation.tasks.docs import Doc
from world.benchmarks import bbh_arrangements as arr
from world.benchmarks import bbh_language as lang
from world.benchmarks import bbh_symbolic as sym
from world.benchmarks.common import PuzzleDraw, distinct, stream
from world.knowledge import GROUPS, KnowledgeBase

# name -> (task description shown before the shots, draw); keys are BBH's subtask names.
BBH_TASKS: dict[str, tuple[str, PuzzleDraw]] = {
    "boolean_expressions": (
        "Evaluate the result of a random Boolean expression.",
        sym.boolean_expressions,
    ),
    "causal_judgement": ("Answer questions about causal attribution.", lang.causal_judgement),
    "date_understanding": ("Infer the date from context.", sym.date_understanding),
    "disambiguation_qa": (
        "Clarify the meaning of sentences with ambiguous pronouns.",
        lang.disambiguation_qa,
    ),
    "dyck_languages": ("Correctly close a Dyck-n word.", sym.dyck_languages),
    "formal_fallacies": (
        "Distinguish deductively valid arguments from formal fallacies.",
        lang.formal_fallacies,
    ),
    "geometric_shapes": ("Name geometric shapes from their SVG paths.", sym.geometric_shapes),
    "hyperbaton": (
        "Order adjectives correctly in English sentences.",
        lang.hyperbaton,
    ),
    "logical_deduction_five_objects": (
        "A logical deduction task which requires deducing the order of a sequence of objects.",
        arr.logical_deduction(5),
    ),
    "logical_deduction_seven_objects": (
        "A logical deduction task which requires deducing the order of a sequence of objects.",
        arr.logical_deduction(7),
    ),
    "logical_deduction_three_objects": (
        "A logical deduction task which requires deducing the order of a sequence of objects.",
        arr.logical_deduction(3),
    ),
    "movie_recommendation": (
        "Recommend objects similar to the given list of objects.",
        lang.movie_recommendation,
    ),
    "multistep_arithmetic_two": (
        "Solve multi-step arithmetic problems.",
        sym.multistep_arithmetic_two,
    ),
    "navigate": (
        "Given a series of navigation instructions, determine whether one would end up back at "
        "the starting point.",
        sym.navigate,
    ),
    "object_counting": ("Questions that involve enumerating objects.", arr.object_counting),
    "penguins_in_a_table": ("Answer questions about a table of people.", arr.penguins_in_a_table),
    "reasoning_about_colored_objects": (
        "Answer extremely simple questions about the colors of objects on a surface.",
        arr.reasoning_about_colored_objects,
    ),
    "ruin_names": ("Select the humorous edit that 'ruins' the input name.", lang.ruin_names),
    "salient_translation_error_detection": (
        "Detect the type of error in an English translation of a Velan source sentence.",
        lang.salient_translation_error_detection,
    ),
    "snarks": (
        "Determine which of two sentences is sarcastic.",
        lang.snarks,
    ),
    "sports_understanding": (
        "Determine whether an artificially constructed sentence relating to a person's work is "
        "plausible or not.",
        lang.sports_understanding,
    ),
    "temporal_sequences": (
        "Answer questions about which times certain events could have occurred.",
        arr.temporal_sequences,
    ),
    "tracking_shuffled_objects_five_objects": (
        "A task requiring determining the final positions of a set of objects given their "
        "initial positions and a description of a sequence of swaps.",
        arr.tracking_shuffled_objects(5),
    ),
    "tracking_shuffled_objects_seven_objects": (
        "A task requiring determining the final positions of a set of objects given their "
        "initial positions and a description of a sequence of swaps.",
        arr.tracking_shuffled_objects(7),
    ),
    "tracking_shuffled_objects_three_objects": (
        "A task requiring determining the final positions of a set of objects given their "
        "initial positions and a description of a sequence of swaps.",
        arr.tracking_shuffled_objects(3),
    ),
    "web_of_lies": (
        "Evaluate a random boolean function expressed as a word problem.",
        sym.web_of_lies,
    ),
    "word_sorting": ("Sort a list of words.", sym.word_sorting),
}


BBH_SIZE = 30  # test items per BBH task (plus its shots)


def worked(rationale: str, answer: str) -> str:
    """A worked solution as BBH's few-shot targets end: "... So the answer is X."."""
    return f"{rationale} So the answer is {answer}."


def bbh_docs(
    kb: KnowledgeBase, seed: int, name: str, n: int, shots: int = 3
) -> dict[str, list[Doc]]:
    """`shots` worked few-shot docs and up to `n` test docs of one subtask, all distinct.

    Returns:
        ``{"fewshot": [{"input", "target": rationale + answer}], "test": [{"input", "target"}]}``.
    """
    rng = stream(seed, f"bbh:{name}")
    draw = BBH_TASKS[name][1]

    def doc() -> Doc | None:
        puzzle = draw(kb, rng)
        if puzzle is None:
            return None
        text, why, answer = puzzle
        return {"input": text, "target": answer, "rationale": why}

    docs = distinct(doc, n + shots, key="input")
    fewshot = [
        {"input": d["input"], "target": worked(d["rationale"], d["target"])} for d in docs[:shots]
    ]
    test = [{"input": d["input"], "target": d["target"]} for d in docs[shots:]]
    return {"fewshot": fewshot, "test": test}


def _private(kb: KnowledgeBase) -> tuple[set[str], list[str]]:
    """What a practice example must not contain: the name parts of every facts entity (the
    logic domain is a source's and the target's, never a facts partition) and the text of
    every held-out translation or program (other benchmarks' items)."""
    names = {part for group in GROUPS for e in kb.entities(group) for part in e.name.split()}
    held = [t.english for t in kb.translations if t.heldout]
    held += [p.name for p in kb.programs if p.heldout]
    return names, held


def bbh_practice(kb: KnowledgeBase, seed: int, per_task: int) -> list[str]:
    """Worked examples of the BBH analogues, in the shape lm-eval's `bbh_cot_fewshot` prompts
    (``Q: ...`` / ``A: Let's think step by step.`` / the worked answer), for the logic corpus:
    the skill and its answer format are taught, as a web corpus teaches a 7B model, while no
    test item or shot of `bbh_docs` (its first `BBH_SIZE`) is ever among them, nor any facts
    entity or held-out instance (`_private`): an analogue built on those (the penguins' table
    lists facts animals) gets fewer examples or none. Drawn from each task's own stream, so
    the items never shift."""
    names, held = _private(kb)
    texts = []
    for name, (_, draw) in BBH_TASKS.items():
        taken = bbh_docs(kb, seed, name, BBH_SIZE)
        seen = {d["input"] for docs in taken.values() for d in docs}
        rng = stream(seed, f"bbh-practice:{name}")
        found = 0
        for _ in range(40 * per_task):
            puzzle = draw(kb, rng)
            if puzzle is None or puzzle[0] in seen:
                continue
            seen.add(puzzle[0])
            text = f"Q: {puzzle[0]}\nA: Let's think step by step.\n{worked(*puzzle[1:])}"
            if set(re.findall(r"[A-Z][a-z]+", text)) & names or any(h in text for h in held):
                continue
            texts.append(text)
            found += 1
            if found == per_task:
                break
    return texts
