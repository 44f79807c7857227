"""Write a valid, varied registry of N programmes, the same bytes for the same seed.

Every quantity shape the registry format knows appears (amount, range, up_to,
unknown, and derived on top of a stated shape), with dates of every precision,
support with value, days and components, and figures citing a pool of sources.
The YAML is written as text, not through a YAML library, so generating 100,000
programmes takes seconds and does not depend on the code being measured.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

WORDS = ("health", "care", "community", "shared", "purpose", "ambition", "learning", "people",
         "powered", "partnership", "improvement", "quality", "patient", "voice", "design",
         "local", "action", "data", "digital", "research", "closing", "gap", "bridge", "open",
         "future", "together", "rural", "city", "youth", "carer")
FUNDERS = ("The Health Foundation", "NESTA", "NHS England", "the National Lottery",
           "Wellcome", "Nuffield Trust", "The King's Fund", "UKRI", "Esmée Fairbairn")
COMPONENTS = ("coaching", "training", "facilitation", "learning events", "mentoring",
              "peer review", "evaluation", "service design", "data support")


def _q(text: str) -> str:
    """A YAML double-quoted scalar (a JSON string is one)."""
    return json.dumps(text, ensure_ascii=False)


def _date(rng: random.Random) -> str:
    year = rng.randint(1995, 2030)
    precision = rng.random()
    if precision < 0.2:
        return f"{year}"
    if precision < 0.5:
        return f"{year}-{rng.randint(1, 12):02d}"
    return f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _quantity(rng: random.Random, scale: int, whole: bool, sources: int,
              least: int = 1) -> tuple[str, float | None, float | None]:
    """One quantity of at least `least` as a flow mapping, in a random shape, with its bounds."""
    shape = rng.random()
    if shape < 0.15:
        return "{unknown: " + _q(rng.choice(("not stated", "stated in days, not money",
                                              "the sources give no figure"))) + "}", None, None
    low: float = rng.randint(least, least + scale)
    if not whole and rng.random() < 0.1:
        low = round(low + rng.randint(0, 99) / 100, 2)
    high = low
    if shape < 0.45:
        body = f"amount: {low}"
    elif shape < 0.75:
        high = low + rng.randint(0, scale)
        body = f"range: [{low}, {high}]"
    else:
        body = f"up_to: {low}"
        low = 0
    parts = [body]
    derived = rng.random() < 0.2
    if derived:
        parts.append("derived: " + _q(f"programme total / {rng.randint(2, 40)} teams"))
    if not derived or rng.random() < 0.5:
        parts.append(f"source: src-{rng.randrange(sources)}")
        parts.append("quote: " + _q(f"stated as {body.split(': ', 1)[1]} in the source"))
    if rng.random() < 0.1:
        parts.append("note: " + _q("the figure covers grants and support together"))
    return "{" + ", ".join(parts) + "}", low, high


def _dated(key: str, date: str, src: int) -> str:
    return f"    {key}: {{date: {_q(date)}, source: src-{src}, quote: {_q('on ' + date)}}}"


def _programme(rng: random.Random, index: int, sources: int) -> list[str]:
    """One programme whose facts agree with each other, as a careful registry's would."""
    name = " ".join(w.capitalize() for w in rng.sample(WORDS, rng.randint(2, 4)))
    lines = [f"  - slug: {'-'.join(name.lower().split())}-{index}",
             f"    name: {_q(name)}",
             f"    funders: [{', '.join(_q(f) for f in rng.sample(FUNDERS, rng.randint(1, 2)))}]"]
    src = rng.randrange(sources)
    if rng.random() < 0.3:
        lines.append(f"    partners: [{_q(rng.choice(FUNDERS))}]")
    if rng.random() < 0.6:
        lines.append(_dated("announced", _date(rng), src))
    if rng.random() < 0.7:
        focus = " ".join(rng.sample(WORDS, 6))
        lines.append(f"    focus: {{text: {_q(focus)}, source: src-{src}, quote: {_q(focus)}}}")
    if rng.random() < 0.1:
        lines.append(f"    part_of: {{text: {_q('a wider programme')}, source: src-{src}, "
                     f"quote: {_q('part of a wider programme')}}}")
    if rng.random() < 0.3:
        lines.append(f"    team_noun: {rng.choice(('areas', 'projects', 'award-holder teams'))}")
    teams, teams_low, teams_high = _quantity(rng, 40, True, sources)
    funding, funding_low, funding_high = _quantity(rng, 900_000, False, sources)
    lines.append(f"    teams: {teams}")
    lines.append(f"    funding_per_team: {funding}")
    whole_pounds = funding_high is not None and float(funding_high).is_integer() \
        and float(funding_low or 0).is_integer()
    if teams_high is not None and funding_high is not None and whole_pounds \
            and rng.random() < 0.6:
        most = int(teams_high * funding_high)
        least = int((teams_low or 0) * (funding_low or 0))
        total = rng.choice((f"amount: {most}", f"up_to: {most}", f"range: [{least}, {most}]"))
        lines.append(f"    total_funding: {{{total}, derived: \"teams x funding per team\"}}")
    elif rng.random() < 0.3:
        lines.append("    total_funding: {unknown: \"not stated\"}")
    duration, _, months = _quantity(rng, 48, True, sources)
    lines.append(f"    duration: {duration}")
    if rng.random() < 0.6:
        year, month = rng.randint(1995, 2030), rng.randint(1, 12)
        lines.append(_dated("start", f"{year}-{month:02d}", src))
        if months is not None:
            end = year * 12 + month - 1 + int(months)
            lines.append(_dated("end", f"{end // 12}-{end % 12 + 1:02d}", src))
    if rng.random() < 0.5:
        # never fewer applications than awards, as the check command would rightly object
        applications, _, _ = _quantity(rng, 400, True, sources, int(teams_high or 0) + 1)
        lines.append(f"    applications: {applications}")
    if rng.random() < 0.7:
        lines.append("    support:")
        lines.append(f"      description: {_q('tailored support for each team')}")
        if rng.random() < 0.8:
            lines.append(f"      value: {_quantity(rng, 90_000, False, sources)[0]}")
        if rng.random() < 0.4:
            lines.append(f"      days: {_quantity(rng, 40, False, sources)[0]}")
        picked = rng.sample(COMPONENTS, rng.randint(1, 4))
        lines.append("      components:")
        lines.extend(f"        - {c}" for c in picked)
        lines.append(f"      source: src-{src}")
        lines.append(f"      quote: {_q('support including ' + ', '.join(picked))}")
    if rng.random() < 0.1:
        lines.append(f"    price_year: {rng.randint(2005, 2025)}")
    return lines


def generate(count: int, seed: int) -> str:
    """The registry text: same count and seed, same text."""
    rng = random.Random(seed)
    sources = max(5, count // 50)
    lines = [f"# generated by benchmarks/generate.py: {count} programmes, seed {seed}",
             "sources:"]
    for i in range(sources):
        lines += [f"  - id: src-{i}",
                  f"    publisher: {_q(rng.choice(FUNDERS))}",
                  f"    title: {_q('Programme announcement ' + str(i))}",
                  f"    date: {_q(_date(rng))}"]
        if rng.random() < 0.5:
            lines.append(f"    url: https://example.org/news/{i}")
    lines.append("programmes:")
    for i in range(count):
        lines += _programme(rng, i, sources)
    return "\n".join(lines) + "\n"


def as_jsonl(text: str) -> str:
    """The same registry as JSON Lines (what `fundcmp import --into X.jsonl` writes): each
    source and programme block read on its own, so no 100,000-programme YAML parse is needed."""
    import yaml

    loader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    out = []
    section = ""
    block: list[str] = []

    def flush() -> None:
        if block:
            (item,) = yaml.load("\n".join(block), Loader=loader)
            wrapped = {"source": item} if section == "sources" else item
            out.append(json.dumps(wrapped, ensure_ascii=False))
            block.clear()

    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.startswith(" "):
            flush()
            section = line.rstrip(":")
            continue
        if line.startswith("  - "):
            flush()
        block.append(line)
    flush()
    return "\n".join(out) + "\n"


def grants(count: int, seed: int, programmes: int) -> str:
    """A 360Giving JSON data package of `count` grants spread over `programmes` programmes,
    the first grant of each programme among the first `programmes` grants."""
    rng = random.Random(seed)
    items = []
    for i in range(count):
        drawn = rng.randrange(programmes)
        p = i if i < programmes else drawn
        year = rng.randint(2005, 2024)
        items.append({
            "id": f"360G-bench-{seed}-{i}", "title": f"Grant {i}", "description": "a grant",
            "currency": "GBP", "amountAwarded": rng.randint(1, 500) * 1000,
            "awardDate": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "recipientOrganization": [{"id": f"GB-CHC-{rng.randint(1, 10**6)}",
                                       "name": "A recipient"}],
            "fundingOrganization": [{"id": "GB-CHC-1234567", "name": "Benchmark Trust"}],
            "grantProgramme": [{"code": f"BP{p}", "title": f"Benchmark programme {p}"}],
            "plannedDates": [{"duration": rng.randint(6, 48)}],
        })
    return json.dumps({"grants": items}, indent=1) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="how many programmes (grants with --grants)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("-o", "--output", type=Path, help="file to write (default stdout)")
    parser.add_argument("--jsonl", action="store_true",
                        help="write the registry as JSON Lines instead of YAML")
    parser.add_argument("--grants", type=int, metavar="PROGRAMMES", default=None,
                        help="write COUNT 360Giving grants over PROGRAMMES programmes instead")
    args = parser.parse_args(argv)
    if args.grants:
        text = grants(args.count, args.seed, args.grants)
    else:
        text = generate(args.count, args.seed)
        if args.jsonl:
            text = as_jsonl(text)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
