"""A synthetic OHSS-shaped workbook for the xlsx benchmark, and the reference sums.

One sheet, "Monthly Region", as the real OHSS workbook has it: `Fiscal\\nYear`, `Month`
("01 October" ... "12 September"), `Region`, `Quantity`; one row per fiscal year, month
and region. Written with openpyxl (write-only) by the baseline venv's Python:

    bench/.work/venv/bin/python bench/xlsxsheet.py ROWS PATH
"""

import sys
from pathlib import Path

MONTHS = ["October", "November", "December", "January", "February", "March", "April",
          "May", "June", "July", "August", "September"]  # fmt: skip
YEARS = range(2000, 2025)
SHEET = "Monthly Region"


def regions(rows: int) -> list[str]:
    count = -(-rows // (len(YEARS) * len(MONTHS)))
    return [f"Region {number:04d}" for number in range(count)]


def quantity(year: int, month: int, region: int) -> int:
    return (year * 7 + month * 131 + region * 17) % 9973


def rows(count: int):
    names = regions(count)
    made = 0
    for year in YEARS:
        for month, name in enumerate(MONTHS, start=1):
            for index, region in enumerate(names):
                if made == count:
                    return
                made += 1
                yield year, f"{month:02d} {name}", region, quantity(year, month, index)


def reference(count: int) -> dict[str, float]:
    """Sum per calendar month over all regions, as '2000-10' -> total (fiscal months)."""
    sums: dict[str, float] = {}
    for year, month, _, value in rows(count):
        number = MONTHS.index(month[3:]) + 1
        calendar = number + 9 if number <= 3 else number - 3
        key = f"{year - 1 if calendar >= 10 else year}-{calendar:02d}"
        sums[key] = sums.get(key, 0.0) + value
    return sums


def write(count: int, path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    sheet.append(["Fiscal\nYear", "Month", "Region", "Quantity"])
    for row in rows(count):
        sheet.append(list(row))
    book.save(path)


if __name__ == "__main__":
    write(int(sys.argv[1]), Path(sys.argv[2]))
