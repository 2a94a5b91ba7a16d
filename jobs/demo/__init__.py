"""The offline demo: a local site shaped like the real sources, local catchers for mail
and webhooks, and the command that runs the daemon on them (`crossings demo`)."""
