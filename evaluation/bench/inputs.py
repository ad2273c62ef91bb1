"""The eval benchmark's inputs, built in-process with no download: a random-init Llama with its
own tokenizer, and tiny lm-eval tasks in the suite's own shapes.

Evaluation never imports the tiny world, so the items are drawn here from a few word lists;
their prompts, answer fields, shots, filters and metrics are `evaluation.tasks.tiny`'s and
`evaluation.tasks.writer`'s, so lm-eval runs exactly the request types `make eval` runs
(multiple-choice loglikelihood, 3-shot chain-of-thought generation).
"""

from __future__ import annotations

import random
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from evaluation.tasks.docs import Doc, letter, options
from evaluation.tasks.tiny import TASK_BODIES
from evaluation.tasks.writer import write_bbh, write_task
from fusion.bench import tiny_target

VERSION = 1  # of the bench's tasks; they are never mixed with a world's
COMMONSENSE = (
    "tiny_arc_easy",
    "tiny_arc_challenge",
    "tiny_boolq",
    "tiny_hellaswag",
    "tiny_openbookqa",
)
BBH = "tiny_bbh_bench"  # one chain-of-thought subtask
END = "<|endoftext|>"

_NAMES = ["Ada", "Bram", "Cleo", "Dov", "Edda", "Finn", "Gus", "Hana", "Ivo", "Juno", "Kai"]
_THINGS = ["lamp", "kettle", "boat", "drum", "coat", "map", "bell", "rope", "jar", "kite"]
_COLOURS = ["red", "blue", "green", "amber", "grey", "white", "black", "violet"]
_PLACES = ["Velmora", "Ostrik", "Tanvale", "Brisk", "Corran", "Dunmere", "Elsk", "Farrow"]


def _fact(rng: random.Random) -> tuple[str, str, str, str]:
    return rng.choice(_NAMES), rng.choice(_THINGS), rng.choice(_COLOURS), rng.choice(_PLACES)


def sentences(seed: int, n: int) -> list[str]:
    """``n`` short generated statements: the tokenizer's training text."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        name, thing, colour, place = _fact(rng)
        out.append(f"{name} keeps the {colour} {thing} in {place}. Is it {colour}? Yes.")
    return out


def build_checkpoint(out: Path, seed: int = 0, vocab: int = 600) -> Path:
    """A byte-level BPE tokenizer and a random-init model of the tiny target's build
    (configs/tiny.yaml), saved together as a checkpoint directory."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab,
        special_tokens=[END],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(sentences(seed, 400), trainer=trainer)
    roles = ("bos_token", "eos_token", "unk_token", "pad_token")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, **dict.fromkeys(roles, END))
    ids = {
        f"{r}_id": getattr(tokenizer, f"{r}_id") for r in ("bos_token", "eos_token", "pad_token")
    }
    tiny_target(len(tokenizer), ids, seed).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def _choice_doc(rng: random.Random, pool: list[str], answer: str) -> tuple[list[str], int]:
    """Four distinct choices holding ``answer``, shuffled; the gold index."""
    choices = [answer, *rng.sample([w for w in pool if w != answer], 3)]
    rng.shuffle(choices)
    return choices, choices.index(answer)


def commonsense_doc(task: str, rng: random.Random) -> Doc:
    """One item in the fields `TASK_BODIES[task]` reads."""
    name, thing, colour, place = _fact(rng)
    if task == "tiny_boolq":
        asked = rng.choice(_PLACES)
        passage = f"{name} keeps the {thing} in {place}."
        question = f"does {name} keep the {thing} in {asked}"
        return {"passage": passage, "question": question, "label": int(asked == place)}
    if task == "tiny_hellaswag":
        endings, label = _choice_doc(rng, _PLACES, place)
        query = f"{name} took the {colour} {thing} and carried it to"
        return {"query": query, "choices": [f" {e}." for e in endings], "label": label}
    if task == "tiny_openbookqa":
        choices, label = _choice_doc(rng, _COLOURS, colour)
        return {"question_stem": f"The {thing} of {name} is", "choices": choices, "label": label}
    choices, label = _choice_doc(rng, _PLACES, place)
    hops = "" if task == "tiny_arc_easy" else f" {colour}"
    return {
        "question": f"Where does {name} keep the{hops} {thing}",
        "choices": choices,
        "label": label,
    }


def bbh_doc(rng: random.Random, shot: bool) -> Doc:
    """A two-option BBH-shaped question; a shot's target carries a rationale, as BBH's CoT."""
    name, thing, colour, place = _fact(rng)
    asked = rng.choice(_COLOURS)
    answer = letter(0 if asked == colour else 1)
    text = f"{name} keeps the {colour} {thing} in {place}. Is the {thing} {asked}?\n"
    doc = {"input": text + options(["Yes", "No"]), "target": answer}
    if shot:
        doc["target"] = f"The {thing} is {colour}. So the answer is {answer}."
    return doc


def write_tasks(out: Path, items: int, seed: int = 0) -> None:
    """The five CommonSense tasks and one BBH subtask (with its group) into ``out``, each with
    ``items`` test items."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for task in COMMONSENSE:
        docs = [commonsense_doc(task, rng) for _ in range(items)]
        write_task(out, out, task, TASK_BODIES[task], {"test": docs}, VERSION)
    shots = [bbh_doc(rng, shot=True) for _ in range(3)]
    test = [bbh_doc(rng, shot=False) for _ in range(items)]
    description = "Answer questions about who keeps what where."
    write_bbh(out, out, {BBH: (description, {"train": shots, "test": test})}, "bench_bbh", VERSION)
