"""Speed benchmarks of the training objective (`make bench`): ratios measured side by side."""
