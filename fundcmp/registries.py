"""Which registry files are in use, and their programmes combined into one Registry.

`--registry` may be repeated, on the group or on any command, and
$FUNDCMP_REGISTRY holds a list separated like PATH (':' on Unix). The name
`shipped` stands for the registry inside the package, so a user can put their
own entries beside the shipped ones. Each file is loaded on its own (through
registry.load, and so its cache) and only then combined; a slug that two
files define is an error naming both places.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from fundcmp.errors import RegistryError
from fundcmp.registry import ENV_VAR, SHIPPED, Registry, load

SHIPPED_NAME = "shipped"


def paths(given: Sequence[str], environ: dict[str, str] | None = None) -> list[Path]:
    """The registry files in use: those given (in order), else $FUNDCMP_REGISTRY's list,
    else the shipped one. `shipped` names the shipped registry; a file given twice is
    read once."""
    env = os.environ if environ is None else environ
    names = [g for g in given if g] or [n for n in env.get(ENV_VAR, "").split(os.pathsep) if n]
    chosen: list[Path] = []
    for name in names or [SHIPPED_NAME]:
        path = SHIPPED if name == SHIPPED_NAME else Path(name)
        if not any(_same(path, seen) for seen in chosen):
            chosen.append(path)
    return chosen


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


def load_all(files: Sequence[Path], use_cache: bool = True) -> Registry:
    """Every file loaded on its own, then combined; a slug defined twice is an error."""
    loaded = [load(path, use_cache) for path in files]
    if len(loaded) == 1:
        return loaded[0]
    where: dict[str, tuple[str, int]] = {}
    for registry in loaded:
        for p in registry.programmes:
            if p.slug in where:
                first, line = where[p.slug]
                raise RegistryError(registry.path, p.line, f"defined twice: here and in "
                                    f"{first}:{line}", p.slug, "slug")
            where[p.slug] = (registry.path, p.line)
    return Registry(" + ".join(r.path for r in loaded),
                    tuple(p for r in loaded for p in r.programmes),
                    tuple(s for r in loaded for s in r.sources))
