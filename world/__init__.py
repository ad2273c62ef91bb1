"""The tiny world: knowledge, corpora, tokenizers, pretrained models and benchmark files,
built on CPU by ``make world`` (``python -m world``). No product package imports it: later
stages read what it writes under the config's world directory, as they read hub data."""
