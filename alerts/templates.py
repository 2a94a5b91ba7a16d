"""Jinja2 templates: a user's directory first (settings.templates), then the packaged
defaults — like Datasette. HTML templates are autoescaped, so scraped text (a news title
with <script>) is shown, never run. Text templates are not escaped."""

from functools import cache
from pathlib import Path

import jinja2

from storage.formatting import moment, number


@cache
def environment(user_dir: Path | None = None) -> jinja2.Environment:
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
    return env


def render(name: str, user_dir: Path | None = None, **context: object) -> str:
    return environment(user_dir).get_template(name).render(**context)
