"""Real English for the tiny world: docstrings of the Python standard library.

Read with `ast` from the installed stdlib sources (never imported, so nothing runs), in sorted
file order, so the text depends only on the Python installation, not on the machine's state.
"""

from __future__ import annotations

import ast
import os
import sysconfig
from collections.abc import Iterator
from pathlib import Path

_SKIP_DIRS = {
    "test",
    "tests",
    "idle_test",
    "site-packages",
    "dist-packages",
    "__pycache__",
    "lib2to3",
    "idlelib",
    "turtledemo",
    "ensurepip",
}
_MIN_DOCSTRING = 40  # one-liners like "Return x." teach little English


def _files(root: Path) -> list[Path]:
    """Stdlib source files in sorted path order, skipping tests and installed packages."""
    paths = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]  # prune before descending
        paths += [Path(folder, f) for f in files if f.endswith(".py")]
    return sorted(paths)


def _docstrings(path: Path, module: str) -> Iterator[str]:
    """`qualified.name` headed docstrings of a module, its classes and functions, in order."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return
    stack: list[tuple[ast.AST, str]] = [(tree, module)]
    while stack:
        node, name = stack.pop()
        doc = ast.get_docstring(node, clean=True)  # type: ignore[arg-type]
        if doc and len(doc) >= _MIN_DOCSTRING and doc.isascii():
            yield f"{name}\n\n{doc.strip()}"
        children = [
            c
            for c in ast.iter_child_nodes(node)
            if isinstance(c, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        stack.extend((c, f"{name}.{c.name}") for c in reversed(children))


def stdlib_documents(n_docs: int, max_chars: int = 2500) -> list[str]:
    """The first `n_docs` documents of packed stdlib docstrings.

    Docstrings are packed in source order into documents of at most `max_chars` (a longer
    docstring is cut at a line break); a module starts a new document unless the previous one is
    still short, so documents read like reference pages of one or a few modules.
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    docs: list[str] = []
    current = ""
    for path in _files(root):
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        for doc in _docstrings(path, module.removesuffix(".__init__")):
            if len(doc) > max_chars:
                cut = doc.rfind("\n", 0, max_chars)
                doc = doc[: cut if cut > 0 else max_chars]
            if current and len(current) + len(doc) + 2 > max_chars:
                docs.append(current)
                current = ""
            current = f"{current}\n\n{doc}" if current else doc
        if len(current) >= max_chars // 4:  # small modules share a document with the next
            docs.append(current)
            current = ""
        if len(docs) >= n_docs:
            return docs[:n_docs]
    raise ValueError(f"the stdlib at {root} yields only {len(docs)} documents, not {n_docs}")
