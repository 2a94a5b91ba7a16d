"""The aiohttp application served by the daemon (`crossings run`) and by `crossings serve`.
Each area registers its routes from its own module."""

from aiohttp import web

from jobs.config import Config

CONFIG = web.AppKey("config", Config)


def make_app(config: Config) -> web.Application:
    app = web.Application()
    app[CONFIG] = config
    for register in ROUTES:
        register(app)
    return app


# Each entry is a `register(app)` function of a module under jobs/web/. Imported here, at
# the end, because those modules import CONFIG from this one.
from jobs.web import health  # noqa: E402

ROUTES: list = [health.register]
