"""Causal-LM training through ``transformers.Trainer``: pack texts into blocks, train, save.

The tiny world's pretraining uses this path, and the continual-training baselines extend
it, so every model here is produced by the same Trainer machinery as the paper's runs.
"""

from __future__ import annotations

from pathlib import Path

import torch
from datasets import Dataset
from transformers import (
    PreTrainedModel,
    PreTrainedTokenizerBase,
    Trainer,
    TrainingArguments,
    default_data_collator,
)


def pack_texts(texts: list[str], tokenizer: PreTrainedTokenizerBase, seq_len: int) -> Dataset:
    """Tokenize documents, join them with EOS and cut the stream into ``seq_len`` blocks."""
    eos = tokenizer.eos_token_id
    ids = tokenizer(texts, add_special_tokens=True)["input_ids"]
    stream = [tok for doc in ids for tok in [*doc, eos]]
    n = len(stream) // seq_len
    if n == 0:
        raise ValueError(f"{len(stream)} tokens cannot fill one block of {seq_len}")
    blocks = torch.tensor(stream[: n * seq_len]).view(n, seq_len).tolist()
    # Labels equal inputs (the model shifts them); no padding exists, so none is masked.
    return Dataset.from_dict({"input_ids": blocks, "labels": blocks})


def clm_arguments(
    out_dir: Path, *, steps: int, batch_size: int, lr: float, seed: int, **overrides
) -> TrainingArguments:
    """Trainer arguments for a short CPU/GPU CLM run with cosine decay and no checkpoints."""
    kwargs = dict(
        output_dir=str(out_dir),
        max_steps=steps,
        per_device_train_batch_size=batch_size,
        learning_rate=lr,
        lr_scheduler_type="cosine",
        warmup_ratio=0.05,
        weight_decay=0.01,
        adam_beta2=0.95,
        logging_steps=max(1, steps // 10),
        save_strategy="no",
        report_to=[],
        seed=seed,
        data_seed=seed,
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        disable_tqdm=False,
    )
    kwargs.update(overrides)
    return TrainingArguments(**kwargs)


def train_clm(
    model: PreTrainedModel,
    data: Dataset,
    args: TrainingArguments,
) -> list[dict]:
    """Train ``model`` in place on packed blocks; return the Trainer's log history."""
    trainer = Trainer(
        model=model, args=args, train_dataset=data, data_collator=default_data_collator
    )
    trainer.train()
    return trainer.state.log_history
