"""Talking points are Jinja2 templates rendered in a sandbox from the call's context.

Trainers write them, so they must not reach Python internals (SandboxedEnvironment)
and a missing context value renders empty instead of failing mid-call.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

_ENV = SandboxedEnvironment(autoescape=False, trim_blocks=True, lstrip_blocks=True)


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
    return Template(source)


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
    return sorted(meta.find_undeclared_variables(tree) - set(known) - set(_ENV.globals))
