"""Speed benchmarks of the fusion stages (`make bench`): ratios measured side by side."""
