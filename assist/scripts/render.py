"""Talking points are Jinja2 templates rendered in a sandbox from the call's context.

Trainers write them, so they must not reach Python internals (SandboxedEnvironment)
and a missing context value renders empty instead of failing mid-call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
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
