"""MultiPL-E: complete each problem with a causal LM, run it in the sandbox, report pass@k.

Conventions are bigcode-evaluation-harness's ``multiple`` task: the prompt is fed stripped
(``prompt.strip()``, no chat template, the tokenizer's own special tokens); generation stops on
the language's stop sequences and the completion is cut before the first one; the program run
is ``stripped prompt + completion + "\\n" + tests``, passing when it exits 0 in time; one sample
is greedy, more are drawn at ``temperature`` with top-p 0.95 (bigcode's defaults); pass@k is
the unbiased estimator for every k in (1, 10, 100) up to the samples per problem. A prompt
longer than the model's context less ``max_new_tokens`` keeps its last tokens (lm-eval's rule;
the sample records it). Compiles and runs overlap with generation in a thread pool.

Outputs under ``out_dir``: ``results.json`` (per language pass@k, samples per problem and
problems and the sandbox's ``isolation`` that held for every sample, or ``{"missing": binary,
"reason": ...}`` where the toolchain is absent: such a language is never scored, never 0),
``results.md`` (marking a language scored without full isolation) and ``samples_<lang>.jsonl``
(every completion with its status, stderr tail and isolation). A language whose samples file
already holds every sample of the same run (model, settings and problems) is read back, not
recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from tqdm import tqdm
from transformers import (
    PreTrainedModel,
    PreTrainedTokenizerBase,
    set_seed,
)

from configs.errors import SuiteError
from evaluation.code.languages import LANGUAGES, get_language, missing_toolchain
from evaluation.code.passk import mean_pass_at_k
from evaluation.code.problems import CodeProblem
from evaluation.code.sandbox import ISOLATION
from evaluation.code.verdicts import run_once
from evaluation.outputs import write_text
from fusion.models import check_model, context_length, load_causal_lm

KS = (1, 10, 100)  # bigcode reports pass@k for these k, where k <= samples
TOP_P = 0.95  # bigcode-evaluation-harness's default for sampled runs
SEED = 0  # bigcode's default seed, set before each language so languages are independent
RUN_TIMEOUT_S = 15.0  # per run step, as MultiPL-E's evaluators allow
STDERR_CHARS = 600  # stderr kept per sample
WORKERS = max(1, min(16, (os.cpu_count() or 2) - 1))  # bigcode runs cpu_count - 1 at once


@dataclass(frozen=True)
class Settings:
    """How completions are generated (part of the run fingerprint)."""

    samples: int
    temperature: float
    max_new_tokens: int
    batch_size: int
    dtype: str
    top_p: float = TOP_P


def first_stop(text: str, stops: tuple[str, ...]) -> str:
    """``text`` up to the earliest occurrence of any stop sequence (bigcode's truncation)."""
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=len(text))
    return text[:cut]


def missing_reason(binary: str) -> str:
    return f"no {binary} toolchain: run `make toolchains-install` (or install it)"


def _load(
    model_path: str, device: str, dtype: str
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Model and left-padding tokenizer; a checkpoint that cannot load is one line."""
    check_model(model_path)
    tokenizer, model = load_causal_lm(model_path, dtype, device)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    return model, tokenizer


@torch.no_grad()
def generate(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: list[str],
    stops: tuple[str, ...],
    s: Settings,
    room: int | None,
) -> list[tuple[str, bool]]:
    """(completion cut at the first stop, whether the prompt lost tokens) per prompt.

    The completion is the decoded sequence minus the decoded prompt, so tokenizers that
    merge or drop a leading space at the boundary cannot shift it.
    """
    encoded = [tokenizer(p, return_token_type_ids=False)["input_ids"] for p in prompts]
    kept = [ids[-room:] if room else ids for ids in encoded]
    batch = tokenizer.pad({"input_ids": kept}, return_tensors="pt").to(model.device)
    sampling = {"do_sample": False}
    if s.samples > 1:
        sampling = {"do_sample": True, "temperature": s.temperature, "top_p": s.top_p}
    out = model.generate(
        **batch,
        max_new_tokens=s.max_new_tokens,
        stop_strings=list(stops) or None,
        tokenizer=tokenizer,
        pad_token_id=tokenizer.pad_token_id,
        **sampling,
    )
    width = batch["input_ids"].shape[1]
    results = []
    for ids, row, full in zip(kept, out[:, width:].tolist(), encoded, strict=True):
        head = tokenizer.decode(ids, skip_special_tokens=True)
        text = tokenizer.decode(ids + row, skip_special_tokens=True)
        if text.startswith(head):
            tail = text[len(head) :]
        else:
            tail = tokenizer.decode(row, skip_special_tokens=True)
        results.append((first_stop(tail, stops), len(ids) < len(full)))
    return results


def execute(
    problem: CodeProblem, sample: int, completion: str, truncated: bool, cache: Path | None = None
) -> dict:
    """Run one completion as bigcode does (stripped prompt + completion + tests); a program
    another model already wrote takes its verdict from ``cache`` (`evaluation.code.verdicts`)."""
    fed = replace(problem, prompt=problem.prompt.strip())
    result = run_once(problem.language, fed.program(completion), RUN_TIMEOUT_S, cache)
    return {
        "problem": problem.name,
        "sample": sample,
        "completion": completion,
        "status": result["status"],
        "exit_code": result["exit_code"],
        "stderr_tail": result["stderr_tail"][-STDERR_CHARS:],
        "seconds": round(result["seconds"], 3),
        "cached": result["cached"],
        "prompt_truncated": truncated,
        "isolation": result["isolation"],
    }


def fingerprint(model_path: str, settings: Settings, problems: list[CodeProblem]) -> str:
    """Identifies one language's run: the checkpoint (path and save time), settings, items."""
    config = Path(model_path) / "config.json"
    saved = config.stat().st_mtime_ns if config.is_file() else None
    items = [(p.name, p.prompt, p.tests, p.stop_sequences) for p in problems]
    blob = json.dumps([model_path, saved, asdict(settings), items], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _finished(path: Path, run: str, expected: set[tuple[str, int]]) -> list[dict] | None:
    """The rows of a complete samples file of this very run, else None.

    Rows written before samples recorded their isolation count as not done.
    """
    if not path.is_file():
        return None
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    done = {(r["problem"], r["sample"]) for r in rows if r.get("run") == run and "isolation" in r}
    return rows if done == expected and len(rows) == len(expected) else None


def score(rows: list[dict], samples: int) -> dict:
    """pass@k over problems, with the counts that explain it."""
    per_problem: dict[str, list[int]] = {}
    for row in rows:
        counts = per_problem.setdefault(row["problem"], [0, 0])
        counts[0] += 1
        counts[1] += row["status"] == "passed"
    pairs = [(n, c) for n, c in per_problem.values()]
    entry: dict = {f"pass@{k}": mean_pass_at_k(pairs, k) for k in KS if k <= samples}
    entry |= {"n": samples, "problems": len(per_problem)}
    return entry | {"statuses": dict(Counter(row["status"] for row in rows))}


def held_by_all(rows: list[dict]) -> dict[str, bool]:
    """Each isolation property (network, filesystem, uid): True only if every sample had it."""
    return {key: all(row["isolation"][key] for row in rows) for key in ISOLATION}


def isolation_note(held: dict[str, bool]) -> str:
    """Empty under full isolation, else the properties some sample did not have."""
    lacking = [key for key in ISOLATION if not held.get(key, False)]
    return f"not isolated: {', '.join(lacking)}" if lacking else ""


def _run_language(
    lang: str,
    problems: list[CodeProblem],
    loaded: tuple[PreTrainedModel, PreTrainedTokenizerBase],
    s: Settings,
    room: int | None,
    pool: ThreadPoolExecutor,
    run: str,
    cache: Path | None,
) -> list[dict]:
    """Generate and execute every sample of one language; rows in problem, sample order."""
    set_seed(SEED)
    jobs = [(p, i) for p in problems for i in range(s.samples)]
    futures: list[Future] = []
    with tqdm(total=len(jobs), desc=f"MultiPL-E {lang}", unit="sample") as bar:
        for batch in _batches(jobs, s.batch_size):
            prompts = [p.prompt.strip() for p, _ in batch]
            stops = tuple(dict.fromkeys(stop for p, _ in batch for stop in p.stop_sequences))
            done = generate(*loaded, prompts, stops, s, room)
            for (problem, i), (completion, cut) in zip(batch, done, strict=True):
                futures.append(pool.submit(execute, problem, i, completion, cut, cache))
                futures[-1].add_done_callback(lambda _: bar.update())
        return [f.result() | {"run": run} for f in futures]


def _by_language(problems: list[CodeProblem], limit: int | None) -> dict[str, list[CodeProblem]]:
    """Problems per language in LANGUAGES order, the first ``limit`` of each."""
    grouped: dict[str, list[CodeProblem]] = {}
    for problem in problems:
        get_language(problem.language)  # an unknown language is one line naming the known ones
        grouped.setdefault(problem.language, []).append(problem)
    return {lang: grouped[lang][:limit] for lang in LANGUAGES if lang in grouped}


def run_multiple(
    model_path: str,
    problems: list[CodeProblem],
    out_dir: Path,
    *,
    samples: int = 1,
    temperature: float = 0.0,
    max_new_tokens: int = 128,
    batch_size: int = 8,
    device: str = "cpu",
    dtype: str = "float32",
    limit: int | None = None,
    cache: Path | None = None,
) -> dict:
    """Generate, execute and score every language of ``problems``; return results.json.
    ``cache``: a directory of sandbox verdicts shared with other models' runs."""
    if samples > 1 and temperature <= 0:
        raise SuiteError("MultiPL-E with more than one sample needs a temperature > 0")
    s = Settings(samples, temperature, max_new_tokens, batch_size, dtype)
    out_dir.mkdir(parents=True, exist_ok=True)
    languages = _by_language(problems, limit)
    results: dict[str, dict] = {}
    loaded, room = None, None
    with ThreadPoolExecutor(WORKERS) as pool:
        for lang, items in languages.items():
            binary = missing_toolchain(lang)
            if binary is not None:
                results[lang] = {"missing": binary, "reason": missing_reason(binary)}
                continue
            path, run = out_dir / f"samples_{lang}.jsonl", fingerprint(model_path, s, items)
            expected = {(p.name, i) for p in items for i in range(samples)}
            rows = _finished(path, run, expected)
            if rows is None:
                if loaded is None:
                    loaded = _load(model_path, device, dtype)
                    room = _room(model_path, max_new_tokens)
                rows = _run_language(lang, items, loaded, s, room, pool, run, cache)
                write_text(path, "".join(json.dumps(r) + "\n" for r in rows))
            results[lang] = _language_result(rows, samples)
    summary = {
        "results": results,
        "missing_toolchain": {k: v["missing"] for k, v in results.items() if "missing" in v},
        "config": {"model": model_path, "limit": limit, **asdict(s), "seed": SEED},
    }
    write_text(out_dir / "results.json", json.dumps(summary, indent=2))
    write_text(out_dir / "results.md", results_table(results))
    return summary


def _room(model_path: str, max_new_tokens: int) -> int | None:
    """Prompt tokens that fit beside ``max_new_tokens`` in the model's context (None: any)."""
    context = context_length(model_path)
    if context is None:
        return None
    if context <= max_new_tokens:
        raise SuiteError(
            f"max_new_tokens={max_new_tokens} fills the model's {context}-token context: "
            "lower evaluation.multiple_max_new_tokens"
        )
    return context - max_new_tokens


def _language_result(rows: list[dict], samples: int) -> dict:
    """A language's score and the isolation every sample had, or missing when its toolchain
    failed under the sandbox."""
    absent = [r for r in rows if r["status"] == "no_toolchain"]
    if absent:
        note = absent[0]["stderr_tail"].strip()
        return {"missing": note.removeprefix("missing toolchain: "), "reason": note}
    return score(rows, samples) | {"isolation": held_by_all(rows)}


def results_table(results: dict[str, dict]) -> str:
    """A markdown table: pass@k per language, or why a language was not scored; a language
    scored without full isolation says which property was lacking."""
    lines = ["| language | pass@1 | samples | problems | note |", "|---|---|---|---|---|"]
    for lang, entry in results.items():
        name = LANGUAGES[lang].display
        if "missing" in entry:
            lines.append(f"| {name} | - | - | - | {entry['reason']} |")
        else:
            row = f"| {name} | {entry['pass@1']:.4f} | {entry['n']} | {entry['problems']} |"
            note = isolation_note(entry["isolation"])
            lines.append(row + f" {entry['statuses']}{'; ' + note if note else ''} |")
    return "\n".join(lines) + "\n"
