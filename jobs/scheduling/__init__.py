"""Scheduling: what is due when (cron and interval triggers, release-aware polling plans),
retries after failures, catch-up after downtime, and the crawl queue that batches due
sources by site. The daemon (jobs.daemon) wires it to the crawl runners (jobs.runners)."""
