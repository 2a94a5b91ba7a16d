"""The Scrapy settings of crossings on a Scrapyd node (the egg's entry point names this
module). The fetch settings come with each job (`jobs.scrapyd.node`)."""

BOT_NAME = "crossings"
SPIDER_MODULES = ["jobs.scrapyd.node"]
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"  # the job's log on the node (Scrapyd's logs_dir)
