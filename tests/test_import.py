"""`fundcmp import`: 360Giving JSON and CSV files built here, read into registry entries."""

from __future__ import annotations

import csv
import difflib
import json
import random
import re
import statistics
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fundcmp import giving360
from fundcmp.arithmetic import months_between
from fundcmp.cli import cli
from fundcmp.giving360 import fields
from fundcmp.giving360.check import check
from fundcmp.giving360.read_json import facts
from fundcmp.giving360.reading import JSON_NAMES, as_dict
from fundcmp.registry import SHIPPED, load

FUND_ONE = ("GB-CHC-1000001", "Fund One")
FUND_TWO = ("GB-COH-2000002", "Fund Two")


def grant(gid: str, amount: Any = 10000, *, funder: tuple[str, str] = FUND_ONE,
          code: str | None = "P1", title: str | None = "Small Grants", currency: Any = "GBP",
          award: Any = "2020-04-01", start: str | None = None, end: str | None = None,
          months: Any = None, recipient: str | None = "GB-CHC-9000001") -> dict[str, Any]:
    """One grant as the 360Giving JSON schema writes it."""
    g: dict[str, Any] = {"id": gid, "title": f"Grant {gid}", "description": "a grant",
                         "amountAwarded": amount, "awardDate": award,
                         "fundingOrganization": [{"id": funder[0], "name": funder[1]}]}
    if currency is not None:
        g["currency"] = currency
    if recipient is not None:
        g["recipientOrganization"] = [{"id": recipient, "name": f"Org {recipient}"}]
    if code or title:
        g["grantProgramme"] = [{k: v for k, v in (("code", code), ("title", title)) if v}]
    planned = {k: v for k, v in (("startDate", start), ("endDate", end), ("duration", months))
               if v is not None}
    if planned:
        g["plannedDates"] = [planned]
    return g


def write_json(path: Path, grants: list[dict[str, Any]], **package: Any) -> Path:
    path.write_text(json.dumps({"grants": grants, **package}, indent=1), encoding="utf-8")
    return path


CSV_COLUMNS = ["Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date",
               "Planned Dates:Start Date", "Planned Dates:End Date",
               "Planned Dates:Duration (months)", "Recipient Org:Identifier",
               "Recipient Org:Name", "Funding Org:Identifier", "Funding Org:Name",
               "Grant Programme:Code", "Grant Programme:Title"]


def write_csv(path: Path, grants: list[dict[str, Any]]) -> Path:
    """The same grants with the standard's CSV column titles (one funder, one programme)."""
    with path.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.DictWriter(out, CSV_COLUMNS)
        writer.writeheader()
        for g in grants:
            planned = g.get("plannedDates", [{}])[0]
            programme = g.get("grantProgramme", [{}])[0]
            recipient = g.get("recipientOrganization", [{}])[0]
            writer.writerow({
                "Identifier": g["id"], "Title": g["title"], "Description": g["description"],
                "Currency": g.get("currency", ""), "Amount Awarded": g["amountAwarded"],
                "Award Date": g["awardDate"],
                "Planned Dates:Start Date": planned.get("startDate", ""),
                "Planned Dates:End Date": planned.get("endDate", ""),
                "Planned Dates:Duration (months)": planned.get("duration", ""),
                "Recipient Org:Identifier": recipient.get("id", ""),
                "Recipient Org:Name": recipient.get("name", ""),
                "Funding Org:Identifier": g["fundingOrganization"][0]["id"],
                "Funding Org:Name": g["fundingOrganization"][0]["name"],
                "Grant Programme:Code": programme.get("code", ""),
                "Grant Programme:Title": programme.get("title", ""),
            })
    return path


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def listed(registry: Path) -> dict[str, dict[str, Any]]:
    result = run("--registry", registry, "list", "--format", "json", "--fields",
                 "slug,name,funder,teams,funding,total_funding,duration,price_year")
    assert result.exit_code == 0, result.stderr
    return {row["slug"]: row for row in json.loads(result.stdout)}


def test_two_programmes_of_one_funder(tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", [
        grant("G-1", 1000), grant("G-2", 3000),
        grant("G-3", 50000, code="P2", title="Big Grants")])
    out = tmp_path / "out.yaml"
    result = run("import", data, "--into", out)
    assert result.exit_code == 0, result.stderr
    rows = listed(out)
    small, big = rows["small-grants-gb-chc-1000001"], rows["big-grants-gb-chc-1000001"]
    assert (small["teams"]["mid"], small["funding"]["kind"]) == (2, "observed")
    assert (small["funding"]["low"], small["funding"]["mid"], small["funding"]["high"]) == \
        (1000, 2000, 3000)
    assert big["funding"]["n"] == 1 and big["total_funding"]["mid"] == 50000
    assert small["funder"] == "Fund One"
    assert result.stderr == ""


def test_two_funders_with_the_same_programme_title_stay_apart(tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", [
        grant("G-1", 1000, code=None), grant("G-2", 9000, code=None, funder=FUND_TWO)])
    out = tmp_path / "out.yaml"
    assert run("import", data, "--into", out).exit_code == 0
    rows = listed(out)
    assert rows["small-grants-gb-chc-1000001"]["funding"]["mid"] == 1000
    assert rows["small-grants-gb-coh-2000002"]["funding"]["mid"] == 9000
    assert rows["small-grants-gb-coh-2000002"]["funder"] == "Fund Two"


def test_a_programme_paying_in_two_currencies_becomes_two_entries(tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", [
        grant("G-1", 1000), grant("G-2", 2000, currency="EUR"), grant("G-3", 4000, currency="EUR")])
    out = tmp_path / "out.yaml"
    assert run("import", data, "--into", out).exit_code == 0
    rows = listed(out)
    pounds, euros = rows["small-grants-gb-chc-1000001"], rows["small-grants-gb-chc-1000001-eur"]
    assert pounds["funding"]["unit"] == "GBP" and pounds["total_funding"]["mid"] == 1000
    assert euros["funding"]["unit"] == "EUR" and euros["total_funding"]["unit"] == "EUR"
    assert euros["total_funding"]["mid"] == 6000
    assert euros["name"] == "Small Grants (EUR)"
    assert "not converted" in euros["funding"]["note"]


def test_grants_without_a_programme_are_counted_and_grouped_only_on_request(
        tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", [
        grant("G-1"), grant("G-2", 500, code=None, title=None),
        grant("G-3", 700, code=None, title=None)])
    out = tmp_path / "out.yaml"
    result = run("import", data, "--into", out)
    assert "2 grants name no programme while others of their funder do: not imported" \
        in result.stdout
    assert list(listed(out)) == ["small-grants-gb-chc-1000001"]
    other = tmp_path / "other.yaml"
    result = run("import", data, "--into", other, "--ungrouped-as-programme")
    assert result.exit_code == 0
    rows = listed(other)
    ungrouped = rows["no-programme-gb-chc-1000001"]
    assert ungrouped["name"] == "Fund One: grants without a programme"
    assert (ungrouped["teams"]["mid"], ungrouped["total_funding"]["mid"]) == (2, 1200)


def test_funders_of_one_name_naming_no_programme_are_told_apart_by_identifier(
        tmp_path: Path) -> None:
    twin = ("GB-COH-3000003", FUND_ONE[1])
    data = write_json(tmp_path / "g.json", [
        grant("G-1", 500, code=None, title=None),
        grant("G-2", 700, code=None, title=None, funder=twin)])
    result = run("import", data, "--into", tmp_path / "out.yaml")
    assert result.exit_code == 0, result.stderr
    assert ("naming no programme on any grant (Fund One (GB-CHC-1000001), Fund One "
            "(GB-COH-3000003)): 2 grants") in result.stderr


def test_a_funder_naming_no_programme_at_all_becomes_one_entry_and_is_told(
        tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", [
        grant("G-1", 500, code=None, title=None), grant("G-2", 700, code=None, title=None)])
    out = tmp_path / "out.yaml"
    result = run("import", data, "--into", out)
    assert result.exit_code == 0, result.stderr
    assert "naming no programme on any grant (Fund One): 2 grants imported as one entry" \
        in result.stderr
    rows = listed(out)
    assert list(rows) == ["no-programme-gb-chc-1000001"]
    assert rows["no-programme-gb-chc-1000001"]["total_funding"]["mid"] == 1200


def test_partial_dates_give_duration_ranges(tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", [
        grant("G-1", start="2020", end="2021", code="A", title="Years"),
        grant("G-2", start="2020-03", end="2020-08", code="B", title="Months"),
        grant("G-3", start="2020-01-01", end="2021-12-31", code="C", title="Days"),
        grant("G-4", start="2020", end="2020-06", months="6", code="D", title="Stated")])
    out = tmp_path / "out.yaml"
    assert run("import", data, "--into", out).exit_code == 0
    rows = listed(out)

    def spread(slug: str) -> tuple[float, float, float]:
        d = rows[f"{slug}-gb-chc-1000001"]["duration"]
        return d["low"], d["mid"], d["high"]

    low, high = months_between("2020", "2021")
    assert spread("years") == (low, (low + high) / 2, high) == (0, 12, 24)
    assert spread("months") == (4, 5, 6)
    assert spread("days") == (24, 24, 24)
    assert spread("stated") == (6, 6, 6)


BAD = [
    (grant("B-1", "twelve"), "1 grant (no money): amountAwarded: not a number; "
     "left out of the money: B-1"),
    (grant("B-2", 50, currency=None), "1 grant (? 50): currency: missing; "
     "left out of the money: B-2"),
    (grant("B-4", 70, start="2020-13", end="2021"), "1 grant (£70): plannedDates.startDate: "
     "not a date; amount kept, duration unknown: B-4"),
    (grant("G-1", 99), "1 grant (£99): id: duplicate identifier (the first grant with it is "
     "kept); left out of the money: G-1"),
]


def test_each_kind_of_bad_grant_is_summed_up_named_and_counted(tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", [grant("G-1", 1000)] + [b[0] for b in BAD])
    out = tmp_path / "out.yaml"
    result = run("import", data, "--into", out)
    assert result.exit_code == 3
    assert sorted(result.stderr.splitlines()) == sorted(f"fundcmp: {b[1]}" for b in BAD)
    assert "3 grants left out of the money" in result.stdout
    assert listed(out)["small-grants-gb-chc-1000001"]["funding"]["high"] == 1000
    assert listed(out)["small-grants-gb-chc-1000001"]["teams"]["high"] == 2


def test_bad_csv_grants_are_named_by_column_title_and_line(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "g.csv", [grant("G-1"), grant("B-1", "lots")])
    report = tmp_path / "problems.csv"
    result = run("import", data, "--into", tmp_path / "out.yaml", "--report", report)
    assert result.exit_code == 3
    assert result.stderr == ("fundcmp: 1 grant (no money): Amount Awarded: not a number; "
                             "left out of the money: B-1\n")
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert [(r["where"], r["grant_id"], r["field"], r["detail"]) for r in rows] == [
        (f"{data}:3", "B-1", "Amount Awarded", "not a number ('lots')")]


def test_a_grant_without_an_id_is_named_by_its_place_in_its_file(tmp_path: Path) -> None:
    grants = [grant("G-1"), grant("", 500)]
    one = write_json(tmp_path / ("a-long-file-name-" * 4 + ".json"), grants)
    two = write_json(tmp_path / "b.json", grants)
    result = run("import", one, "--into", tmp_path / "out.yaml", "--dry-run")
    assert result.stderr == ("fundcmp: 1 grant (£500): id: missing; left out of the money: "
                             "(no id: grants[1])\n")
    result = run("import", one, two, "--into", tmp_path / "out.yaml", "--dry-run")
    assert result.stderr.startswith(
        f"fundcmp: 2 grants (£1,000): id: missing; left out of the money: "
        f"(no id: {one.name[:30]} grants[1]), (no id: b.json grants[1])"), result.stderr
    data = write_csv(tmp_path / "c.csv", grants)
    result = run("import", data, "--into", tmp_path / "out.yaml", "--dry-run")
    assert result.stderr.endswith(": (no id: line 3)\n"), result.stderr


def test_a_file_of_many_funders_and_no_publisher_makes_a_registry_that_loads(
        tmp_path: Path) -> None:
    """A GrantNav-style export names no publisher: the funders stand in, within the limit."""
    funders = [(f"GB-CHC-{100000 + i}", f"The Very Long Named Charitable Foundation {i}")
               for i in range(300)]
    data = write_json(tmp_path / "export.json", [grant(f"G-{i}", funder=f)
                                                 for i, f in enumerate(funders)])
    copies = [write_json(tmp_path / f"{'a-rather-long-file-name-' * 2}{n}.json",
                         [grant(f"G-{n}-{i}", funder=f) for i, f in enumerate(funders[:2])])
              for n in range(20)]
    for into in (tmp_path / "out.jsonl", tmp_path / "out.yaml"):
        result = run("import", data, *copies, "--into", into)
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("read 340 grants from 21 files\n")
        assert len(listed(into)) == 300
        shown = run("--registry", into, "show", "small-grants-gb-chc-100007", "--format", "json")
        assert shown.exit_code == 0, shown.output
    with (tmp_path / "out.jsonl").open(encoding="utf-8") as lines:
        sources = [json.loads(line)["source"] for line in lines if line.startswith('{"source')]
    # a source per set of files: the 298 funders only in the export cite it alone
    (source,) = [s for s in sources if s["id"] == "360giving-export"]
    assert re.fullmatch(r"(The Very Long Named Charitable Foundation \d+; )+The Very Long "
                        r"Named Charitable Foundation \d+ and \d+ more funders",
                        source["publisher"]), source
    (every,) = [s for s in sources if s["id"] == "360giving-export-and-20-more"]
    assert re.fullmatch(r"export\.json, .*\.json and \d+ more files", every["document"])
    assert all(len(s["publisher"]) < 400 and len(s["document"]) < 400 for s in sources)


def test_overlong_names_are_cut_so_the_registry_written_loads(tmp_path: Path) -> None:
    huge = grant("G-1", funder=("GB-CHC-1000001", "F" * 20_000), code="C" * 20_000, title=None)
    data = write_json(tmp_path / "g.json", [huge, grant("G-2")],
                      publisher={"name": "P" * 20_000})
    for into in (tmp_path / "out.jsonl", tmp_path / "out.yaml"):
        result = run("import", data, "--into", into)
        assert result.exit_code == 0, result.output
        assert result.stderr == ("fundcmp: 1 programme entry's title or funder name was longer "
                                 "than 300 characters: cut to 300\n")
        funders = {row["funder"] for row in listed(into).values()}
        assert funders == {"Fund One", "F" * 297 + "..."}


def test_an_overlong_funder_identifier_leaves_its_grant_out_not_the_file(
        tmp_path: Path) -> None:
    odd = grant("G-1", 700, funder=("GB-CHC-" + "9" * 15_000, "Fund"))
    data = write_json(tmp_path / "g.json", [odd, grant("G-2")])
    result = run("import", data, "--into", tmp_path / "out.jsonl")
    assert result.exit_code == 3, result.output
    assert result.stderr == ("fundcmp: 1 grant (£700): fundingOrganization.id: longer than 300 "
                             "characters, not an organisation identifier; left out of the "
                             "money: G-1\n")
    assert list(listed(tmp_path / "out.jsonl")) == ["small-grants-gb-chc-1000001"]


def test_an_item_of_grants_that_is_no_object_is_one_problem(tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", [None, 5, grant("G-1")])
    result = run("import", data, "--into", tmp_path / "out.jsonl", "--report",
                 tmp_path / "report.csv")
    assert result.exit_code == 3
    assert result.stderr == ("fundcmp: 2 grants (no money): grant: not a grant object; left "
                             "out of the money: (no id: grants[0]), (no id: grants[1])\n")
    rows = list(csv.DictReader((tmp_path / "report.csv").open(encoding="utf-8")))
    assert [r["detail"] for r in rows] == ["not a grant object (null)",
                                           "not a grant object (a number)"]


def test_nothing_importable_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", [grant("B-1", "x")])
    out = tmp_path / "out.yaml"
    result = run("import", data, "--into", out)
    assert result.exit_code == 1
    assert "nothing importable" in result.stderr
    assert not out.exists()


def test_not_360giving_files_are_refused_in_one_line(tmp_path: Path) -> None:
    cases = {
        "a.csv": "Name,Amount\nx,1\n",
        "b.json": '{"grants": [{"id": "G-1"} {"id": "G-2"}]}',
        "c.json": '{"publisher": {"name": "x"}}',
        "d.xlsx": "",
        "e.json": '{"grants": {"id": "G-1", "amountAwarded": 5}}',
        "f.json": '{"grants": null}',
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        result = run("import", path, "--into", tmp_path / "out.yaml")
        assert result.exit_code == 1, name
        last = result.stderr.splitlines()[-1]
        assert last.startswith(f"fundcmp: {path}: "), result.stderr
        assert "Traceback" not in result.stderr
        if name in ("e.json", "f.json"):  # not "nothing importable": the shape is named
            assert result.stderr.count("\n") == 1 and "not a list" in last, result.stderr
    assert not (tmp_path / "out.yaml").exists()



def test_a_tab_separated_file_is_read_as_csv(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "g.csv", [grant("G-1", 700)])
    tsv = tmp_path / "g.tsv"
    tsv.write_text(data.read_text(encoding="utf-8-sig").replace(",", "\t"), encoding="utf-8")
    result = run("import", tsv, "--into", tmp_path / "out.jsonl")
    assert result.exit_code == 0, result.output
    assert "1 programme entry from 1 grant (£700)" in result.stdout


def test_a_file_of_no_known_suffix_is_read_as_json_only_when_it_looks_like_json(
        tmp_path: Path) -> None:
    package = json.dumps({"grants": [grant("G-1")]})
    for name, text in (("grants.txt", package), ("grants", "\ufeff  " + package)):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        result = run("import", path, "--into", tmp_path / f"{name}.yaml", "--dry-run")
        assert result.exit_code == 0, result.stderr
    for name, text in (("x.toml", "a = 1\n"), ("y.txt", "Identifier,Amount Awarded\nG-1,5\n")):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        result = run("import", path, "--into", tmp_path / "out.yaml")
        assert result.exit_code == 1, name
        assert result.stderr.strip() == (
            f"fundcmp: {path}: not a file fundcmp reads: give a 360Giving JSON data package"
            " (.json), CSV (.csv, .tsv) or XLSX (.xlsx) file"), result.stderr

def test_funder_option_keeps_only_that_funders_grants(tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", [grant("G-1"), grant("G-2", funder=FUND_TWO)])
    out = tmp_path / "out.yaml"
    result = run("import", data, "--into", out, "--funder", FUND_TWO[0])
    assert "left out 1 grant of other funders" in result.stdout
    assert list(listed(out)) == ["small-grants-gb-coh-2000002"]


def test_dry_run_prints_the_summary_and_writes_nothing(tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", [grant("G-1")])
    out = tmp_path / "out.yaml"
    result = run("import", data, "--into", out, "--dry-run")
    assert "would add 1 programme:" in result.stdout and "added" not in result.stdout
    assert "dry run: nothing written" in result.stdout
    assert not out.exists()


HAND_WRITTEN = """\
# My registry. These words are mine.
sources:
  - id: mine   # a trailing comment
    publisher: Me
    title: My notes
    date: "2024"

# programmes I typed in
programmes:
  - slug: my-programme
    name: My Programme
    funders: [Someone]
    funding_per_team: {up_to: 5000, source: mine, quote: "up to £5,000"}   # keep this
    duration: {unknown: "not said"}

  # a note after the last programme
"""


def only_insertions(old: str, new: str) -> bool:
    """True when new is old with lines added and none removed or changed."""
    diff = difflib.ndiff(old.splitlines(True), new.splitlines(True))
    return not any(line.startswith("- ") for line in diff)


def test_merge_keeps_hand_written_entries_and_comments_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "mine.yaml"
    out.write_text(HAND_WRITTEN, encoding="utf-8")
    out.chmod(0o640)
    data = write_json(tmp_path / "g.json", [grant("G-1", 1000)])
    result = run("import", data, "--into", out)
    assert result.exit_code == 0, result.stderr
    new = out.read_text(encoding="utf-8")
    assert only_insertions(HAND_WRITTEN, new)
    assert out.stat().st_mode & 0o777 == 0o640
    assert set(listed(out)) == {"my-programme", "small-grants-gb-chc-1000001"}
    assert load(out).by_slug()["my-programme"].funding_per_team.high == 5000


def test_merge_into_the_shipped_registry_keeps_it_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "programmes.yaml"
    shipped = SHIPPED.read_text(encoding="utf-8")
    out.write_text(shipped, encoding="utf-8")
    data = write_json(tmp_path / "g.json", [grant("G-1", 1000)])
    assert run("import", data, "--into", out).exit_code == 0
    new = out.read_text(encoding="utf-8")
    assert only_insertions(shipped, new) and len(new) > len(shipped)
    assert {p.slug for p in load(SHIPPED).programmes} < set(listed(out))


def test_an_existing_slug_is_kept_unless_replace(tmp_path: Path) -> None:
    out = tmp_path / "mine.yaml"
    out.write_text(HAND_WRITTEN, encoding="utf-8")
    data = write_json(tmp_path / "g.json", [grant("G-1", 1000)])
    assert run("import", data, "--into", out).exit_code == 0
    first = out.read_bytes()
    write_json(data, [grant("G-1", 7000)])
    result = run("import", data, "--into", out)
    assert "kept 1 already in" in result.stdout and "unchanged" in result.stdout
    assert out.read_bytes() == first
    result = run("import", data, "--into", out, "--replace")
    assert "replaced 1 programme" in result.stdout
    assert listed(out)["small-grants-gb-chc-1000001"]["funding"]["mid"] == 7000
    assert only_insertions(HAND_WRITTEN, out.read_text(encoding="utf-8"))


def test_merge_into_empty_flow_lists(tmp_path: Path) -> None:
    out = tmp_path / "empty.yaml"
    out.write_text("# empty for now\nsources: []\nprogrammes: []\n", encoding="utf-8")
    data = write_json(tmp_path / "g.json", [grant("G-1", 1000)])
    assert run("import", data, "--into", out).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("# empty for now\nsources:\n  - id:")
    assert list(listed(out)) == ["small-grants-gb-chc-1000001"]


def test_a_bad_registry_is_refused_before_any_grant_is_read(tmp_path: Path) -> None:
    out = tmp_path / "bad.yaml"
    out.write_text("sources: []\nprogrammes: [1]\n", encoding="utf-8")
    data = write_json(tmp_path / "g.json", [grant("G-1")])
    result = run("import", data, "--into", out)
    assert result.exit_code == 1 and "bad.yaml" in result.stderr
    assert out.read_text(encoding="utf-8") == "sources: []\nprogrammes: [1]\n"


def mixed_grants(seed: int, count: int) -> list[dict[str, Any]]:
    """Grants of two funders, three programmes and two currencies, with pennies."""
    rng = random.Random(seed)
    grants = []
    for i in range(count):
        funder = rng.choice([FUND_ONE, FUND_TWO])
        code, title = rng.choice([("P1", "Small Grants"), ("P2", "Big Grants"),
                                  ("P3", "Research")])
        start = f"20{rng.randint(15, 22)}-{rng.randint(1, 12):02d}"
        end = f"20{rng.randint(23, 26)}"
        grants.append(grant(
            f"G-{i}", round(rng.uniform(500, 250000), 2), funder=funder, code=code, title=title,
            currency=rng.choice(["GBP", "GBP", "GBP", "USD"]),
            award=f"20{rng.randint(15, 22)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            start=start, end=end, months=rng.choice([None, rng.randint(6, 60)]),
            recipient=f"GB-CHC-{rng.randint(1, count // 3)}"))
    return grants


def expected(grants: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The figures computed independently: statistics over plain lists per group."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for g in grants:
        key = (g["fundingOrganization"][0]["id"], g["grantProgramme"][0]["title"],
               g["currency"])
        groups.setdefault(key, []).append(g)
    result = {}
    for key, members in groups.items():
        amounts = [g["amountAwarded"] for g in members]
        lows, highs, mids = [], [], []
        for g in members:
            planned = g["plannedDates"][0]
            low, high = months_between(planned["startDate"], planned["endDate"])
            if "duration" in planned:
                stated = planned["duration"]
                if stated > high * 2.5 + 1 or stated < low / 2.5 - 1:
                    continue  # far from the dates: which is right cannot be told, so unknown
                low = high = stated
            lows.append(low)
            highs.append(high)
            mids.append((low + high) / 2)
        result[key] = {
            "teams": len(members), "low": min(amounts), "mid": statistics.median(amounts),
            "high": max(amounts), "total": sum(amounts),
            "recipients": len({g["recipientOrganization"][0]["id"] for g in members}),
            "duration": (min(lows), statistics.median(mids), max(highs)),
            "price_year": statistics.median_low(int(g["awardDate"][:4]) for g in members),
        }
    return result


@pytest.mark.parametrize("small_group", [None, 0, 33])
def test_figures_match_an_independent_computation(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_group: int | None) -> None:
    """Groups are summed up in memory; those too large for that (small_group 0 makes every
    group so, 33 about half of these) are sorted by SQLite instead, with the same figures."""
    from fundcmp.giving360 import store

    if small_group is not None:
        monkeypatch.setattr(store, "SMALL_GROUP", small_group)
    grants = mixed_grants(7, 400)
    data = write_json(tmp_path / "g.json", grants)
    out = tmp_path / "out.yaml"
    assert run("import", data, "--into", out).exit_code == 0
    rows = listed(out)
    want = expected(grants)
    assert len(rows) == len(want) == 12
    registry = load(out).by_slug()
    for (funder_id, title, currency), figures in want.items():
        slug = giving360.slugify(f"{title} {funder_id}")
        slug += "" if currency == "GBP" else f"-{currency.lower()}"
        row = rows[slug]
        funding = row["funding"]
        assert row["teams"]["mid"] == figures["teams"]
        assert (funding["low"], funding["mid"], funding["high"], funding["n"]) == \
            (figures["low"], round(figures["mid"], 2), figures["high"], figures["teams"])
        assert row["total_funding"]["mid"] == pytest.approx(figures["total"], abs=0.005)
        assert (row["duration"]["low"], row["duration"]["mid"], row["duration"]["high"]) == \
            figures["duration"]
        assert row["price_year"] == figures["price_year"]
        assert registry[slug].teams.note.startswith(f"{figures['recipients']} distinct")


@pytest.mark.parametrize("name", ["grantnav-test_data-awefw001p00000zgyHZAAY.json",
                                  "grantnav-sample_data-IndigoTrust_360giving.csv"])
def test_groups_too_large_for_memory_give_every_figure_to_the_last_bit(
        monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    from fundcmp.giving360 import store

    path = Path(__file__).resolve().parent / "real360" / name
    in_memory = giving360.collect([path])
    monkeypatch.setattr(store, "SMALL_GROUP", 0)
    assert giving360.collect([path]) == in_memory
    assert in_memory.entries


def test_json_and_csv_of_the_same_grants_give_the_same_registry(tmp_path: Path) -> None:
    grants = mixed_grants(11, 120)
    from_json, from_csv = tmp_path / "j.yaml", tmp_path / "c.yaml"
    assert run("import", write_json(tmp_path / "g.json", grants), "--into", from_json) \
        .exit_code == 0
    assert run("import", write_csv(tmp_path / "g.csv", grants), "--into", from_csv) \
        .exit_code == 0
    assert listed(from_json) == listed(from_csv)
    without_source = [line for line in from_json.read_text(encoding="utf-8").splitlines()
                      if "g.json" not in line and "360giving-g" not in line]
    assert without_source == [line for line in from_csv.read_text(encoding="utf-8").splitlines()
                              if "g.csv" not in line and "360giving-g" not in line]


def test_ijsons_python_backend_reads_what_its_c_backend_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    grants = [{**g, "fromOpenCall": None, "dataSource": True, "ratio": -1.5e-3}
              for g in mixed_grants(3, 30)]
    data = write_json(tmp_path / "g.json", grants, publisher={"name": "Fund One"},
                      version="1.3", issued=None)
    whole = giving360.collect([data])
    import ijson

    from fundcmp.giving360 import read_json
    monkeypatch.setattr(read_json, "backend", lambda: ijson.get_backend("python"))
    assert giving360.collect([data]) == whole
    assert whole.publishers == ["Fund One"] and whole.grants_used == 30


def test_progress_reports_every_byte_and_stays_off_a_non_terminal(tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", [grant("G-1")])
    seen: list[int] = []
    giving360.collect([data], on_bytes=seen.append)
    assert seen[-1] == data.stat().st_size
    result = run("import", data, "--into", tmp_path / "out.yaml")
    assert result.stderr == ""


def test_an_unwritable_target_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    data = write_json(tmp_path / "g.json", [grant("G-1")])
    result = run("import", data, "--into", tmp_path / "no-such-dir" / "out.yaml")
    assert result.exit_code == 1
    assert result.stderr.startswith("fundcmp: ") and "cannot write" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("start", "end", "months"), [
    ("2020-01-01", "2020-12-31", (12.0, 12.0)),
    ("2020-01-15", "2020-01-16", (0.1, 0.1)),
    ("2020-03", "2020-08", (4.0, 6.0)),
    ("2020", "2021", (0.0, 24.0)),
    ("2020-01-10", "2020-06", (4.0, 6.0)),
])
def test_duration_between_dates_of_any_precision(start: str, end: str,
                                                 months: tuple[float, float]) -> None:
    assert fields.months_between(start, end) == months


@pytest.mark.parametrize(("start", "end"), [("2021-05", "2021-03"), ("2021-05-02", "2021-05-01")])
def test_an_end_before_the_start_is_a_problem(start: str, end: str) -> None:
    with pytest.raises(fields.FieldProblem, match="planned end before start"):
        fields.months_between(start, end)


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"amountAwarded": -5}, "amountAwarded", "negative"),
    ({"amountAwarded": None}, "amountAwarded", "missing"),
    ({"amountAwarded": "1,00"}, "amountAwarded", "not a number"),
    ({"amountAwarded": float("nan")}, "amountAwarded", "not a finite number"),
    ({"currency": "pounds"}, "currency", "ISO 4217"),
    ({"awardDate": "0001-01-01"}, "awardDate", "a year before 1800"),
    ({"awardDate": "2020-02-30"}, "awardDate", "not a date"),
    ({"id": ""}, "id", "missing"),
    ({"fundingOrganization": []}, "fundingOrganization.id", "missing"),
    ({"plannedDates": [{"duration": "a year"}]}, "plannedDates.duration", "not a number"),
    ({"plannedDates": [{"startDate": "2021-05", "endDate": "2021-03"}]},
     "plannedDates.endDate", "planned end before start"),
])
def test_check_names_the_field_of_each_problem(change: dict[str, Any], field: str,
                                               words: str) -> None:
    counted, problems = check(as_dict(facts({**grant("G-9"), **change})), JSON_NAMES,
                              "g.json: grants[0]")
    assert [(p.field, p.grant_id) for p in problems] == \
        [(field, "" if change.get("id") == "" else "G-9")]
    assert words in problems[0].detail
    assert (counted is None) == problems[0].left_out


@pytest.mark.parametrize("batch", [1, 3, 7, 2048])
def test_duplicates_are_found_and_reported_in_file_order_whatever_the_batch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int) -> None:
    """Plain grants are stored in batches; a duplicate still loses to the first grant with
    its identifier, and every problem is reported in the order of the grants."""
    from fundcmp.giving360 import store

    monkeypatch.setattr(store, "BATCH", batch)
    DUPLICATE = "duplicate identifier (the first grant with it is kept)"
    grants = [grant(f"G-{i}", 1000 + i) for i in range(30)]
    grants[5] = grant("G-1", 5)  # a duplicate in the first grant's batch
    grants[12] = grant("G-2", 12)  # in a later batch
    grants[13] = grant("G-13", "x")  # not counted, so its identifier is free
    grants[14] = grant("G-3", 14, start="2020-13", end="2021")  # a problem and a duplicate
    grants[20] = grant("G-13", 2000)  # the first counted G-13: kept
    grants[21] = grant("G-19", 21)  # two grants after the first G-19
    data = write_json(tmp_path / "g.json", grants)
    report = tmp_path / "problems.csv"
    result = run("import", data, "--into", tmp_path / "out.yaml", "--report", report)
    assert result.exit_code == 3, result.stderr
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert [(r["where"], r["grant_id"], r["problem"]) for r in rows] == [
        (f"{data}: grants[5]", "G-1", DUPLICATE),
        (f"{data}: grants[12]", "G-2", DUPLICATE),
        (f"{data}: grants[13]", "G-13", "not a number"),
        (f"{data}: grants[14]", "G-3", "not a date"),
        (f"{data}: grants[14]", "G-3", DUPLICATE),
        (f"{data}: grants[21]", "G-19", DUPLICATE)]
    kept = [g["amountAwarded"] for i, g in enumerate(grants) if i not in (5, 12, 13, 14, 21)]
    entry = listed(tmp_path / "out.yaml")["small-grants-gb-chc-1000001"]
    assert entry["teams"]["high"] == len(kept) == 25
    assert entry["total_funding"]["high"] == sum(kept)
    assert entry["funding"]["low"] == min(kept) == 1000


@pytest.mark.parametrize("small_group", [20_000, 0])
def test_figures_worked_out_from_a_row_are_the_same_in_memory_and_in_sqlite(
        monkeypatch: pytest.MonkeyPatch, small_group: int) -> None:
    """A duration's midpoint, the amount per year and the award year are worked out from
    each stored row, in memory for a small group and by SQLite for a large one: a zero
    midpoint and an amount per year past the ceiling give no per-year figure either way,
    and a grant with no duration or award date none of its own."""
    from fundcmp.giving360 import store
    from fundcmp.giving360.check import Grant

    monkeypatch.setattr(store, "SMALL_GROUP", small_group)
    durations: list[tuple[float, float] | None] = [
        (0.0, 0.0), (12.0, 12.0), None, (0.1, 0.1), (6.0, 30.0), (0.0, 0.0)]
    amounts = [500.0, 1200.5, 99.0, 9e14, 3333.33, 7.0]
    awards = ["2019-01-15", "2021-06", "", "2020", "2018-12-31", ""]
    s = store.Store()
    try:
        for i, (d, amount, award) in enumerate(zip(durations, amounts, awards, strict=True)):
            s.add(Grant(f"G-{i}", "F", "Funder", "", "Fund", "GBP", amount, award, "", d), 1)
        stats = s.finish()[1]
    finally:
        s.close()
    yearly = [1200.5 / 12 * 12, 3333.33 / 18 * 12]  # 0 months and 9e15 a year give none
    assert stats.per_year is not None and stats.duration is not None
    assert (stats.per_year.low, stats.per_year.high, stats.per_year.n) == \
        (min(yearly), max(yearly), 2)
    assert (stats.duration.low, stats.duration.high, stats.duration.n) == (0.0, 18.0, 5)
    assert (stats.shortest, stats.longest) == (0.0, 30.0)
    assert (stats.first_award, stats.last_award, stats.price_year) == \
        ("2018-12-31", "2021-06", 2019)
    assert stats.nameless == 6 and stats.grants == 6


def stored(grants: list[Any], groups: list[int]) -> tuple[list[Any], dict[int, Any]]:
    """The duplicates a Store finds among grants queued in runs of 3, and its statistics."""
    from fundcmp.giving360 import store

    s = store.Store()
    try:
        duplicates = []
        for at in range(0, len(grants), 3):
            run = grants[at:at + 3]
            ids, _, _, _, _, _, amounts, awards, recipients, durations = zip(*run, strict=True)
            if s.add_plain(ids, groups[at:at + 3], amounts, recipients, awards, durations,
                           ids):
                duplicates += s.flush()
        duplicates += s.flush()
        return duplicates, s.finish()
    finally:
        s.close()


def test_a_groups_figures_are_the_same_however_they_were_held_and_written(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Figures held in memory, written out as chunks, or moved to one row a grant when their
    group grows large: the same statistics, and the same duplicates, every way."""
    from fundcmp.giving360 import store
    from fundcmp.giving360.check import Grant

    rng = random.Random(5)
    grants, groups = [], []
    for i in range(300):
        months = rng.choice([None, 6.0, 12.0, 0.0])
        grants.append(Grant(f"G-{rng.randrange(260)}", "F", "Fund", "", "T", "GBP",
                            rng.choice([0.0, -0.0, 5.5, 1e14, float(i)]),
                            rng.choice(["", "2019-01-15", f"20{10 + i % 12}-03-01"]),
                            rng.choice(["", "GB-CHC-1", f"R{i % 7}"]),
                            None if months is None else (months, months + i % 3)))
        groups.append(rng.choice([1, 2, 2, 3, 3, 3]))
    def setting(held: int, chars: int, small: int) -> None:
        monkeypatch.setattr(store, "HELD", held)
        monkeypatch.setattr(store, "HELD_CHARS", chars)
        monkeypatch.setattr(store, "SMALL_GROUP", small)

    setting(1 << 30, 1 << 30, 1 << 30)
    expected = stored(grants, groups)
    assert expected[0] and len(expected[1]) == 3
    for held, chars, small in [(1, 1 << 30, 1 << 30), (7, 1 << 30, 1 << 30), (7, 1 << 30, 40),
                               (1 << 30, 1 << 30, 40), (1 << 30, 50, 1 << 30), (5, 1 << 30, 0)]:
        setting(held, chars, small)
        assert stored(grants, groups) == expected, (held, chars, small)
