"""Shell completion (click's, for bash, zsh and fish): slugs from the registry, field names.

Enable it with one line, e.g. for bash: eval "$(_FUNDCMP_COMPLETE=bash_source fundcmp)".
Completion runs on every Tab press, so it must never print a traceback into the
user's prompt: a registry that cannot be read simply offers nothing.
"""

from __future__ import annotations

import click
from click.shell_completion import CompletionItem

from fundcmp.errors import FundcmpError


def _registry_option(ctx: click.Context) -> str | None:
    root = ctx.find_root()
    value = root.params.get("registry")
    return value if isinstance(value, str) else None


def slugs(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Slugs in the registry chosen by --registry or $FUNDCMP_REGISTRY, with their names."""
    from fundcmp.registry import indexed, load, resolve_path

    try:
        path = resolve_path(_registry_option(ctx))
        store = indexed(path)  # a large registry's names come from its index, not a load
        names = store.names() if store else [(p.slug, p.name) for p in load(path).programmes]
    except (FundcmpError, OSError, ValueError):
        return []
    return [CompletionItem(slug, help=name) for slug, name in names
            if slug.startswith(incomplete)]


def fields(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Field names for --fields, after any already typed: `slug,du` offers `slug,duration`."""
    from fundcmp.views import CATALOGUE

    done, _, partial = incomplete.rpartition(",")
    prefix = f"{done}," if done else ""
    chosen = set(done.split(","))
    return [CompletionItem(prefix + name, help=title)
            for name, (title, _) in CATALOGUE.items()
            if name.startswith(partial) and name not in chosen]
