"""News items from feeds and listing pages, stored once per guid (or URL), searchable
with SQLite full-text search."""

from collections.abc import Iterable
from dataclasses import dataclass, replace

from core import clock
from core.text import printable
from storage.repository import Repository, record, where


@dataclass(frozen=True)
class NewsItem:
    source: str
    guid: str
    title: str
    url: str = ""
    summary: str = ""
    published_at: str | None = None
    first_seen: str | None = None
    id: int | None = None


class News(Repository):
    def add(
        self, items: Iterable[NewsItem], *, snapshot_id: int | None, at: str | None = None
    ) -> list[NewsItem]:
        """Store the items not seen before (by guid); return those, with their ids."""
        at = at or clock.now()
        added = []
        with self.transaction():
            for item in items:
                cursor = self.db.execute(
                    """INSERT OR IGNORE INTO news (source, guid, url, title, summary,
                           published_at, first_seen, snapshot_id)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                    (item.source, item.guid, item.url, item.title, item.summary,
                     item.published_at, at, snapshot_id),
                )  # fmt: skip
                if cursor.rowcount == 1:
                    added.append(replace(item, id=cursor.lastrowid, first_seen=at))
        return added

    def search(
        self,
        text: str | None = None,
        *,
        since: str | None = None,
        source: str | None = None,
        limit: int = 50,
    ) -> list[NewsItem]:
        """Newest first; `text` is matched with full-text search (words, "phrases", OR)."""
        clause, params = where(
            (
                "news.id IN (SELECT rowid FROM news_fts WHERE news_fts MATCH ?)",
                (_fts_query(text) or None) if text else None,
            ),
            ("news.first_seen >= ?", since or None),
            ("news.source = ?", source or None),
        )
        rows = self._rows(
            f"""SELECT * FROM news {clause}
                ORDER BY COALESCE(published_at, first_seen) DESC, id DESC LIMIT ?""",
            [*params, limit],
        )
        return [record(NewsItem, row) for row in rows]

    def after(self, after_id: int) -> list[NewsItem]:
        """Items stored after `after_id`, in the order they were stored (for rules)."""
        rows = self._rows("SELECT * FROM news WHERE id > ? ORDER BY id", [after_id])
        return [record(NewsItem, row) for row in rows]


def _fts_query(text: str) -> str:
    """A user's words as FTS5 phrases, so no input is FTS syntax: each word is quoted,
    control characters (a NUL ends an FTS5 string) are dropped, and OR is an operator
    only between two words ('OR' alone, or at either end, is searched as a word)."""
    words = printable(text).split()
    terms = []
    for index, word in enumerate(words):
        between = 0 < index < len(words) - 1 and words[index - 1] != "OR"
        if word == "OR" and between and words[index + 1] != "OR":
            terms.append("OR")
        else:
            terms.append('"' + word.replace('"', '""') + '"')
    return " ".join(terms)
