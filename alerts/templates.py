"""Jinja2 templates: a user's directory first (settings.templates), then the packaged
defaults — like Datasette. HTML templates are autoescaped, so scraped text (a news title
with <script>) is shown, never run; a scraped link is offered only if it is http(s) or
mailto (`| link`), so a `javascript:` URL never becomes clickable. Text templates are not
escaped. Whatever a template renders loses its control characters (core.text): a
page's title cannot send a terminal escape through an email body, a Slack text or a
digest."""

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from alerts.counting import events_counted
from core.formatting import moment, number
from core.text import printable

if TYPE_CHECKING:
    import jinja2


@cache
def environment(user_dir: Path | None = None) -> "jinja2.Environment":
    """Jinja2 is imported at the first message rendered: a crawl with nothing to send
    (every `crossings crawl` runs the aftermath) does without it (~17 ms of CPU)."""
    import jinja2

    loaders: list[jinja2.BaseLoader] = []
    if user_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(user_dir)))
    loaders.append(jinja2.PackageLoader("alerts", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.ChainableUndefined,
    )
    env.filters["number"] = number
    env.filters["when"] = moment  # alerts and digests speak UTC
    env.filters["link"] = link
    env.filters["events_counted"] = events_counted  # kinds -> '8 events (2 fired, ...)'
    return env


SAFE_SCHEMES = ("http", "https", "mailto")


def link(url: str | None) -> str:
    """The URL if a reader may safely follow it (http, https, mailto), else ''."""
    if not url:
        return ""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return ""
    return url.strip() if scheme in SAFE_SCHEMES else ""


def render(name: str, user_dir: Path | None = None, **context: object) -> str:
    return printable(environment(user_dir).get_template(name).render(**context))
