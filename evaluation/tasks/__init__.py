"""lm-eval task files: the writer every source of items uses (`writer`), the item shape
(`docs`), the tiny tasks' shapes (`tiny`) and the hooks copied beside the YAMLs (`utils`)."""
