"""Snapshots: one row per request, and the fetched bodies they point at, stored once per
SHA-256 and compressed. An unchanged page (a 304, or the same bytes again) costs a row,
never a second body."""

import contextlib
import hashlib
import io
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

try:
    from compression import zstd  # Python 3.14+
except ImportError:  # pragma: no cover - depends on the Python version
    from backports import zstd

from core import clock
from storage.repository import Repository, record

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

ZSTD_LEVEL = 3  # level 9 cost ~2.5% of a first crawl for a few percent of size (bench/)
STREAM_ZSTD_LEVEL = 3  # large files: compression speed matters more than the last percent
CODECS = ("zstd", "identity")
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Snapshot:
    id: int
    source: str
    url: str
    fetched_at: str
    http_status: int
    sha256: str | None
    etag: str | None
    last_modified: str | None
    content_type: str | None
    size: int
    new_body: bool = False
    archive: str | None = None  # read from this web archive (`crossings backfill`); else live
    archive_timestamp: str | None = None  # the capture's timestamp there (YYYYMMDDhhmmss)


class _BlobReader(io.RawIOBase):
    """A stored blob as a readable stream (sqlite3.Blob lacks the file protocol)."""

    def __init__(self, blob: sqlite3.Blob) -> None:
        self._blob = blob

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "WriteableBuffer") -> int:
        view = memoryview(buffer).cast("B")
        data = self._blob.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._blob.close()
        super().close()


class _DecompressingReader(zstd.ZstdFile):
    """Decompresses a stored blob as it is read, and closes the blob with itself."""

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__(stream, "rb")
        self._stream = stream

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._stream.close()


class BodyFile:
    """A body too large to hold in memory (a CSV of a million rows): written in chunks as
    it arrives, hashed and compressed on the way to a temporary file, then stored with
    `Snapshots.record`. Needs no database, so it can be filled in another thread."""

    def __init__(self, directory: Path | None = None) -> None:
        handle, name = tempfile.mkstemp(prefix="crossings-body-", suffix=".zst", dir=directory)
        self.path = Path(name)
        self._raw = open(handle, "wb")  # noqa: SIM115 - closed in finish()/discard()
        self._compressor = zstd.ZstdCompressor(level=STREAM_ZSTD_LEVEL)
        self._hash = hashlib.sha256()
        self.size = 0
        self.sha256 = ""

    def write(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        self.size += len(chunk)
        self._raw.write(self._compressor.compress(chunk))

    def finish(self) -> None:
        if not self._raw.closed:
            self._raw.write(self._compressor.flush())
            self._raw.close()
            self.sha256 = self._hash.hexdigest()

    def open(self) -> BinaryIO:
        """The original bytes, decompressed as they are read."""
        self.finish()
        return zstd.open(self.path, "rb")

    def discard(self) -> None:
        if not self._raw.closed:
            self._raw.close()
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Provenance:
    """Where a stored value came from: its fetch, and the source as configured (its title
    and URL are None for a source no longer in the config)."""

    snapshot_id: int
    url: str
    fetched_at: str
    source: str
    source_title: str | None
    source_url: str | None
    archive: str | None = None  # read from this web archive (`crossings backfill`)
    archive_timestamp: str | None = None


class Snapshots(Repository):
    def record(
        self,
        *,
        source: str,
        url: str,
        http_status: int,
        body: bytes | BodyFile | None,
        run_id: int | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        content_type: str | None = None,
        fetched_at: str | None = None,
        previous: Snapshot | None = None,
        archive: str | None = None,
        archive_timestamp: str | None = None,
    ) -> Snapshot:
        """Store one fetch. The body is bytes, or a `BodyFile` for one streamed to disk;
        `body=None` with status 304 points at the body last seen at this URL (`previous`,
        when the caller looked it up already for its conditional request). A body is
        stored only if its hash is new. A capture read from a web archive names the
        archive and its timestamp there, and is dated by its capture (`fetched_at`)."""
        fetched_at = fetched_at or clock.now()
        sha256, size, new_body = None, 0, False
        # a body and its row are stored together; a row alone is one statement, atomic
        # by itself (`_insert`)
        with self.transaction() if body is not None else contextlib.nullcontext():
            if isinstance(body, BodyFile):
                new_body = self._put_body_file(body, fetched_at)
                sha256, size = body.sha256, body.size
            elif body is not None:
                sha256, size = hashlib.sha256(body).hexdigest(), len(body)
                new_body = self._put_body(sha256, body, fetched_at)
            elif http_status == 304 and (
                previous := previous or self.latest(source, url, with_body=True)
            ):
                sha256, size = previous.sha256, previous.size
                etag = etag or previous.etag
                last_modified = last_modified or previous.last_modified
                content_type = content_type or previous.content_type
            snapshot_id = self._insert(
                """INSERT INTO snapshots (run_id, source, url, fetched_at, http_status,
                       content_type, etag, last_modified, sha256, size, archive,
                       archive_timestamp)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (run_id, source, url, fetched_at, http_status, content_type, etag, last_modified,
                 sha256, size, archive, archive_timestamp),
            )  # fmt: skip
        return Snapshot(
            id=snapshot_id,
            source=source,
            url=url,
            fetched_at=fetched_at,
            http_status=http_status,
            sha256=sha256,
            etag=etag,
            last_modified=last_modified,
            content_type=content_type,
            size=size,
            new_body=new_body,
            archive=archive,
            archive_timestamp=archive_timestamp,
        )

    def _put_body_file(self, body_file: BodyFile, at: str) -> bool:
        """Copy a streamed body's compressed bytes into the database in chunks (memory
        stays flat whatever the file's size)."""
        body_file.finish()
        stored_size = body_file.path.stat().st_size
        cursor = self.db.execute(
            """INSERT OR IGNORE INTO bodies (sha256, codec, size, stored_size, content, created_at)
               VALUES (?, 'zstd', ?, ?, zeroblob(?), ?)""",
            (body_file.sha256, body_file.size, stored_size, stored_size, at),
        )
        if cursor.rowcount != 1 or cursor.lastrowid is None:
            return False  # stored before (same hash)
        with (
            self.db.conn.blobopen("bodies", "content", cursor.lastrowid) as blob,
            body_file.path.open("rb") as compressed,
        ):
            while chunk := compressed.read(CHUNK):
                blob.write(chunk)
        return True

    def _put_body(self, sha256: str, body: bytes, at: str) -> bool:
        compressed = zstd.compress(body, level=ZSTD_LEVEL)
        codec, content = ("zstd", compressed) if len(compressed) < len(body) else ("identity", body)
        cursor = self.db.execute(
            """INSERT OR IGNORE INTO bodies (sha256, codec, size, stored_size, content, created_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            (sha256, codec, len(body), len(content), content, at),
        )
        return cursor.rowcount == 1

    def open_body(self, sha256: str) -> BinaryIO:
        """The original bytes of a stored body as a stream, decompressed as they are read
        (for bodies too large to hold in memory)."""
        row = self._one("SELECT rowid, codec FROM bodies WHERE sha256 = ?", [sha256])
        if row is None:
            raise KeyError(f"no stored body with SHA-256 {sha256}")
        blob = self.db.conn.blobopen("bodies", "content", row["rowid"], readonly=True)
        stream = io.BufferedReader(_BlobReader(blob), CHUNK)
        if row["codec"] == "identity":
            return stream
        if row["codec"] == "zstd":
            return _DecompressingReader(stream)
        raise ValueError(f"unknown body codec {row['codec']!r} (known: {', '.join(CODECS)})")

    def get(self, snapshot_id: int) -> Snapshot | None:
        row = self._one("SELECT * FROM snapshots WHERE id = ?", [snapshot_id])
        return record(Snapshot, row) if row else None

    def body(self, sha256: str) -> bytes:
        """The original bytes of a stored body."""
        row = self._one("SELECT codec, content FROM bodies WHERE sha256 = ?", [sha256])
        if row is None:
            raise KeyError(f"no stored body with SHA-256 {sha256}")
        return _decode(row["codec"], row["content"])

    def latest(self, source: str, url: str, *, with_body: bool = False) -> Snapshot | None:
        """The newest live fetch of a URL (with a body, when asked): its ETag and
        Last-Modified make the next request conditional. Captures read from a web archive
        do not count: the first live crawl after a backfill parses what it fetched."""
        condition = "AND sha256 IS NOT NULL" if with_body else ""
        row = self._one(
            f"""SELECT * FROM snapshots WHERE source = ? AND url = ? {condition}
                AND archive IS NULL ORDER BY fetched_at DESC, id DESC LIMIT 1""",
            [source, url],
        )
        return record(Snapshot, row) if row else None

    def latest_per_url(self, source: str) -> list[Snapshot]:
        """The newest fetch of every URL of a source (what a crawl elsewhere needs for its
        conditional requests)."""
        rows = self._rows(
            """SELECT * FROM (SELECT *, ROW_NUMBER() OVER (
                   PARTITION BY url ORDER BY fetched_at DESC, id DESC) AS newest
                 FROM snapshots WHERE source = ? AND archive IS NULL) WHERE newest = 1
               ORDER BY url""",
            [source],
        )
        return [record(Snapshot, row) for row in rows]

    def for_source(self, source: str, *, limit: int | None = None) -> list[Snapshot]:
        """Fetches of a source that hold a body, oldest first (what `reparse` replays)."""
        rows = self._rows(
            f"""SELECT * FROM snapshots WHERE source = ? AND sha256 IS NOT NULL
                ORDER BY fetched_at, id {"LIMIT " + str(int(limit)) if limit else ""}""",
            [source],
        )
        return [record(Snapshot, row) for row in rows]

    def archived(self, source: str, archive: str) -> dict[tuple[str, str], str | None]:
        """The captures of a source already read from `archive`, by (url, timestamp), with
        the SHA-256 of their body (None: none kept): what a second backfill skips."""
        rows = self.db.conn.execute(
            """SELECT url, archive_timestamp, sha256 FROM snapshots
               WHERE source = ? AND archive = ? AND archive_timestamp IS NOT NULL""",
            [source, archive],
        )
        return {(url, timestamp): sha256 for url, timestamp, sha256 in rows}

    def first_live(self, source: str) -> str | None:
        """When the source was first fetched live (backfill reads the time before)."""
        row = self._one(
            "SELECT MIN(fetched_at) AS at FROM snapshots WHERE source = ? AND archive IS NULL",
            [source],
        )
        return row["at"] if row else None

    def provenance(self, snapshot_id: int | None) -> Provenance | None:
        """Where a value came from: the fetch (URL, time) and the configured source."""
        if snapshot_id is None:
            return None
        row = self._one(
            """SELECT s.id AS snapshot_id, s.url, s.fetched_at, s.source, s.archive,
                      s.archive_timestamp,
                      src.title AS source_title, src.url AS source_url
               FROM snapshots s LEFT JOIN sources src ON src.name = s.source WHERE s.id = ?""",
            [snapshot_id],
        )
        return record(Provenance, row) if row else None

    def counts(self) -> dict[str, int]:
        """How many fetch rows and bodies are stored, and their bytes."""
        row = self._aggregate(
            """SELECT (SELECT COUNT(*) FROM snapshots) AS snapshots,
                      (SELECT COUNT(*) FROM bodies) AS bodies,
                      (SELECT COALESCE(SUM(size), 0) FROM bodies) AS body_bytes,
                      (SELECT COALESCE(SUM(stored_size), 0) FROM bodies) AS stored_bytes"""
        )
        return dict(row)


def _decode(codec: str, content: bytes) -> bytes:
    if codec == "zstd":
        return zstd.decompress(content)
    if codec == "identity":
        return content
    raise ValueError(f"unknown body codec {codec!r} (known: {', '.join(CODECS)})")
