"""One formatter: a figure and a time read the same in the CLI, on the web page and in
alert and digest messages."""

from datetime import UTC
from zoneinfo import ZoneInfo

from alerts.templates import environment as alert_templates
from core.formatting import moment, number
from jobs.cli.output import _readable
from jobs.web.pages import _environment as web_templates


def test_cli_web_and_alerts_show_a_figure_alike():
    web = web_templates(None).filters["number"]
    alerts = alert_templates(None).filters["number"]
    for value in (2612.43, 3596229.0, 56.1, 0.0042, -36.0):
        assert web(value) == alerts(value) == _readable(value, UTC) == number(value)
    assert number(2612.43) == "2,612.43"


def test_times_show_in_the_zone_asked_and_other_text_as_it_is():
    stored = "2025-06-01T08:17:00.000000Z"
    assert moment(stored) == "2025-06-01 08:17 UTC"
    assert moment(stored, ZoneInfo("America/New_York")) == "2025-06-01 04:17 EDT"
    assert alert_templates(None).filters["when"](stored) == "2025-06-01 08:17 UTC"
    assert moment("2025-Q2") == "2025-Q2"
    assert moment(None) == ""
