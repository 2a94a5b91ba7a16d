"""Where test pages come from. They are copies of the real sources; those the demo site
also serves are kept once, in the package (jobs/demo/site/), the rest in tests/fixtures/."""

from pathlib import Path

from jobs.demo.site import SITE

FIXTURES = Path(__file__).parent.parent / "fixtures"


def page_bytes(name: str) -> bytes:
    """A test page by file name: tests/fixtures/NAME, else the demo site's NAME."""
    path = FIXTURES / name
    return (path if path.exists() else SITE / name).read_bytes()
