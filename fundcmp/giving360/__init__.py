"""360Giving grants data read, checked and grouped into programme figures.

360Giving publishes one record per grant; a programme exists only as the
`grantProgramme` repeated on each grant. The import flows one way:

    read_json / read_csv / read_xlsx   raw grants, one at a time, as the file wrote them
    reader_process                     a large file's reader run in a child process
    fields                             how each value is read (dates, amounts, currencies,
                                       column titles): pure functions
    check                              one grant: counted or not, and all of its problems
    store                              counted grants by group, on disk; exact statistics
    collect                            the flow above, and the grouping rule
    summary                            entries, problems by kind, the report
"""

from fundcmp.giving360.check import Grant, Problem
from fundcmp.giving360.collect import collect, entry_name, slugify
from fundcmp.giving360.reading import ImportDataError
from fundcmp.giving360.store import Spread
from fundcmp.giving360.summary import (
                                       Entry,
                                       Summary,
                                       money_words,
                                       overview_lines,
                                       problem_lines,
                                       source_record,
                                       source_records,
)

__all__ = [
           "Entry",
           "Grant",
           "ImportDataError",
           "Problem",
           "Spread",
           "Summary",
           "collect",
           "entry_name",
           "money_words",
           "overview_lines",
           "problem_lines",
           "slugify",
           "source_record",
           "source_records",
]
