"""The tiny world's benchmark items (BBH, CommonSense, generation, MultiPL-E analogues), drawn
from the knowledge base and written as files evaluation reads (`world.benchmarks.write`)."""
