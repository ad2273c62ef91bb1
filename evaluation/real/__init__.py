"""Real benchmark items shipped by PyPI packages: BIG-bench (BBH's source tasks), HumanEval."""
