"""``python -m evaluation.bench``: eval throughput rows, ours vs lm-eval's defaults."""

from datasets import disable_progress_bars

from evaluation.bench.throughput import bench_eval

if __name__ == "__main__":
    disable_progress_bars()
    for row in bench_eval():
        print("  ".join(f"{key}={value}" for key, value in row.items()))
