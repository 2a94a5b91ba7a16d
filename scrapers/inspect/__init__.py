"""Meeting a page: what crossings could read on it, and a source block proven to read it.

`survey(page, name)` looks at a fetched body (an HTML page, a CSV, a workbook, a PDF, a
feed, a JSON document), lists every candidate - a table, a figure card, a family of data
files, a sheet's table, a feed - and for each proposes the keys of a `[sources.NAME]` block
of an existing kind. `Proposal.of(candidate)` builds that source and runs THE SAME
extractor a crawl would run over the same body (a dry run: nothing is stored), so the
values shown are the values the block stores.

One module per kind of body: html (tables, figure cards, listings), links (families of
data files), tabular (csv), workbook (xlsx), pdf, feeds (RSS/Atom/JSON Feed), jsondoc.
`fix` proposes the smallest change to a broken source's block."""

from scrapers.inspect.survey import Candidate, InspectError, Proposal, Survey, survey

__all__ = ["Candidate", "InspectError", "Proposal", "Survey", "survey"]
