"""Stated against observed: a hand-written entry linked to the grants its money is published under.

The hand-written entry is written from a real file (tests/real360, from ThreeSixtyGiving/grantnav
test data). Comic Relief's grant 360G-CR-4853549 describes Crisis's "In this together: Emergency
grants fund" in Comic Relief's words: two grant streams, "grants of up to £5,000" and "grants
addressing longer-term needs of up to £50,000" (the file writes £ as "Â£", an encoding slip the
quote keeps, since quotes are verbatim). That grant is published under Comic Relief's programme
"COVID19 Emergency Funding" (GB-CHC-326568), beside one more grant: £400,000 and £500,000.
Those are grants *into* funds, so they break the fund's stated ceiling on the grants it makes:
exactly the kind of disagreement between stated and observed that `check` is there to surface.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fundcmp.cli import cli
from fundcmp.registry import load

REAL = Path(__file__).parent / "real360"
DATA = REAL / "grantnav-test_data-awefw001p00000zgyHZAAY.json"
ENTRY = "covid19-emergency-funding-gb-chc-326568"
QUOTE_FOCUS = "in response to the Covid-19 pandemic"
QUOTE_CEILING = "grants addressing longer-term needs of up to Â£50,000"
HAND_WRITTEN = f"""\
  - slug: in-this-together
    name: "In this together: Emergency grants fund"
    funders: [Crisis]
    focus:
      text: emergency grants for the homelessness sector in response to the Covid-19 pandemic
      source: comic-relief-4853549
      quote: "{QUOTE_FOCUS}"
    funding_per_team:
      up_to: 50000
      source: comic-relief-4853549
      quote: "{QUOTE_CEILING}"
      note: the larger of the fund's two grant streams
    published_as:
      funder_id: GB-CHC-326568
      programme: COVID19 Emergency Funding
      entry: {ENTRY}
"""
SOURCE = f"""\
  - id: comic-relief-4853549
    publisher: Comic Relief
    title: "360Giving grants data: grant 360G-CR-4853549, In This Together"
    date: "2020-04-09"
    document: {DATA.name}
"""


def grant_description(grant_id: str) -> str:
    grants = json.loads(DATA.read_text(encoding="utf-8"))["grants"]
    return next(str(g["description"]) for g in grants if g["id"] == grant_id)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real file imported, then the hand-written entry and its source added by hand."""
    path = tmp_path_factory.mktemp("published") / "linked.yaml"
    result = CliRunner().invoke(cli, ["import", str(DATA), "--into", str(path)])
    assert result.exit_code in (0, 3), result.stderr
    text = path.read_text(encoding="utf-8")
    text = text.replace("\nsources:\n", f"\nsources:\n{SOURCE}", 1)
    text = text.replace("\nprogrammes:\n", f"\nprogrammes:\n{HAND_WRITTEN}\n", 1)
    path.write_text(text, encoding="utf-8")
    return path


def invoke(registry: Path, *args: str, code: int = 0) -> tuple[str, str]:
    result = CliRunner().invoke(cli, ["--registry", str(registry), *args],
                                env={"COLUMNS": "220"})
    assert result.exit_code == code, result.stderr
    return result.stdout, result.stderr


def test_the_quotes_are_the_publishers_own_words() -> None:
    words = grant_description("360G-CR-4853549")
    assert QUOTE_CEILING in words and QUOTE_FOCUS in words
    assert "50,000" in QUOTE_CEILING


def test_the_link_carries_the_observed_grants(registry: Path) -> None:
    p = load(registry, use_cache=False).by_slug()["in-this-together"]
    assert p.published is not None
    seen = p.published.funding_per_grant
    assert (seen.low, seen.mid, seen.high, seen.n) == (400000, 450000, 500000, 2)
    assert p.published.total_funding.low == 900000


def test_show_puts_stated_beside_observed(registry: Path) -> None:
    out, _ = invoke(registry, "show", "in-this-together", "--format", "tsv")
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in out.splitlines()}
    assert rows["Funding per team: stated vs observed"][0] == (
        "stated up to £50,000; observed 2 grants, £400,000-£500,000, median £450,000")
    assert rows["Grants published as"][0] == "GB-CHC-326568: COVID19 Emergency Funding"


def test_compare_and_explain_put_them_side_by_side(registry: Path) -> None:
    out, _ = invoke(registry, "compare", "in-this-together", ENTRY, "--format", "json")
    linked, imported = json.loads(out)
    assert linked["funding"]["kind"] == "ceiling"
    assert linked["published_funding"]["kind"] == "observed"
    assert linked["published_funding"]["high"] == imported["funding"]["high"] == 500000
    out, _ = invoke(registry, "explain", "in-this-together", "--format", "tsv")
    observed = [line for line in out.splitlines() if "\tobserved\t" in line]
    assert observed[0].startswith("Funding per team\t400000-500000\tobserved\tstated up to "
                                  "£50,000; observed 2 grants")


def test_check_flags_the_ceiling_its_grants_exceed(registry: Path) -> None:
    out, _ = invoke(registry, "check", "--format", "tsv", "--no-header", code=1)
    flagged = [line.split("\t") for line in out.splitlines()
               if line.startswith("in-this-together\t")]
    assert len(flagged) == 1
    _, check, first, first_quote, second, _ = flagged[0]
    assert check == "published grants above the stated ceiling"
    assert first == "stated funding per team up to £50,000"
    assert first_quote == QUOTE_CEILING
    assert second.startswith("observed 2 grants £400,000-£500,000 (the largest, £500,000, is "
                             "above it), published under COVID19 Emergency Funding "
                             "(GB-CHC-326568; imported as " + ENTRY)


def test_every_other_command_warns_of_it(registry: Path) -> None:
    _, err = invoke(registry, "list", "--format", "tsv")
    assert "fundcmp: warning: in-this-together: published grants above the stated ceiling" in err


@pytest.mark.parametrize(("link", "words"), [
    ("entry: nowhere", "no programme with slug 'nowhere'"),
    ("entry: linked", "names this programme itself"),
    ("entry: hand", "'hand' is not an imported entry"),
    ("entry: Not A Slug", "must be the slug of an imported entry"),
])
def test_a_bad_link_is_one_line_naming_the_field(link: str, words: str,
                                                  tmp_path: Path) -> None:
    text = f"""\
sources:
  - {{id: s, publisher: P, title: T, date: "2020"}}
programmes:
  - slug: hand
    name: Hand
    funders: [F]
  - slug: linked
    name: Linked
    funders: [F]
    published_as: {{funder_id: GB-1, programme: P, {link}}}
"""
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--registry", str(path), "list"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert words in result.stderr and "published_as.entry" in result.stderr
    assert ":10:" in result.stderr or "line 10" in result.stderr


DISAGREEING = """\
sources:
  - {id: s, publisher: P, title: T, date: "2020"}
  - {id: data, publisher: P, title: grants data, date: "2021"}
programmes:
  - slug: stated
    name: Stated
    funders: [F]
    team_noun: projects
    teams: {amount: 5, source: s, quote: "five projects"}
    funding_per_team: {up_to: 50000, source: s, quote: "up to £50,000"}
    total_funding: {amount: 100000, source: s, quote: "a £100,000 fund"}
    duration: {range: [12, 24], source: s, quote: "for one to two years"}
    published_as: {funder_id: GB-1, programme: Fund, entry: fund}
  - slug: fund
    name: Fund
    funders: [F]
    team_noun: grants
    teams: {amount: 8, derived: grants in the imported data}
    funding_per_team:
      observed: {min: 5000, median: 15000, max: 40000, n: 8}
      derived: amounts
      source: data
    total_funding: {amount: 150000, derived: sum of amounts}
    duration:
      observed: {min: 6, median: 12, max: 30, n: 8}
      derived: durations
      source: data
"""


def test_check_reports_teams_total_and_durations_with_their_evidence(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(DISAGREEING, encoding="utf-8")
    out, _ = invoke(path, "check", "--format", "tsv", "--no-header", code=1)
    rows = [line.split("\t") for line in out.splitlines()]
    assert [(r[0], r[1]) for r in rows] == [
        ("stated", "more published grants than stated projects"),
        ("stated", "published grants total more than the stated budget"),
        ("stated", "published grant durations outside the stated span"),
    ]
    teams, total, durations = rows
    assert teams[2:4] == ["stated projects 5", "five projects"]
    assert teams[4].startswith("observed grants number 8, published under Fund (GB-1; "
                               "imported as fund")
    assert total[2:4] == ["stated total £100,000", "a £100,000 fund"]
    assert total[4].startswith("observed grants total £150,000")
    assert durations[2:4] == ["stated duration 12-24 months", "for one to two years"]
    assert durations[4].startswith("observed 8 grants' durations 6-30 months, published under "
                                   "Fund (GB-1; imported as fund from source data)")


def test_match_weighs_stated_first_and_shows_the_published_grants(registry: Path) -> None:
    out, _ = invoke(registry, "match", "--amount", "30000", "--funder", "crisis", "--format",
                    "tsv", "--no-header")
    slug, _, fit, _, reason = out.rstrip("\n").split("\t")
    assert (slug, fit) == ("in-this-together", "fits")
    assert reason == ("Fits: asks £30,000; the programme gives up to £50,000. Fits: published "
                      "grants: £30,000 is below all 2 grants (the smallest was £400,000).")
    out, _ = invoke(registry, "match", "--amount", "450000", "--fields", "slug,fit",
                    "--format", "tsv", "--no-header")
    fits = dict(line.split("\t") for line in out.splitlines())
    # The stated ceiling rules, though £450,000 is the median of the published grants.
    assert fits["in-this-together"] == "does not fit"
    assert fits[ENTRY] == "fits"
    assert fits["big-night-in-gb-gor-d5"] == "fits with a caveat"  # below its one grant
