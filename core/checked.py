"""Checked text types that kinds and settings declare their keys with, so that each check
is written once: the config loader (`jobs.typed`) runs it on every key so declared, and
the CLI reuses it as a click parameter type (`jobs.typed.ClickType`).

    link: Regex = field(default="", metadata={"help": ...})

Each check raises ValueError saying what is wrong and what would be right. Like the
registry, this lives in `storage`, the base every package may use."""

import socket
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

if TYPE_CHECKING:  # imported when a selector is checked: reading a config stays light
    from cssselect import HTMLTranslator
    from cssselect.parser import PseudoElement
    from cssselect.xpath import XPathExpr


@dataclass(frozen=True)
class Check:
    """Marks an `Annotated[str, Check(...)]`: `name` is shown in `crossings kinds`;
    `check(text)` raises ValueError when `text` is not acceptable."""

    name: str
    check: Callable[[str], object]


def compiled(text: str) -> Any:
    """A config's regex as crossings runs it: with RE2 (google-re2), whose matching time
    grows with the text and never explodes, so no pattern (`^(\\d+)+$` against `1…1x`)
    can hang a crawl or a rule. RE2 has no lookarounds nor backreferences; a pattern
    using them is refused here, by `crossings check`. Returns a compiled pattern with
    `re`'s methods (`search`, `groupdict`, ...). Cached: rules and extractors ask often."""
    return _compiled(text)


@cache
def _compiled(text: str) -> Any:
    import re2  # here: loading a config stays light

    options = re2.Options()
    options.log_errors = False  # the error is ours to say, once, not RE2's on stderr
    try:
        return re2.compile(text, options)
    except re2.error as error:
        said = error.args[0].decode() if error.args and isinstance(error.args[0], bytes) else error
        raise ValueError(
            f"{text!r} is not valid as a regex: {said} (regexes run in linear time with RE2: "
            "no lookarounds such as (?=...) nor backreferences such as \\1)"
        ) from None


def http_url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise ValueError(f"{text!r} must start with http:// or https://")
    return text


def host_port(text: str) -> tuple[str, int]:
    """'127.0.0.1:8080' -> ('127.0.0.1', 8080); '[::1]:8080' -> ('::1', 8080)."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"{text!r} is not HOST:PORT, e.g. 127.0.0.1:8080")
    if not 1 <= int(port) <= 65535:
        raise ValueError(f"{text!r}: port {port} is not a TCP port (1 to 65535)")
    return host.strip("[]"), int(port)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on at `host` now: for the demo's daemon, and for servers in
    tests and benchmarks that cannot bind port 0 themselves (aiosmtpd 1.4.6)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def css_selector(text: str) -> str:
    """A CSS selector as parsel reads it: cssselect's, with Scrapy's ::text and
    ::attr(name). Checked with cssselect alone: importing parsel (and lxml) would cost
    every command that reads the config 0.1 s (bench/README.md, section 9)."""
    if not text:
        return text  # an optional selector left empty
    try:
        _selector_translator().css_to_xpath(text)
    except Exception as error:  # cssselect's SelectorError and ExpressionError
        raise ValueError(f"{text!r} is not a valid CSS selector: {error}") from None
    return text


@cache
def _selector_translator() -> "HTMLTranslator":
    """cssselect's HTML translator, accepting the pseudo-elements parsel adds (the XPath
    it writes for them is parsel's business: here only whether they are known)."""
    from cssselect import HTMLTranslator
    from cssselect.parser import FunctionalPseudoElement
    from cssselect.xpath import ExpressionError

    class ParselSelectors(HTMLTranslator):
        def xpath_pseudo_element(
            self, xpath: "XPathExpr", pseudo_element: "PseudoElement"
        ) -> "XPathExpr":
            if isinstance(pseudo_element, FunctionalPseudoElement):
                if pseudo_element.name != "attr":
                    raise ExpressionError(
                        f"The functional pseudo-element ::{pseudo_element.name}() is unknown"
                    )
                if pseudo_element.argument_types() not in (["STRING"], ["IDENT"]):
                    raise ExpressionError(
                        "Expected a single string or ident for ::attr(), got "
                        f"{pseudo_element.arguments!r}"
                    )
            elif pseudo_element != "text":
                raise ExpressionError(f"The pseudo-element ::{pseudo_element} is unknown")
            return xpath

    return ParselSelectors()


def css_or_xpath(text: str) -> str:
    """A CSS selector, or an XPath expression when it starts with '/' or '('."""
    if not text or not text.startswith(("/", "(")):
        return css_selector(text)
    from lxml import etree

    try:
        etree.XPath(text)
    except etree.XPathError as error:
        raise ValueError(f"{text!r} is not a valid XPath expression: {error}") from None
    return text


def out_of_range(item: object, ranges: tuple[tuple[str, float, float], ...]) -> list[str]:
    """A problem for each (key, lowest, highest) whose value on `item` is outside."""
    found = []
    for key, low, high in ranges:
        value = getattr(item, key)
        if not low <= value <= high:
            found.append(f"{key} = {value!r} is out of range: use {low:,} to {high:,}")
    return found


@dataclass(frozen=True)
class Refers:
    """Marks a key that names another entry of the config (a source, a channel); the
    config loader checks the name exists. `anything` is the value that means "every"."""

    to: str
    anything: str = ""


Regex = Annotated[str, Check("regex", compiled)]
HttpUrl = Annotated[str, Check("url", http_url)]
HostPort = Annotated[str, Check("host:port", host_port)]
Selector = Annotated[str, Check("css", css_selector)]
SelectorOrXPath = Annotated[str, Check("css|xpath", css_or_xpath)]
SourceName = Annotated[str, Refers("source", anything="*")]
ChannelName = Annotated[str, Refers("channel")]
