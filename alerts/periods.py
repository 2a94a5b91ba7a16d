"""Period text as storage keeps it ('2024-06-03', '2024-06', '2024-Q2', 'FY2024', '2024'):
the same period a year earlier is the same text with the year one less."""

import re

YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def year_earlier(period: str) -> str | None:
    """'2024-06-03' -> '2023-06-03'; 'FY2024' -> 'FY2023'; None if no year to shift.
    29 February has no year-earlier twin and gives None."""
    match = YEAR.search(period)
    if match is None:
        return None
    shifted = f"{period[: match.start()]}{int(match[1]) - 1:04d}{period[match.end() :]}"
    return None if shifted.endswith("-02-29") else shifted
