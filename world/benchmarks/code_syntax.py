"""How each MultiPL-E language spells a tiny code problem: types, values, prompt and tests.

One `Syntax` per language, as data. Each mirrors the shape MultiPL-E's translators
(``dataset_builder/humaneval_to_<lang>.py``) give a HumanEval item: the prompt is the imports,
the description as a doc comment with one ``>>>`` example, and the signature; the tests are
that translator's test-suite wrapper around one equality check per case. Where a translator's
stop sequence eats the function's closing brace (C++, Java, Rust), the tests start with it, as
MultiPL-E's do. Templates use ``{key}`` slots filled by `fill`, so the braces of the code
itself need no escaping.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import Literal

Type = Literal["int", "bool", "str", "list[int]"]
DOC_WIDTH = 76  # descriptions are wrapped as HumanEval's docstrings are
_SAFE_TEXT = re.compile(r"^[A-Za-z0-9 ]*$")  # strings that need no escaping in any language


def fill(template: str, **values: str) -> str:
    """Replace each ``{key}`` of ``values`` in ``template``; every other brace stays."""
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


@dataclass(frozen=True)
class Syntax:
    """One language's spelling of the tiny problems (MultiPL-E's translator output shape).

    ``types`` is empty for untyped languages. Value templates take ``{v}`` (a scalar) or
    ``{items}`` (a list's rendered elements); ``arg`` wraps each argument and expected value
    (C++ and Java parenthesise them). ``words`` are the doc's terms for list/true/false, as
    MultiPL-E's ``terms.csv`` rewords them.
    """

    types: dict[str, str]
    comment: str  # the doc comment's line prefix
    signature: str  # {name} {params} {ret}
    param: str  # {name} {type}
    tests_head: str  # {name} {title}
    case: str  # {call} {expected}
    tests_tail: str
    words: tuple[str, str, str] = ("list", "true", "false")
    header: str = ""  # imports before the doc comment; {name}
    first_comment: str | None = None  # JS/TS write the first doc line as "//text"
    int_value: str = "{v}"
    str_value: str = '"{v}"'
    list_value: str = "[{items}]"
    element: str = "{v}"
    empty_list: str | None = None
    arg: str = "{v}"
    call: str = "{name}({args})"
    object_case: str | None = None  # Java compares objects with equals()
    camel_case: bool = False  # Java names methods in camelCase
    docstring: bool = False  # Python: the doc is a docstring after the signature


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def function_name(syntax: Syntax, name: str) -> str:
    """The problem's function name as the language spells it."""
    return _camel(name) if syntax.camel_case else name


def value(syntax: Syntax, v: object, kind: Type) -> str:
    """A literal of ``kind`` in the language."""
    if kind == "bool":
        return syntax.words[1] if v else syntax.words[2]
    if kind == "int":
        return fill(syntax.int_value, v=str(v))
    if kind == "str":
        if not _SAFE_TEXT.match(str(v)):
            raise ValueError(f"tiny code strings are letters, digits and spaces, got {v!r}")
        return fill(syntax.str_value, v=str(v))
    if not isinstance(v, list):
        raise TypeError(f"tiny code values are bools, ints, strings or lists, got {v!r}")
    if not v and syntax.empty_list is not None:
        return syntax.empty_list
    items = ", ".join(fill(syntax.element, v=str(x)) for x in v)
    return fill(syntax.list_value, items=items)


def call(syntax: Syntax, name: str, args: tuple, kinds: tuple[Type, ...]) -> str:
    """``name`` applied to ``args``, each rendered and wrapped as the language's tests do."""
    rendered = ", ".join(
        fill(syntax.arg, v=value(syntax, a, k)) for a, k in zip(args, kinds, strict=True)
    )
    return fill(syntax.call, name=name, args=rendered)


def describe(syntax: Syntax, text: str) -> str:
    """The description with MultiPL-E's per-language terms."""
    term, true, false = syntax.words
    return fill(text, list=term, true=true, false=false)


def prompt(
    syntax: Syntax,
    name: str,
    params: tuple[tuple[str, Type], ...],
    returns: Type,
    doc: str,
    example: tuple[tuple, object],
) -> str:
    """Imports, doc comment with one example, and the signature, ready to be continued."""
    fname = function_name(syntax, name)
    kinds = tuple(k for _, k in params)
    args, result = example
    shown = call(syntax, fname, args, kinds)
    expected = fill(syntax.arg, v=value(syntax, result, returns))
    typed = [fill(syntax.param, name=p, type=syntax.types.get(k, "")) for p, k in params]
    signature = fill(
        syntax.signature,
        name=fname,
        params=", ".join(typed),
        ret=syntax.types.get(returns, ""),
    )
    lines = [*textwrap.wrap(describe(syntax, doc), DOC_WIDTH), f">>> {shown}", expected]
    if syntax.docstring:
        body = '    """ ' + "\n    ".join(lines) + '\n    """\n'
        imports = "from typing import List\n\n" if "List[" in signature else ""
        return imports + signature + body
    first = syntax.first_comment if syntax.first_comment is not None else syntax.comment
    comment = first + lines[0] + "".join(f"\n{syntax.comment}{line}" for line in lines[1:])
    return fill(syntax.header, name=name) + comment + "\n" + signature


def tests(
    syntax: Syntax,
    name: str,
    kinds: tuple[Type, ...],
    returns: Type,
    cases: list[tuple[tuple, object]],
) -> str:
    """The test suite: one check per case, exiting non-zero on the first wrong answer."""
    fname = function_name(syntax, name)
    callee = fname if syntax.camel_case else "candidate"  # MultiPL-E's Java calls by name
    primitive = returns in ("int", "bool")
    template = syntax.case if primitive or syntax.object_case is None else syntax.object_case
    checks = [
        fill(
            template,
            call=call(syntax, callee, args, kinds),
            expected=fill(syntax.arg, v=value(syntax, result, returns)),
        )
        for args, result in cases
    ]
    head = fill(syntax.tests_head, name=fname, title=name.title())
    return "\n".join([head, *checks, fill(syntax.tests_tail, name=fname)])


_GO_TAIL = """   }

\tfor i, tc := range tests {
\t\tt.Run(fmt.Sprintf("test num % d", i), func(t *testing.T) {
\t\t\tif fmt.Sprintf("%v", tc.actual) != fmt.Sprintf("%v", tc.expected) {
\t\t\t\tt.Errorf("expected '%s', got '%s'", tc.expected, tc.actual)
\t\t\t}
\t\t})
\t}
}
"""
_JAVA_IMPORTS = (
    "import java.util.*;\nimport java.lang.reflect.*;\nimport org.javatuples.*;\n"
    "import java.security.*;\nimport java.math.*;\nimport java.io.*;\n"
    "import java.util.stream.*;\nclass Problem {\n"
)
_JS_HEAD = (
    "const assert = require('node:assert');\n\n\nfunction test() {\n  let candidate = {name};"
)

SYNTAX: dict[str, Syntax] = {
    "cpp": Syntax(
        types={
            "int": "long",
            "bool": "bool",
            "str": "std::string",
            "list[int]": "std::vector<long>",
        },
        header="#include<assert.h>\n#include<bits/stdc++.h>\n",
        comment="// ",
        signature="{ret} {name}({params}) {\n",
        param="{type} {name}",
        tests_head="}\nint main() {\n    auto candidate = {name};",
        case="    assert({call} == {expected});",
        tests_tail="}\n",
        words=("vector", "true", "false"),
        list_value="std::vector<long>({{items}})",
        element="(long){v}",
        empty_list="std::vector<long>()",
        arg="({v})",
    ),
    "go": Syntax(
        types={"int": "int", "bool": "bool", "str": "string", "list[int]": "[]int"},
        header='package {name}_test\n\nimport (\n    "testing"\n    "fmt"\n)\n\n',
        comment="// ",
        signature="func {name}({params}) {ret} {\n",
        param="{name} {type}",
        tests_head=(
            "func Test{title}(t *testing.T) {\n  candidate := {name}\n\ttype test struct {\n"
            "\t\tactual   interface{}\n\t\texpected interface{}\n\t}\n   tests := []test{"
        ),
        case="     { actual: {call}, expected: {expected} },",
        tests_tail=_GO_TAIL,
        list_value="[]int{{items}}",
    ),
    "java": Syntax(
        types={"int": "long", "bool": "boolean", "str": "String", "list[int]": "ArrayList<Long>"},
        header=_JAVA_IMPORTS,
        comment="    // ",
        signature="    public static {ret} {name}({params}) {\n",
        param="{type} {name}",
        tests_head="    }\n    public static void main(String[] args) {",
        case="    assert({call} == {expected});",
        object_case="    assert({call}.equals({expected}));",
        tests_tail="    }\n\n}\n",
        words=("array list", "true", "false"),
        int_value="{v}l",
        list_value="new ArrayList<Long>(Arrays.asList({items}))",
        element="(long){v}l",
        arg="({v})",
        camel_case=True,
    ),
    "js": Syntax(
        types={},
        comment="// ",
        first_comment="//",
        signature="function {name}({params}){\n",
        param="{name}",
        tests_head=_JS_HEAD,
        case="  assert.deepEqual({call},{expected});",
        tests_tail="}\n\ntest();",
        words=("array", "true", "false"),
    ),
    "php": Syntax(
        types={},
        header="<?php\n",
        comment="// ",
        signature="function {name}({params}) {\n",
        param="${name}",
        tests_head=(
            "function candidate(...$args) {\n    return {name}(...$args);\n}\n\n"
            "function test(): void {"
        ),
        case='    if ({call} !== {expected}) { throw new Exception("Test failed!"); }',
        tests_tail="}\n\ntest();",
        words=("array", "true", "false"),
        list_value="array({items})",
    ),
    "py": Syntax(
        types={"int": "int", "bool": "bool", "str": "str", "list[int]": "List[int]"},
        comment="",
        docstring=True,
        signature="def {name}({params}) -> {ret}:\n",
        param="{name}: {type}",
        tests_head="def check(candidate):",
        case="    assert {call} == {expected}",
        tests_tail="\ndef test_check():\n    check({name})\n\ntest_check()\n",
        words=("list", "True", "False"),
        str_value="'{v}'",
    ),
    "r": Syntax(
        types={},
        comment="# ",
        signature="{name} <- function({params}) {",
        param="{name}",
        tests_head="test_humaneval <- function() {\n    candidate <- {name}",
        case="    stopifnot(isTRUE(all.equal({call}, {expected})))",
        tests_tail="}\ntest_humaneval()",
        words=("list", "TRUE", "FALSE"),
        str_value="'{v}'",
        list_value="c({items})",
    ),
    "rb": Syntax(
        types={},
        comment="# ",
        signature="def {name}({params})\n",
        param="{name}",
        tests_head=(
            "require 'test/unit'\nclass TestHumanEval < Test::Unit::TestCase\n"
            "  def test_{name}\n    candidate = method(:{name})"
        ),
        case="    assert_equal({expected}, {call})",
        tests_tail="  end\nend\n",
        words=("array", "true", "false"),
        call="{name}.call({args})",
    ),
    "rs": Syntax(
        types={"int": "isize", "bool": "bool", "str": "String", "list[int]": "Vec<isize>"},
        comment="/// ",
        signature="fn {name}({params}) -> {ret} {\n",
        param="{name}: {type}",
        tests_head="}\n\nfn main() {\n    let candidate = {name};",
        case="    assert_eq!({call}, {expected});",
        tests_tail="}\n",
        words=("vector", "true", "false"),
        str_value='String::from("{v}")',
        list_value="vec![{items}]",
        empty_list="Vec::<isize>::new()",
    ),
    "ts": Syntax(
        types={"int": "number", "bool": "boolean", "str": "string", "list[int]": "number[]"},
        comment="// ",
        first_comment="//",
        signature="function {name}({params}): {ret} {\n",
        param="{name}: {type}",
        tests_head="declare var require: any;\n" + _JS_HEAD,
        case="  assert.deepEqual({call},{expected});",
        tests_tail="}\n\ntest();",
        words=("array", "true", "false"),
    ),
}
