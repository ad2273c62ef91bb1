"""Speed benchmark of the eval stage (`make bench`): ratios measured side by side."""
