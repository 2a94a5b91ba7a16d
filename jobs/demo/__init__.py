"""The offline demo: a local site shaped like the real sources, local catchers for mail
and webhooks, and the command that runs the daemon on them (`crossings demo`)."""

DEFAULT_DURATION = 90.0  # seconds: time for the whole story (alert, revision, resolution, digest)
