"""Layout rules: a figure is never broken, a fitted table never passes the screen's edge."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from fundcmp import layout


@given(low=st.integers(0, 10**9), high=st.integers(0, 10**9), chars=st.integers(1, 40),
       before=st.sampled_from(["", "★ ", "up to "]), after=st.sampled_from(["", " *"]))
@example(low=300000, high=500000, chars=12, before="", after="")
def test_wrapping_never_breaks_a_figure(low: int, high: int, chars: int, before: str,
                                        after: str) -> None:
    text = f"{before}£{low:,}-£{high:,}{after}"
    lines = layout.wrap(text, max(chars, layout.least(text, False)), False)
    joined = " ".join(lines)
    assert f"£{low:,}-" in joined and f"£{high:,}" in joined
    assert all(line == line.strip() for line in lines)
    for line in lines:
        assert not line.endswith("£")


@given(st.lists(st.text(alphabet="ab £,0123456789-", max_size=30), min_size=1, max_size=5),
       st.integers(10, 200))
def test_a_fitted_table_is_never_wider_than_the_screen(cells: list[str], screen: int) -> None:
    grid = [[(f"h{i}", True) for i in range(len(cells))], [(c, False) for c in cells]]
    fitted = layout.fit(grid, screen)
    if fitted is not None:
        assert sum(fitted.widths) + fitted.style.overhead(len(fitted.keep)) <= screen
        for i, chars in zip(fitted.keep, fitted.widths, strict=True):
            assert chars >= layout.least(cells[i], False)


@given(st.text(alphabet="ab漢 £1-", max_size=40), st.integers(-2, 30), st.booleans())
@example("漢漢漢", 1, True)
def test_wrapped_lines_fit_unless_a_figure_is_wider(text: str, chars: int, prose: bool) -> None:
    lines = layout.wrap(text, chars, prose)
    for line in lines:
        assert layout.width(line) <= max(chars, 1) or not any(
            t.foldable for t in layout.tokens(line, prose)) or layout.width(line) <= 2
    assert "".join(text.split()) == "".join("".join(lines).split())


def test_a_derived_mark_goes_down_with_its_figure_rather_than_alone() -> None:
    assert layout.wrap("up to £45,000 *", 9, False) == ["up to", "£45,000 *"]
    assert layout.wrap("★ £100,000-£250,000 *", 19, False) == ["★ £100,000-", "£250,000 *"]
    assert layout.wrap("24-36 months", 9, False) == ["24-", "36 months"]
    assert layout.wrap("2012-06", 4, False) == ["2012-06"]
