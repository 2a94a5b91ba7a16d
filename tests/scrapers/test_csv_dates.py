"""The csv kind reads a date column into a daily series, and every csv or table cell it
cannot read is an error in words naming the column and the cell - never Python's own
("invalid literal for int()"). A table whose periods run down the rows says to add
periods = "rows"."""

import subprocess
import sys
from pathlib import Path

import pytest

from jobs.config import ConfigError, load
from scrapers.extract import LayoutError, Page, extract
from scrapers.kinds.csvfile import CsvSource
from scrapers.kinds.table import TableSource
from storage import Store
from tests.serving import LocalServer, QuietHandler, running

URL = "https://example.org/daily.csv"


def daily(**keys: str) -> CsvSource:
    return CsvSource(name="daily", url=URL, metric="my.daily.encounters", value="Encounters",
                     **{"date": "Date", **keys})  # fmt: skip


def found(source: CsvSource, body: str) -> dict[str, float]:
    extraction = extract(source, Page(URL, body.encode()))
    return {o.period: o.value for o in extraction.observations}


@pytest.mark.parametrize(
    ("body", "keys"),
    [
        ("Date,Encounters\n2025-01-05,4100\n2025-01-06,3900\n", {}),
        ("Date,Encounters\n2025-01-05T00:00:00,4100\n2025-01-06T00:00:00,3900\n", {}),
        ('Date,Encounters\n"Jan 5, 2025",4100\n"Jan 6, 2025","3,900"\n', {}),
        ("Date,Encounters\n01/05/2025,4100\n01/06/2025,3900\n", {"date_format": "MM/DD/YYYY"}),
        ("Date,Encounters\n05/01/2025,4100\n06/01/2025,3900\n", {"date_format": "DD/MM/YYYY"}),
    ],
)
def test_a_date_column_gives_a_daily_series(body: str, keys: dict[str, str]) -> None:
    assert found(daily(**keys), body) == {"2025-01-05": 4100.0, "2025-01-06": 3900.0}


YEARLY = CsvSource(name="yearly", url=URL, metric="m", value="Encounters", year="Year",
                   month="Month", fiscal=False)  # fmt: skip


@pytest.mark.parametrize(
    ("source", "body", "says"),
    [
        (daily(), "Date,Encounters\n01/05/2025,4100\n",
         "line 2 of https://example.org/daily.csv, column 'Date': '01/05/2025' could be "
         'month/day or day/month: declare date_format = "MM/DD/YYYY" (US) or "DD/MM/YYYY"'),
        (daily(), "Date,Encounters\n2025-02-30,4100\n",
         "column 'Date': '2025-02-30' is not a date"),
        (daily(), "Date,Encounters\n2025-01-05,4100\nsoon,1\n",
         "line 3 of https://example.org/daily.csv, column 'Date': 'soon' is not a date"),
        (daily(), "Date,Encounters\n2025-01,4100\n", "column 'Date': '2025-01' is a month"),
        (daily(), "Date,Encounters\n2025-01-05,many\n",
         "column 'Encounters': 'many' is not a number"),
        (YEARLY, "Year,Month,Encounters\n2025-01-01,Jan,4100\n",
         "column 'Year' / 'Month': '2025-01-01' is a day, not a year"),
        (YEARLY, "Year,Month,Encounters\n2025,Janvier,4100\n",
         "column 'Year' / 'Month': 'Janvier' is not a month name (Jan"),
    ],
)  # fmt: skip
def test_a_cell_that_cannot_be_read_is_named_in_words(source, body: str, says: str) -> None:
    with pytest.raises(LayoutError) as caught:
        extract(source, Page(URL, body.encode()))
    assert says in str(caught.value)
    assert "invalid literal" not in str(caught.value)


def test_a_table_of_periods_by_row_says_to_add_periods_rows() -> None:
    html = b"""<table><tr><th>Date</th><th>Encounters</th></tr>
    <tr><td>2025-01-05</td><td>4,100</td></tr><tr><td>2025-01-06</td><td>3,900</td></tr></table>"""
    source = TableSource(name="t", url=URL, metric="my.table.{column}")
    with pytest.raises(LayoutError) as caught:
        extract(source, Page(URL, html))
    assert 'add periods = "rows" to the source' in str(caught.value)
    rows = TableSource(name="t", url=URL, metric="my.table.{column}", periods="rows")
    assert {o.period for o in extract(rows, Page(URL, html)).observations} == {
        "2025-01-05", "2025-01-06",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("keys", "says"),
    [
        ('date = "Date"\nyear = "Year"', "give `year` (with `month` for a monthly series)"),
        ("", "give `year` (with `month` for a monthly series) or `date`"),
        ('date = "Date"\nmonth = "Month"', "`month` needs `year` beside it"),
        ('year = "Year"\ndate_format = "MM/DD/YYYY"', "`date_format` says how the `date` column"),
        ('date = "Date"\ndate_format = "YYYY/MM/DD"', "date_format"),
    ],
)  # fmt: skip
def test_the_config_says_which_date_keys_go_together(tmp_path: Path, keys: str, says: str) -> None:
    path = tmp_path / "crossings.toml"
    path.write_text(
        f'[sources.daily]\nkind = "csv"\nurl = "{URL}"\nmetric = "m"\nvalue = "Encounters"\n'
        + keys
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert says in str(caught.value)


class DailyCsv(QuietHandler):
    def do_GET(self) -> None:
        if self.path == "/daily.csv":
            body = b'Date,Encounters\n"Jan 5, 2025",4100\n"Jan 6, 2025","3,900"\n'
            self.reply(200, body, "text/csv")
        else:
            self.reply(404, b"", "text/plain")


def test_a_daily_csv_is_crawled_into_a_daily_series(tmp_path: Path) -> None:
    with running(LocalServer(DailyCsv)) as site:
        path = tmp_path / "crossings.toml"
        path.write_text(
            '[settings]\ndatabase = "crossings.db"\ndownload_delay = 0\n\n'
            f'[sources.daily]\nkind = "csv"\nurl = "{site.base_url}/daily.csv"\n'
            'metric = "my.daily.encounters"\nvalue = "Encounters"\ndate = "Date"\n',
            encoding="utf-8",
        )
        crawled = subprocess.run(
            [sys.executable, "-m", "jobs", "--config", str(path), "crawl", "daily", "--no-alerts"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert crawled.returncode == 0, crawled.stdout + crawled.stderr
    with Store(tmp_path / "crossings.db", read_only=True) as store:
        points = store.observations.series("my.daily.encounters")
    assert [(p.period, p.value) for p in points] == [("2025-01-05", 4100.0), ("2025-01-06", 3900.0)]
