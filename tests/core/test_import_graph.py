"""The import graph points one way: shells import the core, the core never imports a shell, and no
module imports itself back through others (module-level imports; TYPE_CHECKING blocks excluded)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "assist"
SHELLS = ("assist.server", "assist.app", "assist.cli", "assist.__main__")
KERNEL = (
    "assist.problems",
    "assist.errors",
    "assist.effects",
    "assist.protocol",
    "assist.messages",
    "assist.session",
    "assist.config",
)
"""Leaf modules every core package may use."""
LAYERS = {
    # package: what it may import from assist (besides itself); lower layers first
    "assist.classifier": ("assist.problems", "assist.errors"),
    "assist.scripts": ("assist.classifier", "assist.problems", "assist.errors"),
    "assist.routing": ("assist.classifier", "assist.scripts", *KERNEL),
    "assist.feedback": ("assist.classifier", "assist.scripts", "assist.routing", "assist.live", *KERNEL),
    "assist.live": ("assist.classifier", "assist.scripts", *KERNEL),
    "assist.problems": (),
    "assist.errors": (),
    "assist.effects": (),
    "assist.messages": (),
    "assist.protocol": ("assist.errors",),
    "assist.session": ("assist.protocol", "assist.messages", "assist.errors"),
}


def graph() -> dict[str, set[str]]:
    mods: dict[str, Path] = {}
    for p in ROOT.rglob("*.py"):
        name = ".".join(p.relative_to(ROOT.parent).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = p
    out: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        for node in ast.parse(p.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("assist"):
                for alias in node.names:
                    cand = f"{node.module}.{alias.name}"
                    out[m].add(cand if cand in mods else node.module)
            elif isinstance(node, ast.Import):
                out[m].update(a.name for a in node.names if a.name.startswith("assist"))
    return out


def test_no_import_circles() -> None:
    g = graph()
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        trail.append(m)
        for n in sorted(g.get(m, ())):
            if n not in g:
                continue
            assert state.get(n) != 1, "import circle: " + " -> ".join([*trail[trail.index(n) :], n])
            if n not in state:
                visit(n)
        trail.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m)


def test_the_core_never_imports_a_shell() -> None:
    g = graph()
    for m, targets in g.items():
        if m.startswith(SHELLS):
            continue
        shells = [t for t in targets if t.startswith(SHELLS)]
        assert not shells, f"{m} (core) imports the shell {shells}"


def test_lower_layers_import_nothing_above_them() -> None:
    g = graph()
    for m, targets in g.items():
        for layer, allowed in LAYERS.items():
            if m == layer or m.startswith(layer + "."):
                above = [t for t in targets if not t.startswith((layer, *allowed)) and t != "assist"]
                assert not above, f"{m} imports {above}, above its layer"
