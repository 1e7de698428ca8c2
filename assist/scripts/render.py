"""Talking points are Jinja2 templates rendered in a sandbox from the call's context.

Trainers write them, so they must not reach Python internals (SandboxedEnvironment), a missing
context value renders empty instead of failing mid-call, and no template may cost much: every
template renders on every category change of every live call. So there are no loops or macros,
only the filters a sentence needs, no `range`/`lipsum`, and the operators that can make big values
(`*`, `**`, `+`, `~`) and the filters that can grow text are checked against `MAX_OUTPUT` before
they run. A template over budget is refused with a SecurityError: at pack check (a problem with file
and line), in the trainer's preview (an error) — and renders empty mid-call.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

MAX_OUTPUT = 4_000
"""Characters any value inside a talking point (and the talking point itself) may reach."""
MAX_NUMBER = 10**12
FILTERS = (
    "abs",
    "capitalize",
    "d",
    "default",
    "e",
    "escape",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "count",
    "lower",
    "replace",
    "round",
    "string",
    "striptags",
    "title",
    "trim",
    "truncate",
    "upper",
    "wordcount",
)
"""The filters a sentence needs; the rest (center, indent, wordwrap, format, batch, random, …) are not offered."""


def _sized(value: Any) -> Any:
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_OUTPUT:
        raise SecurityError(f"a talking point may not make a value over {MAX_OUTPUT} characters")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
        raise SecurityError("a talking point may not make numbers that large")
    return value


def _length(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple)) else 0


class _BudgetSandbox(SandboxedEnvironment):
    """The sandbox with every value-growing operation checked before it runs."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            count = right if isinstance(right, int) else left if isinstance(left, int) else 1
            if isinstance(count, int) and count * max(_length(left), _length(right), 1) > MAX_OUTPUT:
                raise SecurityError(f"a talking point may not make a value over {MAX_OUTPUT} characters")
        elif operator == "**" and isinstance(right, (int, float)) and abs(right) > 64:
            raise SecurityError("a talking point may not raise to powers that large")
        elif operator == "+" and _length(left) + _length(right) > MAX_OUTPUT:
            raise SecurityError(f"a talking point may not make a value over {MAX_OUTPUT} characters")
        return _sized(super().call_binop(context, operator, left, right))


def _replace(value: Any, old: Any, new: Any, count: int | None = None) -> str:
    text, old, new = str(value), str(old), str(new)
    grows = max(0, len(new) - len(old)) * (text.count(old) if old else len(text) + 1)
    if len(text) + grows > MAX_OUTPUT:
        raise SecurityError(f"a talking point may not make a value over {MAX_OUTPUT} characters")
    return text.replace(old, new) if count is None else text.replace(old, new, count)


def _join(value: Any, d: Any = "", attribute: Any = None) -> str:
    items = [str(x) for x in value][: MAX_OUTPUT + 1] if isinstance(value, (list, tuple)) else [str(value)]
    return str(_sized(str(d).join(items)))


def _environment() -> SandboxedEnvironment:
    env = _BudgetSandbox(autoescape=False, trim_blocks=True, lstrip_blocks=True)
    env.globals = {}
    env.filters = {name: env.filters[name] for name in FILTERS}
    env.filters["replace"] = _replace
    env.filters["join"] = _join
    concat = env.concat  # the `~` operator and the template's own output go through concat

    def bounded_concat(parts: Any) -> str:
        out = concat(parts)
        return str(_sized(out))

    env.concat = bounded_concat  # type: ignore[method-assign]
    return env


_ENV = _environment()


class Template:
    """A compiled talking-point template."""

    __slots__ = ("_tpl", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self._tpl = _ENV.from_string(source)

    def render_strict(self, context: Mapping[str, Any]) -> str:
        """Render and let errors through: used when a pack is checked, never mid-call."""
        return self._tpl.render(**context).strip()

    def render(self, context: Mapping[str, Any]) -> str:
        values = {k: v for k, v in context.items() if isinstance(k, str)}
        for attempt in (values, {}):
            try:
                return self._tpl.render(**attempt).strip()
            except Exception:
                continue
        return ""


MAX_SOURCE = 2000
"""A talking point is a sentence or two; a longer template is a mistake (or an attack)."""
NO_LOOPS = (nodes.For, nodes.Macro, nodes.CallBlock)
"""Loops and macros are refused: nested loops would let one template stall every live call."""


def compile_template(source: str) -> Template:
    """Compile or raise ValueError with the template's own message."""
    if len(source) > MAX_SOURCE:
        raise ValueError(f"template error: a talking point is at most {MAX_SOURCE} characters")
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise ValueError(f"template error (line {exc.lineno}): {exc.message}") from None
    if any(True for _ in tree.find_all(NO_LOOPS)):
        raise ValueError("template error: talking points may use {{ values }} and {% if %}, not loops or macros")
    try:
        return Template(source)
    except TemplateSyntaxError as exc:  # e.g. a filter that is not offered (docs/packs.md)
        raise ValueError(f"template error (line {exc.lineno}): {exc.message}") from None


CALL_CONTEXT = ("call_id", "caller_number", "customer_name", "queue", "caller_type", "ivr_path", "channel")
"""The values a talking point can count on: the call's id and what a softphone's `call.start` context holds
(docs/protocol.md). A center whose softphone sends more may use more; a name outside this list is warned about,
since a misspelt one (`customer_nmae`) renders empty on every call without any error."""


def unknown_variables(source: str, known: Collection[str] = CALL_CONTEXT) -> list[str]:
    """The variables `source` reads that are neither in `known` nor Jinja's own (sorted; [] when it does not
    parse: compile_template reports that)."""
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError:
        return []
    return sorted(meta.find_undeclared_variables(tree) - set(known))
