"""One Scrapyd node's HTTP JSON API, as crossings uses it: daemonstatus, listversions,
addversion, schedule, listjobs, cancel, and the item feed of a finished job. Every
failure is a `NodeError` whose message names the node and says what to do."""

import base64
import os
from dataclasses import dataclass
from typing import IO, Any

import aiohttp

from core.errors import CrossingsError

PROJECT = "crossings"  # the Scrapyd project crossings deploys and schedules
SPIDER = "crossings"
TIMEOUT = 30.0  # seconds for one API call (addversion runs `scrapy list` on the node)
FEED_CHUNK = 1024 * 1024


class NodeError(CrossingsError):
    """A node cannot be used for this call; the message says why in plain words."""


@dataclass(frozen=True)
class Credentials:
    """Basic-auth credentials for the nodes, read from the environment variables the
    config names (secrets never live in the config file)."""

    username_env: str
    password_env: str

    def headers(self) -> dict[str, str]:
        """The Authorization header, or none when neither variable is set."""
        username = os.environ.get(self.username_env, "")
        password = os.environ.get(self.password_env, "")
        if not username and not password:
            return {}
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}


class Node:
    def __init__(self, url: str, session: aiohttp.ClientSession, credentials: Credentials):
        self.url = url.rstrip("/")
        self.session = session
        self.credentials = credentials

    async def status(self) -> dict[str, Any]:
        """{"pending", "running", "finished"}: how busy the node is."""
        return await self._call("GET", "daemonstatus.json")

    async def versions(self) -> list[str]:
        """The versions of crossings deployed on the node, oldest first."""
        return (await self._call("GET", "listversions.json", project=PROJECT))["versions"]

    async def add_version(self, version: str, egg: bytes) -> dict[str, Any]:
        form = aiohttp.FormData()
        form.add_field("project", PROJECT)
        form.add_field("version", version)
        form.add_field("egg", egg, filename=f"{PROJECT}-{version}.egg")
        return await self._call("POST", "addversion.json", data=form)

    async def schedule(self, job_id: str, version: str, settings: dict[str, str]) -> None:
        form = [("project", PROJECT), ("spider", SPIDER), ("_version", version), ("jobid", job_id)]
        form += [("setting", f"{key}={value}") for key, value in settings.items()]
        await self._call("POST", "schedule.json", data=form)

    async def jobs(self) -> dict[str, Any]:
        """{"pending": [...], "running": [...], "finished": [...]} of crossings' jobs."""
        return await self._call("GET", "listjobs.json", project=PROJECT)

    async def cancel(self, job_id: str, signal: str = "INT") -> None:
        await self._call(
            "POST", "cancel.json", data={"project": PROJECT, "job": job_id, "signal": signal}
        )

    async def feed(self, path: str, into: IO[bytes]) -> None:
        """Copy a job's item feed (the `items_url` listjobs gives) into a file."""
        try:
            async with self.session.get(
                self.url + path, headers=self.credentials.headers()
            ) as answer:
                self._check(answer)
                async for chunk in answer.content.iter_chunked(FEED_CHUNK):
                    into.write(chunk)
        except aiohttp.ClientError as error:
            raise NodeError(self._unreachable(error)) from None
        except TimeoutError:
            raise NodeError(f"{self.url} did not send the results within {TIMEOUT:g} s") from None

    async def _call(self, method: str, endpoint: str, *, data: Any = None, **params: str) -> dict:
        try:
            async with self.session.request(
                method,
                f"{self.url}/{endpoint}",
                params=params or None,
                data=data,
                headers=self.credentials.headers(),
            ) as answer:
                self._check(answer)
                found = await answer.json(content_type=None)
        except aiohttp.ClientError as error:
            raise NodeError(self._unreachable(error)) from None
        except TimeoutError:
            raise NodeError(f"{self.url} did not answer within {TIMEOUT:g} s") from None
        except ValueError:
            raise NodeError(f"{self.url}/{endpoint} did not answer JSON: is it Scrapyd?") from None
        if not isinstance(found, dict) or found.get("status") != "ok":
            message = found.get("message", found) if isinstance(found, dict) else found
            raise NodeError(f"{self.url} refused {endpoint}: {message}")
        return found

    def _check(self, answer: aiohttp.ClientResponse) -> None:
        if answer.status == 401:
            raise NodeError(
                f"{self.url} refused the username and password (HTTP 401): set "
                f"{self.credentials.username_env} and {self.credentials.password_env} to the "
                "node's `username` and `password` (its scrapyd.conf)"
            )
        if answer.status >= 400:
            raise NodeError(f"{self.url} answered HTTP {answer.status} to {answer.url.path}")

    def _unreachable(self, error: aiohttp.ClientError) -> str:
        if isinstance(error, aiohttp.ClientConnectorError):
            why = error.os_error.strerror or str(error.os_error)
            return f"cannot reach {self.url} ({why.lower()}): is its scrapyd running?"
        return f"the connection to {self.url} broke ({error})"


@dataclass(frozen=True)
class NodeReport:
    """How a node is: its load and deployed versions, or why it cannot be used."""

    url: str
    problem: str | None = None  # None: it answers, accepts us, and runs this code
    running: int | None = None
    pending: int | None = None
    finished: int | None = None
    versions: tuple[str, ...] = ()

    @property
    def load(self) -> int:
        return (self.running or 0) + (self.pending or 0)


async def inspect(node: Node, version: str) -> NodeReport:
    """Ask a node how it is (daemonstatus.json, listversions.json). A node without
    `version` (this code's) is reported with the problem, not used."""
    try:
        status = await node.status()
        versions = tuple(await node.versions())
    except NodeError as error:
        return NodeReport(node.url, str(error))
    counts = {key: int(status.get(key, 0)) for key in ("running", "pending", "finished")}
    problem = None
    if version not in versions:
        has = f"version {versions[-1]}" if versions else "no version"
        problem = (
            f"{node.url} has {has} of crossings, not {version} (this one's): run `crossings deploy`"
        )
    return NodeReport(node.url, problem, versions=versions, **counts)


def session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT))
