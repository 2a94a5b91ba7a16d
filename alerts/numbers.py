"""Figures as alerts show them: 3,596,229 / 2,612.4 / 56.1 — readable, not float noise."""


def number(value: float | None) -> str:
    if value is None:
        return "n/a"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")
