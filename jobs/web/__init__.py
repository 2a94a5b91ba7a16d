"""The HTTP side of crossings: health and metrics for the daemon, read-only pages."""

from aiohttp import web

from jobs.config import Config

# The app's config, set by `make_app`; defined here so route modules and app.py share it.
CONFIG = web.AppKey("config", Config)
