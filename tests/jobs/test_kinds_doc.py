"""`crossings kinds KIND` documents every key of the new kinds, nested tables included."""

import pytest
from click.testing import CliRunner

from jobs.cli import cli
from jobs.typed import keys_of
from scrapers.kinds.pdf import Figure, PdfSource
from scrapers.kinds.xlsx import XlsxSource


@pytest.mark.parametrize(("kind", "cls", "nested"), [("xlsx", XlsxSource, None),
                                                     ("pdf", PdfSource, Figure)])  # fmt: skip
def test_kinds_lists_every_key_with_its_help(kind, cls, nested):
    result = CliRunner().invoke(cli, ["kinds", kind])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"source kind '{kind}': ") and lines[0].endswith(".")
    keys = [*keys_of(cls), *(keys_of(nested) if nested else [])]
    for field in keys:
        assert any(line.split()[:1] == [field.name] for line in lines), field.name
        assert field.metadata["help"] in result.output, field.name
