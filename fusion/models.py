"""The one way a checkpoint is loaded, and the one reading of its context window.

Every stage that touches weights (represent, train, the Pythia experiment, perplexity,
MultiPL-E generation, the harnesses' pre-checks) loads through here, so a bad path or a
tokenizer that does not fit its model fails the same way everywhere: one line naming the fix.
"""

from __future__ import annotations

from pathlib import Path

import torch
from huggingface_hub import snapshot_download
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from configs.errors import SuiteError
from configs.layout import Layout
from configs.schema import ModelSpec
from fusion import attention_mask, real_models
from fusion.gguf import ensure_converted

# Config keys of the context window across architectures (Llama, GPT-NeoX: the first; GPT-2:
# n_positions / n_ctx; MPT: max_seq_len; some remote-code models: seq_length). lm-eval reads
# only the first three and would feed an MPT model prompts longer than its ALiBi table.
CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "n_ctx", "max_seq_len", "seq_length")

attention_mask.install()  # padded batches build their SDPA masks without vmap (same masks)


def context_length(config: PretrainedConfig | str) -> int | None:
    """The longest sequence the model accepts (a config, or a checkpoint path); None if unsaid."""
    if not isinstance(config, PretrainedConfig):
        config = AutoConfig.from_pretrained(config)
    sizes = (getattr(config, key, None) for key in CONTEXT_KEYS)
    return next((size for size in sizes if isinstance(size, int) and size > 0), None)


def is_hub_id(model_path: str) -> bool:
    """``org/name`` (resolved through the Hugging Face cache), not a local path."""
    return model_path.count("/") == 1 and not model_path.startswith((".", "/", "~"))


def check_model(model_path: str) -> None:
    """Fail in one line before a harness starts if the checkpoint cannot be loaded.

    A path must be a directory with ``config.json``; an ``org/name`` hub id is left to the
    local Hugging Face cache (``make prefetch``).
    """
    path = Path(model_path)
    if (path.exists() or not is_hub_id(model_path)) and not (path / "config.json").is_file():
        raise SuiteError(f"no model checkpoint at {model_path} (no config.json): build it first")
    try:
        AutoTokenizer.from_pretrained(model_path)
    except Exception as err:  # any loader failure becomes one line naming the model
        reason = (str(err).strip() or type(err).__name__).splitlines()[0][:160]
        raise SuiteError(f"cannot load the tokenizer of {model_path}: {reason}") from None


def require_local(path: str, name: str) -> None:
    """A local checkpoint path must exist: the hub loaders would take it for a repo id and
    fail with a validation error instead of naming the missing directory."""
    local = path.startswith(("/", ".", "~")) or path.count("/") > 1  # else a hub id
    if local and not Path(path).is_dir():
        raise SuiteError(
            f"cannot load model '{name}': no {path} (run `make world` or fix the path)"
        )


def load_tokenizer(path: str, name: str) -> PreTrainedTokenizerBase:
    """A config model's tokenizer alone (what cutting blocks needs), or one line naming it."""
    require_local(path, name)
    return AutoTokenizer.from_pretrained(path)


def load_causal_lm(
    path: str,
    dtype: str = "float32",
    device: str | torch.device = "cpu",
    revision: str | None = None,
    trust_remote_code: bool = False,
    name: str | None = None,
) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    """Tokenizer and eval-mode model at ``path``; refuse a tokenizer that does not fit it."""
    kw = {"revision": revision, "trust_remote_code": trust_remote_code}
    name = name or path
    require_local(path, name)
    try:
        tok = AutoTokenizer.from_pretrained(path, **kw)
        torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype, **kw)
    except Exception as err:  # missing, torn or foreign files, each its own type: one line
        reason = (str(err).strip() or type(err).__name__).splitlines()[0][:160]
        raise SuiteError(
            f"cannot load model '{name}' from {path}: {reason} (run `make world` or "
            "`make prefetch`, or delete a torn checkpoint)"
        ) from None
    rows = model.get_input_embeddings().weight.shape[0]
    if len(tok) > rows:
        raise SuiteError(
            f"tokenizer of '{name}' has {len(tok)} tokens but the model has "
            f"{rows} embeddings: pair the model with its own tokenizer"
        )
    return tok, model.to(device).eval()


def model_path(spec: ModelSpec, layout: Layout) -> str:
    """Where a config model loads from (``layout.model``), made ready first: a ``.gguf`` file
    is converted on first use (cached); a real model's cache is checked against its sha256
    manifest (``make real-models`` fills it)."""
    if spec.real_model:
        real_models.load(layout.real_model(spec.real_model), spec.real_model)
    elif spec.is_gguf:
        ensure_converted(Path(spec.hub_id), layout.gguf_conversion(spec.hub_id))
    return layout.model(spec)


def load_model(spec: ModelSpec, layout: Layout, device: torch.device | str = "cpu") -> tuple:
    """A config model's tokenizer and eval-mode model, with its revision, dtype and
    remote-code setting."""
    return load_causal_lm(
        model_path(spec, layout),
        spec.dtype,
        device,
        revision=spec.revision,
        trust_remote_code=spec.trust_remote_code,
        name=spec.name,
    )


def local_checkpoint(spec: ModelSpec, layout: Layout) -> str:
    """A config model's weights as a local directory: the tiny world's build or a local path as
    it is, a hub id as its snapshot in the Hugging Face cache (``make prefetch``). Weight
    merging reads safetensors files, which a hub id alone does not name."""
    path = model_path(spec, layout)
    if Path(path).is_dir():
        return path
    try:
        return snapshot_download(path, revision=spec.revision, local_files_only=True)
    except Exception as err:  # not cached, or not a hub id: one line naming the fix
        reason = (str(err).strip() or type(err).__name__).splitlines()[0][:160]
        raise SuiteError(
            f"no local copy of '{spec.name}' ({path}): {reason}; run `make prefetch`"
        ) from None
