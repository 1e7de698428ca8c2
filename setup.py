"""Packaging beyond pyproject.toml: the softphone plugin ships inside the package.

The plugin's source stays in the top-level `plugin/` (the folder docs/plugin.md describes); a built wheel
carries it as `assist/plugin/`, where `assist.server.web.plugin_routes` serves it from. Every other setting is
in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

PLUGIN = ["assist.plugin", *(f"assist.plugin.{name}" for name in find_namespace_packages(where="plugin"))]

setup(
    packages=[*find_namespace_packages(include=["assist", "assist.*"], exclude=["*.__pycache__"]), *PLUGIN],
    package_dir={"assist.plugin": "plugin"},
)
