"""The tiny world's benchmarks: generators of BBH, CommonSense and generation analogues from
the knowledge base, written as lm-eval tasks by `evaluation.tiny.tasks.generate_tasks`."""
