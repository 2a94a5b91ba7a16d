"""The HTTP side of crossings: health and metrics for the daemon, read-only pages."""
