"""Apply a merge method to whole checkpoints, one parameter tensor at a time.

Checkpoints are read lazily with ``safetensors.safe_open``: each input contributes one tensor
at a time, so the peak is the merged model held for saving (one model's size) plus one tensor
per input and its float32 temporaries. The result is written to a temporary sibling directory
and renamed into place only when complete, so ``out`` is either absent or a whole model.
"""

from __future__ import annotations

import difflib
import inspect
import json
import shutil
import uuid
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor
from transformers import AutoConfig, AutoTokenizer, PretrainedConfig, PreTrainedTokenizerBase

from configs.errors import SuiteError
from fusion.merge import MergeFn, get_method, schedule
from fusion.merge.schedule import per_model_names

Shapes = Mapping[str, tuple[int, ...]]


def check_params(fn: MergeFn, params: Mapping[str, Any]) -> None:
    """Refuse keywords ``fn`` does not take, and missing required ones, before any work.

    Args:
        fn: a merge method (or a ``functools.partial`` of one).
        params: the keyword arguments the user gave (``base`` and tensors excluded);
            ``lambda`` stands for the keyword ``lambda_``.
    """
    accepted = {
        _user_name(name): p
        for name, p in inspect.signature(fn).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    for name in map(_user_name, params):
        if name not in accepted:
            near = difflib.get_close_matches(name, accepted, n=1)
            hint = f"did you mean '{near[0]}'? " if near else ""
            valid = ", ".join(accepted) or "none"
            raise SuiteError(f"unknown merge parameter '{name}': {hint}(accepted: {valid})")
    given = set(map(_user_name, params))
    missing = [n for n, p in accepted.items() if p.default is p.empty and n not in given]
    if missing:
        raise SuiteError(f"missing merge parameter '{missing[0]}': set it, e.g. {missing[0]}=0.5")


def _user_name(keyword: str) -> str:
    """``lambda_`` (a Python keyword needs the underscore) is ``lambda`` to users."""
    return "lambda" if keyword == "lambda_" else keyword


def _keywords(params: Mapping[str, Any]) -> dict[str, Any]:
    return {("lambda_" if k == "lambda" else k): v for k, v in params.items()}


def _check_base(fn: MergeFn, has_base: bool) -> None:
    """Task-vector methods need the base model; the others must not silently ignore one."""
    wants = "base" in inspect.signature(fn).parameters
    if wants and not has_base:
        raise SuiteError("this merge method works on task vectors: give the base model (--base)")
    if has_base and not wants:
        raise SuiteError("this merge method takes no base model: drop --base")


def check_vocabularies(names: Sequence[str], vocabs: Sequence[Mapping[str, int]]) -> None:
    """Refuse tokenizers whose token -> id maps differ (ids must mean the same token)."""
    for name, vocab in zip(names[1:], vocabs[1:], strict=True):
        if vocab != vocabs[0]:
            differ = sorted(t for t in vocab.keys() | vocabs[0] if vocab.get(t) != vocabs[0].get(t))
            raise SuiteError(
                f"{name} and {names[0]} have different tokenizer vocabularies ({len(vocab)} vs "
                f"{len(vocabs[0])} tokens, e.g. {differ[0]!r}): they need one shared tokenizer"
            )


def check_compatible(
    names: Sequence[str],
    configs: Sequence[PretrainedConfig],
    shapes: Sequence[Shapes],
    vocabs: Sequence[Mapping[str, int]],
) -> None:
    """Refuse, in one line, models that cannot be merged parameter by parameter.

    Args:
        names: how each model is shown in errors (its path).
        configs: each model's config; ``model_type`` and ``architectures`` must agree.
        shapes: each model's parameter name -> shape; names and shapes must agree.
        vocabs: each model's tokenizer vocabulary (token -> id); must be identical.
    """
    ref, ref_arch = names[0], _architecture(configs[0])
    for name, config, shape in zip(names[1:], configs[1:], shapes[1:], strict=True):
        if _architecture(config) != ref_arch:
            raise SuiteError(
                f"cannot merge {name} ({_architecture(config)}) with {ref} ({ref_arch}): "
                "weight merging needs one architecture"
            )
        if shape.keys() != shapes[0].keys():
            only = sorted(shape.keys() ^ shapes[0].keys())
            raise SuiteError(f"cannot merge {name} with {ref}: parameter names differ ({only[0]})")
        for key, dims in shapes[0].items():
            if shape[key] != dims:
                raise SuiteError(
                    f"cannot merge {name} with {ref}: {key} is {list(shape[key])} vs {list(dims)}"
                )
    check_vocabularies(names, vocabs)


def _architecture(config: PretrainedConfig) -> str:
    return f"{config.model_type} {config.architectures}"


def merge_state_dicts(
    fn: MergeFn,
    state_dicts: Sequence[Mapping[str, Tensor]],
    base: Mapping[str, Tensor] | None,
    params: Mapping[str, Any],
) -> Iterator[tuple[str, Tensor]]:
    """Merge the models key by key, checking ``params`` and ``base`` before the first key.

    Float tensors go through ``fn``; others (integer buffers, masks) are copied from the
    first model. A method taking ``seed`` gets one derived from ``(seed, key)``, so each
    tensor draws its own random mask and the result does not depend on key order. Parameter
    values may be per-layer gradients or per-tensor conditions (:mod:`fusion.merge.schedule`).

    Args:
        fn: a merge method from :data:`fusion.merge.MERGE_METHODS`.
        state_dicts: the models' name -> tensor maps (may be lazy); all with the same names.
        base: the base model's tensors, for task-vector methods; else ``None``.
        params: keyword arguments for ``fn``.

    Returns:
        An iterator of ``(name, merged tensor)`` in the first model's key order.
    """
    check_params(fn, params)
    _check_base(fn, base is not None)
    params = _keywords(params)
    per_model = per_model_names(fn)
    for name, value in params.items():
        schedule.check(_user_name(name), value, name in per_model, len(state_dicts))
    for other in [*state_dicts[1:], *([base] if base is not None else [])]:
        if other.keys() != state_dicts[0].keys():
            only = sorted(other.keys() ^ state_dicts[0].keys())
            raise SuiteError(f"cannot merge: parameter names differ between models ({only[0]})")
    return _merge_keys(fn, state_dicts, base, params)


def _merge_keys(
    fn: MergeFn,
    state_dicts: Sequence[Mapping[str, Tensor]],
    base: Mapping[str, Tensor] | None,
    params: Mapping[str, Any],
) -> Iterator[tuple[str, Tensor]]:
    seed = inspect.signature(fn).parameters.get("seed")
    per_model = per_model_names(fn)
    places = schedule.positions(state_dicts[0])
    for key in state_dicts[0]:
        first = state_dicts[0][key]
        if not first.is_floating_point():
            yield key, first
            continue
        kwargs = schedule.resolve(params, per_model, key, places[key])
        if base is not None:
            kwargs["base"] = base[key]
        if seed is not None:
            kwargs["seed"] = zlib.crc32(f"{params.get('seed', seed.default)}:{key}".encode())
        tensors = [first, *(sd[key] for sd in state_dicts[1:])]
        yield key, fn(tensors, **kwargs).contiguous()


class _Checkpoint(Mapping[str, Tensor]):
    """A checkpoint directory's tensors (single or sharded safetensors), read on access."""

    def __init__(self, path: Path, stack: ExitStack) -> None:
        index = path / "model.safetensors.index.json"
        if index.is_file():
            files = {k: path / f for k, f in json.loads(index.read_text())["weight_map"].items()}
        elif (path / "model.safetensors").is_file():
            with safe_open(path / "model.safetensors", framework="pt") as handle:
                files = dict.fromkeys(handle.keys(), path / "model.safetensors")
        else:
            raise SuiteError(f"{path} has no model.safetensors: re-save it with save_pretrained")
        handles = {
            f: stack.enter_context(safe_open(f, framework="pt")) for f in set(files.values())
        }
        self._handles = {key: handles[f] for key, f in files.items()}

    def __getitem__(self, key: str) -> Tensor:
        return self._handles[key].get_tensor(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._handles)

    def __len__(self) -> int:
        return len(self._handles)

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Name -> shape, from the headers only."""
        return {k: tuple(h.get_slice(k).get_shape()) for k, h in self._handles.items()}


def _load(path: str) -> tuple[PretrainedConfig, PreTrainedTokenizerBase]:
    """A local model directory's config and tokenizer, or one line saying what is missing."""
    if not (Path(path) / "config.json").is_file():
        raise SuiteError(f"{path} is not a saved model directory (no config.json)")
    if not (Path(path) / "tokenizer_config.json").is_file():
        raise SuiteError(f"{path} has no tokenizer: save it beside the model (save_pretrained)")
    return AutoConfig.from_pretrained(path), AutoTokenizer.from_pretrained(path)


def merge_checkpoints(
    paths: Sequence[str],
    out: str,
    method: str,
    params: Mapping[str, Any],
    base: str | None = None,
    weights: Sequence[float] | None = None,
) -> None:
    """Merge saved models into ``out``, loadable with ``AutoModelForCausalLM``.

    Tied weights stay tied: ``save_pretrained`` stores a tied tensor once, the merge sees
    that one name, and the copied config re-ties it on load. Config, tokenizer and
    ``generation_config.json`` come from the first model.

    Args:
        paths: model directories (safetensors), same architecture and tokenizer.
        out: output directory; must not exist yet.
        method: a key of :data:`fusion.merge.MERGE_METHODS`.
        params: the method's keyword arguments (e.g. ``{"density": 0.5}``), each a value, a
            per-layer gradient or per-tensor conditions (:mod:`fusion.merge.schedule`).
        base: base model directory, required by task-vector methods (ties, dare_*, sce, ...).
        weights: one weight per model in ``paths``, passed to the method as ``weights``.
    """
    fn = get_method(method)
    if weights is not None:
        if len(weights) != len(paths):
            raise SuiteError(f"{len(weights)} weights for {len(paths)} models: give one each")
        params = {**params, "weights": list(weights)}
    check_params(fn, params)
    _check_base(fn, base is not None)
    target = Path(out)
    if target.exists():
        raise SuiteError(f"{out} already exists: remove it or choose another --out")
    sources = [*paths, *([base] if base is not None else [])]
    loaded = [_load(p) for p in sources]
    with ExitStack() as stack:
        ckpts = [_Checkpoint(Path(p), stack) for p in sources]
        vocabs = [tok.get_vocab() for _, tok in loaded]
        check_compatible(sources, [c for c, _ in loaded], [c.shapes() for c in ckpts], vocabs)
        base_ckpt = ckpts[-1] if base is not None else None
        tensors = dict(merge_state_dicts(fn, ckpts[: len(paths)], base_ckpt, params))
    _write(target, tensors, *loaded[0], Path(paths[0]))


def _write(
    out: Path,
    tensors: dict[str, Tensor],
    config: PretrainedConfig,
    tokenizer: PreTrainedTokenizerBase,
    first: Path,
) -> None:
    """Save into a temporary sibling, then rename: ``out`` never holds a partial model."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        save_file(tensors, tmp / "model.safetensors", metadata={"format": "pt"})
        config.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if (first / "generation_config.json").is_file():
            shutil.copy(first / "generation_config.json", tmp)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
