# Synthetic stand-in for BIG-bench's web_of_lies/task.py, written for the tests (not copied):
# it holds only what evaluation.real.bbh_rules reads, a `_names` list and the description.
# It is parsed, never run.


class WebOfLiesTask:
    _names = ["Ada", "Bram", "Cleo", "Dov", "Edda", "Finn", "Gus"]

    def get_task_details(self):
        return TaskMetadata(  # noqa: F821
            name="web_of_lies",
            description="Evaluate a random boolean function expressed as a word problem",
        )
