"""What is computed from stored series, for anyone who needs it: derived metrics and their
expression language, rolling windows, release rhythms, and the chart drawing that the web
pages, alert emails and digests share. Uses storage and core; alerts builds on it."""
