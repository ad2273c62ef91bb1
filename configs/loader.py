"""Load a YAML config, apply ``a.b=v`` overrides, validate, and explain failures in one line.

A researcher who mistypes a key should learn which key, where, and what to write instead
before any model is loaded; so every failure here is a :class:`ConfigError` whose message is
a single line naming the key and the fix.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from configs import registry
from configs.errors import SuiteError
from configs.schema import SuiteConfig


class ConfigError(SuiteError, ValueError):
    """A config problem, worded as one line that names the key and the fix."""


def load_config(path: str | Path, overrides: list[str] | None = None) -> SuiteConfig:
    """Read, override and validate the config at ``path``."""
    raw = read_yaml(path)
    for item in overrides or []:
        apply_override(raw, item)
    try:
        return SuiteConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(f"{path}: {explain(err)}") from None


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Parse the file into a mapping, rejecting missing, empty and non-mapping files."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found: pass CONFIG=<an existing .yaml>")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: invalid YAML{where}: fix the syntax there") from None
    if raw is None:
        raise ConfigError(f"{path}: file is empty: start from configs/tiny.yaml")
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: top level is a {type(raw).__name__}, expected a mapping of sections"
        )
    return raw


def apply_override(raw: dict[str, Any], item: str) -> None:
    """Set ``a.b.c=value`` in ``raw`` (value parsed as YAML, so types follow the schema)."""
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise ConfigError(f"override '{item}' is not of the form section.key=value")
    *parents, leaf = key.split(".")
    node: Any = raw
    for part in parents:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.setdefault(part, {})
        else:
            raise ConfigError(f"override '{item}': '{part}' is not a section or list index")
    if isinstance(node, list) and leaf.isdigit() and int(leaf) < len(node):
        node[int(leaf)] = yaml.safe_load(value)
    elif isinstance(node, dict):
        node[leaf] = yaml.safe_load(value)
    else:
        raise ConfigError(f"override '{item}': its parent is not a section")


def explain(err: ValidationError) -> str:
    """Turn pydantic's first error into one line: where, what is wrong, what to do."""
    first = err.errors()[0]
    loc = tuple(first["loc"])
    where = ".".join(str(p) for p in loc) or "(top level)"
    kind = first["type"]
    if kind == "extra_forbidden":
        valid = _fields_at(SuiteConfig, loc[:-1])
        hint = registry.hint(str(loc[-1]), valid, f"valid keys: {', '.join(valid)}")
        return f"unknown key '{where}': {hint}"
    if kind == "missing":
        return f"missing key '{where}': add it (see configs/tiny.yaml)"
    msg = first["msg"].removeprefix("Value error, ")
    got = first.get("input")
    shown = "" if isinstance(got, dict | list) or got is None else f" (got {got!r})"
    return f"bad value for '{where}'{shown}: {msg}"


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """Valid keys of the section at ``loc``, following models, lists and dicts."""
    node: Any = model
    for part in loc:
        node = _unwrap(node)
        if isinstance(node, type) and issubclass(node, BaseModel):
            if part not in node.model_fields:
                return []
            node = node.model_fields[part].annotation
        else:  # list index or dict key: step into the element type
            args = typing.get_args(node)
            node = args[-1] if args else Any
    node = _unwrap(node)
    if isinstance(node, type) and issubclass(node, BaseModel):
        return list(node.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip ``X | None`` down to ``X``."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation
