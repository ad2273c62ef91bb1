"""lm-eval hooks of the tiny tasks: DROP's EM/F1 and SciBench's tolerant numeric accuracy.

`generate_tasks` copies this file beside the task YAMLs (as lm-eval's `tasks/<name>/utils.py`),
where `process_results: !function utils.process_drop` finds it; it imports nothing from the
suite so the task directory stays usable on its own (`lm_eval --include_path ...`).
"""

from __future__ import annotations

import re
import string
from collections import Counter

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
SCIBENCH_TOLERANCE = 0.05  # relative, as SciBench scores numeric answers


def _tokens(text: str) -> list[str]:
    """DROP's normalisation: lower case, no punctuation or articles, numbers as floats."""
    text = _ARTICLES.sub(" ", text.lower())
    text = "".join(ch for ch in text if ch not in string.punctuation or ch == ".")
    out = []
    for token in text.split():
        token = token.strip(".")
        try:
            out.append(str(float(token)))
        except ValueError:
            out.append(token)
    return [t for t in out if t]


def _f1(prediction: list[str], gold: list[str]) -> float:
    common = sum((Counter(prediction) & Counter(gold)).values())
    if not common:
        return 0.0
    precision, recall = common / len(prediction), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def process_drop(doc: dict, results: list[str]) -> dict[str, float]:
    """Exact match and bag-of-words F1 against the best-matching gold answer."""
    prediction = _tokens(results[0])
    golds = [_tokens(answer) for answer in doc["answers"]]
    em = max(float(prediction == gold) for gold in golds)
    return {"em": em, "f1": max(_f1(prediction, gold) for gold in golds)}


def process_scibench(doc: dict, results: list[str]) -> dict[str, float]:
    """1 when the first number generated is within 5% of the answer (exact for 0)."""
    found = _NUMBER.search(results[0].replace(",", ""))
    if found is None:
        return {"acc": 0.0}
    gold, value = float(doc["answer"]), float(found.group())
    return {"acc": float(abs(value - gold) <= SCIBENCH_TOLERANCE * abs(gold))}
