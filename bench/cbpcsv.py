"""A synthetic CBP "Nationwide Encounters" AOR file: the real header and value shapes
(fiscal years with an open "2026 (FYTD)" year, OCT..SEP, both components, sectors and field
offices with their region, UPPER CASE citizenships with quoted commas, Title 42 ending in
May 2023), with invented counts. Deterministic for a given row count.

    python bench/cbpcsv.py ROWS PATH
"""

import csv
import random
import sys
from collections import defaultdict
from pathlib import Path

HEADER = (
    "Fiscal Year", "Month Grouping", "Month (abbv)", "Component", "Land Border Region",
    "Area of Responsibility", "AOR (Abbv)", "Demographic", "Citizenship", "Title of Authority",
    "Encounter Type", "Encounter Count",
)  # fmt: skip
FISCAL_YEARS = ("2020", "2021", "2022", "2023", "2024", "2025", "2026 (FYTD)")
MONTHS = ("OCT", "NOV", "DEC", "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP")
OPEN_YEAR_MONTHS = 9  # "2026 (FYTD)" runs OCT..JUN
USBP = "U.S. Border Patrol"
OFO = "Office of Field Operations"
SOUTHWEST = "Southwest Land Border"
AREAS = (
    (USBP, SOUTHWEST, "San Diego Sector", "SDC"),
    (USBP, SOUTHWEST, "El Centro Sector", "ELC"),
    (USBP, SOUTHWEST, "Yuma Sector", "YUM"),
    (USBP, SOUTHWEST, "Tucson Sector", "TCA"),
    (USBP, SOUTHWEST, "El Paso Sector", "EPT"),
    (USBP, SOUTHWEST, "Big Bend Sector", "BBT"),
    (USBP, SOUTHWEST, "Del Rio Sector", "DRT"),
    (USBP, SOUTHWEST, "Laredo Sector", "LRT"),
    (USBP, SOUTHWEST, "Rio Grande Valley Sector", "RGV"),
    (USBP, "Northern Land Border", "Blaine Sector", "BLW"),
    (USBP, "Northern Land Border", "Swanton Sector", "SWB"),
    (USBP, "Northern Land Border", "Detroit Sector", "DTM"),
    (USBP, "Other", "Miami Sector", "MIP"),
    (OFO, SOUTHWEST, "San Diego Field Office", "San Diego"),
    (OFO, SOUTHWEST, "Tucson Field Office", "Tucson"),
    (OFO, SOUTHWEST, "El Paso Field Office", "El Paso"),
    (OFO, SOUTHWEST, "Laredo Field Office", "Laredo"),
    (OFO, "Northern Land Border", "Boston Field Office", "Boston"),
    (OFO, "Northern Land Border", "Buffalo Field Office", "Buffalo"),
    (OFO, "Northern Land Border", "Detroit Field Office", "Detroit"),
    (OFO, "Other", "Atlanta Field Office", "Atlanta"),
    (OFO, "Other", "Chicago Field Office", "Chicago"),
    (OFO, "Other", "Houston Field Office", "Houston"),
    (OFO, "Other", "New York Field Office", "New York"),
)
DEMOGRAPHICS = ("Accompanied Minors", "FMUA", "Single Adults", "UC / Single Minors")
CITIZENSHIPS = (
    "MEXICO", "GUATEMALA", "HONDURAS", "EL SALVADOR", "CUBA", "VENEZUELA", "COLOMBIA",
    "ECUADOR", "HAITI", "NICARAGUA", "PERU", "BRAZIL", "INDIA", "UKRAINE", "RUSSIA",
    "TURKEY", "ROMANIA", "PHILIPPINES", "MYANMAR (BURMA)", "CHINA, PEOPLES REPUBLIC OF",
    "OTHER",
)  # fmt: skip


def title_42_in_force(fiscal_year: str, month: str) -> bool:
    """Title 42 expulsions ran from March 2020 (FY2020) to May 2023 (FY2023)."""
    year = int(fiscal_year[:4])
    index = MONTHS.index(month)
    if year == 2020:
        return index >= MONTHS.index("MAR")
    return year in (2021, 2022) or (year == 2023 and index <= MONTHS.index("MAY"))


def rows(count: int, seed: int = 20240601):
    """`count` data rows: combinations drawn at random, counts skewed like the real file
    (most small, a few large, zeros included)."""
    rng = random.Random(seed)
    for _ in range(count):
        fiscal_year = rng.choice(FISCAL_YEARS)
        months = MONTHS[:OPEN_YEAR_MONTHS] if fiscal_year.endswith("(FYTD)") else MONTHS
        month = rng.choice(months)
        component, region, area, abbv = rng.choice(AREAS)
        title = "Title 42" if title_42_in_force(fiscal_year, month) and rng.random() < 0.4 else ""
        title = title or "Title 8"
        if title == "Title 42":
            kind = "Expulsions"
        else:
            kind = "Apprehensions" if component == USBP else "Inadmissibles"
        count_value = int(rng.paretovariate(1.2)) - 1
        yield [
            fiscal_year, "FYTD", month, component, region, area, abbv,
            rng.choice(DEMOGRAPHICS), rng.choice(CITIZENSHIPS), title, kind, count_value,
        ]  # fmt: skip


def write(count: int, path: Path) -> Path:
    """Write the file once; reuse it when it already has this many rows."""
    if path.exists() and path.stat().st_size > 0:
        return path
    temporary = path.with_suffix(".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    with temporary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows(count))
    temporary.rename(path)
    return path


def calendar_month(fiscal_year: str, month: str) -> str:
    """FY2024 OCT is 2023-10; FY2024 JAN is 2024-01."""
    year = int(fiscal_year[:4])
    number = (MONTHS.index(month) + 9) % 12 + 1
    return f"{year - 1 if number >= 10 else year}-{number:02d}"


def southwest_usbp_monthly(path: Path) -> dict[str, float]:
    """The reference sums, computed with the csv module: Border Patrol, Southwest Land
    Border, by calendar month."""
    sums: dict[str, float] = defaultdict(float)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            if row[3] == USBP and row[4] == SOUTHWEST:
                sums[calendar_month(row[0], row[2])] += int(row[11])
    return dict(sums)


if __name__ == "__main__":
    write(int(sys.argv[1]), Path(sys.argv[2]))
