"""``python -m evaluation.bench``: eval throughput rows, ours vs lm-eval's defaults, and the
world card's scoring with logits kept only where needed vs at every position."""

from datasets import disable_progress_bars

from evaluation.bench.card import bench_card
from evaluation.bench.throughput import bench_eval

if __name__ == "__main__":
    disable_progress_bars()
    for row in [*bench_eval(), bench_card()]:
        print("  ".join(f"{key}={value}" for key, value in row.items()))
