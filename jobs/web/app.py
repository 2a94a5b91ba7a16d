"""The aiohttp application served by the daemon (`crossings run`) and by `crossings serve`.
Each area registers its routes from its own module."""

from aiohttp import web

from jobs.config import Config
from jobs.web import CONFIG, health, pages
from jobs.web.access import guard, quiet_bad_requests

__all__ = ["CONFIG", "ROUTES", "make_app"]


def make_app(config: Config) -> web.Application:
    app = web.Application()
    app[CONFIG] = config
    guard(app, config)
    quiet_bad_requests()
    for register in ROUTES:
        register(app)
    return app


# Each entry is a `register(app)` function of a module under jobs/web/.
ROUTES: list = [pages.register, health.register]
