"""``make world``: build the tiny world once, cached — domain corpora, the fusion corpus, the
benchmark files evaluation reads (lm-eval tasks, MultiPL-E problems), tokenizers, pretrained
models, and last a manifest with the generators' versions.

Each artifact is written to a temp directory and renamed when complete, so an interrupted
build resumes from the first missing artifact and never reads a half-written one.
Usage: ``python -m world --config configs/tiny.yaml`` (``make world``).
"""

from __future__ import annotations

import json
import shutil
import zlib
from pathlib import Path

from datasets import Dataset, DatasetDict
from transformers import AutoModelForCausalLM, AutoTokenizer

from configs import tracking
from configs.layout import Layout, atomic_dir
from configs.schema import BuildSpec, ModelSpec, SuiteConfig
from configs.stages import STAGES
from configs.workers import run_stage_in_workers
from fusion.corpus import load_corpora
from training.causal_lm import clm_arguments, pack_texts, train_clm
from world.benchmarks.write import write_benchmarks
from world.corpus import build_corpora, heldout_items, mix_corpus
from world.knowledge import KnowledgeBase, build_knowledge
from world.models import build_model
from world.probes import probe_items
from world.tokenizers import train_tokenizer


def built_models(cfg: SuiteConfig) -> list[ModelSpec]:
    """Models the tiny world builds, in dependency order (``init_from`` after its base)."""
    return sorted(cfg.built_models(), key=lambda m: m.build.init_from is not None)


def model_seed(cfg: SuiteConfig, name: str) -> int:
    """A stable per-model seed: the world seed mixed with the model's name."""
    return cfg.world.seed * 1_000_003 + zlib.crc32(name.encode()) % 1_000_003


def build_world_corpora(cfg: SuiteConfig, layout: Layout) -> None:
    """Generate the knowledge base, domain corpora and held-out items (Arrow + JSONL)."""
    if layout.corpora.exists() and layout.heldout.exists():
        return
    w = cfg.world
    kb = build_knowledge(w.seed, w.entities)
    corpora = build_corpora(kb, w.docs_per_domain, w.test_fraction, w.seed)
    with atomic_dir(layout.corpora) as tmp:
        for domain, splits in corpora.items():
            DatasetDict(
                {split: Dataset.from_dict({"text": docs}) for split, docs in splits.items()}
            ).save_to_disk(str(tmp / domain))
    tmp_items = layout.heldout.with_suffix(".tmp")
    with tmp_items.open("w") as f:
        for item in heldout_items(kb, w.seed):
            f.write(json.dumps(item) + "\n")
    tmp_items.rename(layout.heldout)


def build_probes(kb: KnowledgeBase, layout: Layout) -> None:
    """The world card's probes (``world.probes``) as JSONL, read by ``make card``."""
    if layout.probes.exists():
        return
    probes = probe_items(kb)
    tmp = layout.probes.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(p) + "\n" for p in probes))
    tmp.rename(layout.probes)


def build_tokenizers(cfg: SuiteConfig, layout: Layout, corpora: dict) -> None:
    """Train every tokenizer of ``world.tokenizers`` on its domain mix."""
    for name, spec in cfg.world.tokenizers.items():
        out = layout.tokenizer(name)
        if out.exists():
            continue
        n_docs = cfg.world.docs_per_domain * len(spec.mix)
        texts = mix_corpus(corpora, spec.mix, n_docs, cfg.world.seed)
        tok = train_tokenizer(spec.kind, texts, spec.vocab_size)
        with atomic_dir(out) as tmp:
            tok.save_pretrained(str(tmp))


def build_one_model(cfg: SuiteConfig, layout: Layout, spec: ModelSpec, corpora: dict) -> None:
    """Initialise (or continue from ``init_from``) and pretrain one model, then save it."""
    b = spec.build
    out = Path(layout.model(spec))
    if out.exists():
        return
    seed = model_seed(cfg, spec.name)
    tok = AutoTokenizer.from_pretrained(str(layout.tokenizer(b.tokenizer)))
    if b.init_from:
        model = AutoModelForCausalLM.from_pretrained(str(out.parent / b.init_from))
    else:
        model = build_model(b, tok, seed)
    data = pack_texts(mix_corpus(corpora, b.mix, b.documents, seed), tok, b.seq_len)
    with atomic_dir(out) as tmp, tracking.stage_run(layout, "world", spec.name, spec.model_dump()):
        args = clm_arguments(
            tmp / "trainer", steps=b.steps, batch_size=b.batch_size, lr=b.lr, seed=seed
        )
        history = train_clm(model, data, args)
        tracking.log_history("world", history)
        model.save_pretrained(str(tmp), safe_serialization=True)
        tok.save_pretrained(str(tmp))
        shutil.rmtree(tmp / "trainer", ignore_errors=True)


def build_fusion_corpus(cfg: SuiteConfig, layout: Layout, corpora: dict) -> None:
    """The fusion corpus (the MiniPile analogue) saved as a dataset, which `fusion.corpus`
    then reads as it reads a hub corpus."""
    if layout.fusion_corpus.exists():
        return
    c = cfg.corpus
    n_docs = c.documents or cfg.world.docs_per_domain * len(c.mix)
    texts = mix_corpus(corpora, c.mix, n_docs, cfg.world.seed)
    with atomic_dir(layout.fusion_corpus) as tmp:
        Dataset.from_dict({"text": texts}).save_to_disk(str(tmp))


def write_manifest(layout: Layout, versions: dict[str, int]) -> None:
    """Mark the world complete, with the generator versions later stages check."""
    tmp = layout.world_manifest.with_suffix(".tmp")
    tmp.write_text(json.dumps({"versions": versions}, indent=1))
    tmp.rename(layout.world_manifest)


def build_world(cfg: SuiteConfig, layout: Layout) -> None:
    """Every artifact of the tiny world, skipping those already built; the manifest last."""
    if not cfg.is_tiny:
        print(f"config '{cfg.name}' uses hub checkpoints: nothing to build (see make prefetch)")
        return
    build_world_corpora(cfg, layout)
    corpora = load_corpora(layout)
    build_fusion_corpus(cfg, layout, corpora)
    kb = build_knowledge(cfg.world.seed, cfg.world.entities)
    versions = write_benchmarks(kb, cfg.world.seed, layout)
    build_probes(kb, layout)
    build_tokenizers(cfg, layout, corpora)
    specs = built_models(cfg)
    fresh = [m for m in specs if not m.build.init_from and not Path(layout.model(m)).exists()]
    todo = [m.name for m in sorted(fresh, key=lambda m: -training_cost(m.build))]
    if cfg.workers > 1 and len(todo) > 1:  # those continued from another come after it
        run_stage_in_workers(cfg, layout, STAGES["world"].module, todo, verb="pretraining")
    build_models(cfg, layout, [m.name for m in specs])
    write_manifest(layout, versions)


def training_cost(build: BuildSpec) -> int:
    """Pretraining work of a model, up to a constant (tokens x layers x width squared): the
    workers take the costliest first, so the last one started is short (in a measured run
    the teacher, started third, trained alone for its last two minutes)."""
    return build.steps * build.batch_size * build.seq_len * build.num_layers * build.hidden_size**2


def build_models(cfg: SuiteConfig, layout: Layout, names: list[str]) -> None:
    """Pretrain the named models of :func:`built_models` (in its order), skipping built ones."""
    corpora = load_corpora(layout)
    for spec in built_models(cfg):
        if spec.name in names:
            build_one_model(cfg, layout, spec, corpora)
