"""Imported programmes written into a registry's text without touching anything else.

The registry is edited as text, not re-dumped: new entries are appended to the
`programmes` (and `sources`) list at its own indentation, and with --replace an
existing entry's lines are swapped for the new ones. Every other byte, hand-
written entries and comments included, stays as it was. The result is loaded
with the ordinary loader before it is returned, so a merge never produces a
registry fundcmp would refuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from fundcmp.errors import RegistryError
from fundcmp.giving360 import Entry, entry_name
from fundcmp.model import Evidence, Kind, Quantity, Unit, observed, unknown
from fundcmp.registry import build, parse, quantity_data
from fundcmp.yaml_plain import reads_as_text

HEADER = """\
# fundcmp registry written by `fundcmp import` from 360Giving grants data.
# An observed figure is a spread over the imported grants: min, median, max and n.
# funding_per_year is observed too: each grant's own amount / its own duration x 12.
# Money is in the currency each entry states (GBP unless it says otherwise).
"""


def _with_source(q: Quantity, source_id: str) -> Quantity:
    return replace(q, evidence=Evidence(source_id, ""))


def programme_data(e: Entry, source_id: str) -> dict[str, Any]:
    """One imported entry as a registry programme mapping."""
    grants = f"{e.grants} grant{'s' if e.grants != 1 else ''}"
    money_note = "" if e.currency == Unit.GBP else f"in {e.currency}, not converted to pounds"
    recipients = f"{e.recipients} distinct recipient{'s' if e.recipients != 1 else ''}"
    if e.grants_without_recipient:
        recipients += f" ({e.grants_without_recipient} grants name none)"
    funding = _with_source(observed(
        e.amount.low, e.amount.median, e.amount.high, e.amount.n, e.currency,
        formula=f"amountAwarded of each of {grants}; the median stands for the programme",
        quantiles=e.amount.quantiles), source_id)
    if money_note:
        funding = replace(funding, note=money_note)
    teams = Quantity(Kind.DERIVED, Unit.COUNT, e.grants, e.grants, e.grants,
                     formula="grants (360Giving identifiers) in the imported data",
                     note=f"{recipients}; awarded {e.first_award} to {e.last_award}; "
                          f"funder {e.funder_name} ({e.funder_id})")
    total = Quantity(Kind.DERIVED, e.currency, e.total, e.total, e.total,
                     formula=f"sum of amountAwarded over {grants}", note=money_note)
    spread = e.duration_months
    if spread is None:
        duration = unknown(Unit.MONTHS, "no grant states a duration or start and end dates")
    else:
        duration = _with_source(observed(
            spread.low, spread.median, spread.high, spread.n, Unit.MONTHS,
            formula="planned duration of each grant: its stated months, else start to end "
                    "date (a YYYY or YYYY-MM date widens it to a range; the median is of "
                    "midpoints)", quantiles=spread.quantiles), source_id)
    data: dict[str, Any] = {
        "slug": e.slug,
        "name": entry_name(e),
        "funders": [e.funder_name],
        "team_noun": "grants",
        "teams": quantity_data(teams),
        "funding_per_team": quantity_data(funding),
        "total_funding": quantity_data(total),
        "duration": quantity_data(duration),
    }
    if e.per_year is not None:
        yearly = _with_source(observed(
            e.per_year.low, e.per_year.median, e.per_year.high, e.per_year.n, e.currency,
            formula=f"observed: each grant's own amountAwarded / its own planned duration "
                    f"x 12, over the {e.per_year.n} of {grants} stating both (a duration "
                    "from YYYY or YYYY-MM dates taken at its midpoint)",
            quantiles=e.per_year.quantiles), source_id)
        data["funding_per_year"] = quantity_data(replace(yearly, note=money_note)
                                                 if money_note else yearly)
    if e.price_year is not None:
        data["price_year"] = e.price_year
    return data


@dataclass(frozen=True, slots=True)
class Merged:
    """The new registry text and what happened to each imported slug."""

    text: str
    added: tuple[str, ...]
    replaced: tuple[str, ...]
    kept: tuple[str, ...]
    source_id: str

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced)


class _Flow(dict[str, Any]):
    """A mapping written on one line, as `observed: {min: .., median: .., max: .., n: ..}`."""


def _dump(item: dict[str, Any], dash_column: int) -> str:
    """One list item as block YAML, its dash at dash_column; short lists and spreads inline."""
    import yaml

    class Dumper(yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper):  # type: ignore[misc]
        """libyaml's emitter where built: the pure-Python one is most of a large import's
        writing time."""

    def flow_mapping(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
        return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)

    def flow_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
        return dumper.represent_sequence("tag:yaml.org,2002:seq", data,
                                         flow_style=all(isinstance(v, (str, int, float))
                                                        for v in data))

    def text(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
        """Quoted whenever the loader's rule would read it as anything but this text."""
        node = dumper.represent_str(data)
        if not reads_as_text(data) and isinstance(node, yaml.ScalarNode) and not node.style:
            node.style = "'"
        return node

    Dumper.add_representer(str, text)
    Dumper.add_representer(_Flow, flow_mapping)
    Dumper.add_representer(list, flow_list)
    body = yaml.dump([_flows(item)], Dumper=Dumper, sort_keys=False, allow_unicode=True,
                     width=100, default_flow_style=False)
    pad = " " * dash_column
    return "".join(pad + line if line.strip() else line for line in body.splitlines(True))


def _flows(value: Any) -> Any:
    """Spreads marked for one-line writing; everything else as it is."""
    if isinstance(value, dict):
        return {k: _Flow(v) if k == "observed" else _flows(v) for k, v in value.items()}
    return value


def _last_node(node: Any) -> Any:
    import yaml

    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.value \
            and not node.flow_style:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    return node


class _List:
    """A block list in the registry text: where its items start and end."""

    def __init__(self, text: str, path: str, key: Any, node: Any) -> None:
        import yaml

        self.text = text
        self.key_column: int = key.start_mark.column
        self.node = node
        if not isinstance(node, yaml.SequenceNode):
            raise RegistryError(path, key.start_mark.line + 1, "must be a list",
                                field=key.value)
        if node.flow_style and node.value:
            raise RegistryError(path, key.start_mark.line + 1, "written as a [...] list; "
                                "write it as a block list (one '- ' item a line) to import "
                                "into it", field=key.value)
        self.spans = [self._span(path, item) for item in node.value]

    def _span(self, path: str, item: Any) -> tuple[int, int]:
        text = self.text
        dash = text.rfind("-", 0, item.start_mark.index)
        start = text.rfind("\n", 0, dash) + 1
        if text[start:dash].strip():
            raise RegistryError(path, item.start_mark.line + 1, "cannot edit an item that "
                                "does not start its own line")
        end = _last_node(item).end_mark.index
        if end == 0 or text[end - 1] != "\n":
            newline = text.find("\n", end)
            end = len(text) if newline == -1 else newline + 1
        while True:
            previous = text.rfind("\n", start, end - 1)
            if previous < start or text[previous + 1:end].strip():
                return start, end
            end = previous + 1

    @property
    def dash_column(self) -> int:
        if self.spans:
            start = self.spans[0][0]
            return self.text.index("-", start) - start
        return self.key_column + 2

    def append(self, items: Sequence[dict[str, Any]], gap: str = "") -> tuple[int, int, str]:
        """The edit adding items after the last one (or in place of an empty []).

        gap goes before each item added after another (a blank line between programmes).
        """
        block = "".join(gap + _dump(item, self.dash_column) for item in items)
        if not self.spans:
            block = block[len(gap):]
        if not self.spans:
            start = self.node.start_mark.index
            while start > 0 and self.text[start - 1] == " ":
                start -= 1
            return start, self.node.end_mark.index, "\n" + block.rstrip("\n")
        end = self.spans[-1][1]
        if not self.text[:end].endswith("\n"):
            block = "\n" + block
        return end, end, block


def _slug_of(item: Any) -> str | None:
    for key, value in item.value:
        if key.value in ("slug", "id"):
            return str(value.value)
    return None


def merge_all(text: str | None, path: str,
              groups: Sequence[tuple[dict[str, Any], Sequence[Entry]]],
              replace_existing: bool) -> Merged:
    """merge() of each source's entries in turn (an import of several files cites a source
    per set of them); the sources written are named together."""
    added: list[str] = []
    replaced: list[str] = []
    kept: list[str] = []
    ids: list[str] = []
    for source, entries in groups:
        merged = merge(text, path, entries, source, replace_existing)
        text = merged.text
        added += merged.added
        replaced += merged.replaced
        kept += merged.kept
        if merged.added or merged.replaced:
            ids.append(merged.source_id)
    assert text is not None, "merge() makes a registry of no text"
    return Merged(text, tuple(added), tuple(replaced), tuple(kept), ", ".join(ids))


def merge(text: str | None, path: str, entries: Sequence[Entry], source: dict[str, Any],
          replace_existing: bool) -> Merged:
    """The registry text with the entries merged in; text None makes a new registry.

    An entry whose slug is already there is kept as it was (reported as kept)
    unless replace_existing. The source is added only if an entry uses it.
    """
    if text is None:
        data = [programme_data(e, source["id"]) for e in entries]
        new = (HEADER + "\nsources:\n" + _dump(source, 2) + "\nprogrammes:\n"
               + "".join(_dump(d, 2) + "\n" for d in data)).rstrip("\n") + "\n"
        build(parse(new, path), path)
        return Merged(new, tuple(e.slug for e in entries), (), (), source["id"])
    import yaml

    registry = build(parse(text, path), path)
    root = yaml.compose(text, Loader=yaml.CSafeLoader if yaml.__with_libyaml__ else
                        yaml.SafeLoader)
    assert root is not None, "build() refuses an empty registry"
    lists = {key.value: _List(text, path, key, value) for key, value in root.value}
    source_ids = {s.id for s in registry.sources}
    source_id = base = source["id"]
    number = 2
    while source_id in source_ids and not replace_existing:
        source_id, number = f"{base}-{number}", number + 1
    source = {**source, "id": source_id}
    existing = {_slug_of(item): span for item, span in
                zip(lists["programmes"].node.value, lists["programmes"].spans, strict=True)}
    edits: list[tuple[int, int, str]] = []
    added, replaced, kept, appended = [], [], [], []
    for e in entries:
        if e.slug in existing:
            if not replace_existing:
                kept.append(e.slug)
                continue
            start, end = existing[e.slug]
            edits.append((start, end, _dump(programme_data(e, source_id),
                                             lists["programmes"].dash_column)))
            replaced.append(e.slug)
        else:
            appended.append(programme_data(e, source_id))
            added.append(e.slug)
    if not added and not replaced:
        return Merged(text, (), (), tuple(kept), source_id)
    if appended:
        edits.append(lists["programmes"].append(appended, gap="\n"))
    old_sources = {_slug_of(item): span for item, span in
                   zip(lists["sources"].node.value, lists["sources"].spans, strict=True)}
    if source_id in old_sources:
        start, end = old_sources[source_id]
        edits.append((start, end, _dump(source, lists["sources"].dash_column)))
    else:
        edits.append(lists["sources"].append([source]))
    new = text
    newline = "\r\n" if "\r\n" in text else "\n"
    for start, end, insert in sorted(edits, key=lambda edit: edit[0], reverse=True):
        if newline != "\n":
            insert = insert.replace("\n", newline)
        new = new[:start] + insert + new[end:]
    build(parse(new, path), path)
    return Merged(new, tuple(added), tuple(replaced), tuple(kept), source_id)
