"""News: a new item whose title or summary has one of the keywords, or matches a regex."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from alerts.rule import Notice, Rule, StateOf
from alerts.view import View
from core.checked import Regex, SourceName, compiled
from storage import Cursor


@dataclass(frozen=True, kw_only=True)
class NewsMatch(Rule, kind="news"):
    """A new news item mentions a keyword (or matches a regular expression)."""

    keywords: tuple[str, ...] = field(
        default=(), metadata={"help": "Words or phrases, any of which matches (any case)."}
    )
    regex: Regex = field(default="", metadata={"help": "A Python regular expression (any case)."})
    source: SourceName = field(
        default="*", metadata={"help": "Only items of this source ('*': all)."}
    )

    def problems(self) -> list[str]:
        found = []
        if not self.keywords and not self.regex:
            found.append("set `keywords`, `regex` or both")
        return found

    @cached_property
    def pattern(self) -> Any:
        words = [r"\b" + re.escape(word) + r"\b" for word in self.keywords]
        return compiled("(?i)" + "|".join([*words, *([self.regex] if self.regex else [])]))

    def observe(self, view: View, cursor: Cursor, state_of: StateOf) -> Iterator[Notice]:
        for item in view.news(cursor.news_id):
            if self.source not in ("*", item.source):
                continue
            match = self.pattern.search(f"{item.title}\n{item.summary}")
            if match is None:
                continue
            yield Notice(
                series=item.source,
                key=f"news-{item.id}",
                period=(item.published_at or item.first_seen or "")[:10] or None,
                value=None,
                says=f"“{match[0]}” in news: {item.title}",
                facts={
                    "news": {
                        "title": item.title,
                        "url": item.url,
                        "summary": item.summary,
                        "published_at": item.published_at,
                        "source": item.source,
                    },
                    "matched": match[0],
                },
            )
