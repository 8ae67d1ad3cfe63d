"""An HTTP+JSON lookup adapter: what a flow's `lookup` node asks a billing or CRM system.

Configured in the site file (`lookups:`, docs/en/site-config.md). The request is built
from a URL template whose `{placeholders}` are the flow's parameters (URL-encoded), sent
with urllib in a worker thread so the event loop never waits on the network, and the
JSON answer is mapped to flow variables by dotted paths (`due.date`, `items.0.amount`).
Every failure (connection, timeout, HTTP status, not JSON, a missing field) becomes an
`AdapterError` whose reason is logged without the token or the parameter values, so the
flow takes its `on_fail` branch and the log says why.

The pure parts (`parse_template`, `build_request`, `extract`) take and return values,
so they are tested without sockets; `HttpLookup.lookup` is the thin I/O around them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import string
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from firmware.ivr.adapters import AdapterError, AdapterSpec

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20  # a billing answer is a few hundred bytes; refuse a runaway reply
USER_AGENT = "ccbox-ivr-lookup/1"


@dataclass(frozen=True)
class HttpLookupConfig:
    name: str
    url: str
    method: str = "GET"  # GET: params not in the URL go in the query; POST: a JSON body
    params: tuple[str, ...] = ()  # the flow's parameters (the URL's placeholders first)
    outputs: Mapping[str, str] = field(default_factory=dict)  # variable -> dotted path
    timeout: float = 5.0
    headers: Mapping[str, str] = field(default_factory=dict)
    bearer_token: str | None = field(default=None, repr=False)  # secret: never logged
    description: str = ""

    @property
    def spec(self) -> AdapterSpec:
        return AdapterSpec(self.name, frozenset(self.params), frozenset(self.outputs),
                           self.description or f"HTTP {self.method} lookup")

    def where(self) -> str:
        """The URL for a log line: scheme, host and path only (a query may hold a key)."""
        parts = urllib.parse.urlsplit(self.url)
        return f"{self.method} {parts.scheme}://{parts.netloc}{parts.path}"


def parse_template(url: str) -> tuple[list[str], str | None]:
    """(placeholder names in order, problem or None) of a URL template."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(url))
    except ValueError as e:
        return names, f"bad placeholder ({e}; write a literal brace as '{{{{' or '}}}}')"
    for _, name, spec, conv in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conv:
            return names, f"bad placeholder {{{name}}}: a placeholder is a plain name " \
                "such as {account}"
        if name not in names:
            names.append(name)
    return names, None


def url_problem(url: str) -> str | None:
    """Why `url` (a template) cannot be requested, or None."""
    _, problem = parse_template(url)
    if problem:
        return problem
    # placeholders may only sit where a value goes; the rest must be a real URL
    probe = string.Formatter().vformat(url, (), _Probe())
    parts = urllib.parse.urlsplit(probe)
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "has no host"
    try:
        _ = parts.port  # raises on a bad port
    except ValueError:
        return "has a bad port"
    if "x0placeholder" in parts.netloc:
        return "a placeholder may not be in the host"
    return None


class _Probe(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "x0placeholder"


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None


def build_request(cfg: HttpLookupConfig, params: Mapping[str, str]) -> Request:
    """The HTTP request for `params` (each value URL-encoded into its placeholder)."""
    names, _ = parse_template(cfg.url)
    missing = [p for p in cfg.params if p not in params]
    if missing:
        raise AdapterError(f"missing parameter {missing[0]!r}")
    values = {n: urllib.parse.quote(str(params[n]), safe="") for n in names}
    url = cfg.url.format(**values)
    rest = {p: str(params[p]) for p in cfg.params if p not in names}
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **cfg.headers}
    if cfg.bearer_token:
        headers["Authorization"] = f"Bearer {cfg.bearer_token}"
    body = None
    if cfg.method == "POST":
        body = json.dumps(rest, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    elif rest:
        url += ("&" if urllib.parse.urlsplit(url).query else "?") + \
            urllib.parse.urlencode(rest)
    return Request(cfg.method, url, headers, body)


def extract(cfg: HttpLookupConfig, body: bytes) -> dict[str, str]:
    """Flow variables from a JSON answer, or AdapterError (not JSON, a path missing)."""
    try:
        data = json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as e:
        raise AdapterError(f"answer is not JSON ({e.__class__.__name__})") from None
    out: dict[str, str] = {}
    for var, path in cfg.outputs.items():
        out[var] = _scalar(_walk(data, path), path)
    return out


def _walk(data: Any, path: str) -> Any:
    node = data
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise AdapterError(f"answer has no {path!r}")
    return node


def _scalar(value: Any, path: str) -> str:
    if value is None:
        raise AdapterError(f"answer has {path!r} = null")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | Decimal):
        return str(value)
    raise AdapterError(f"answer's {path!r} is a {type(value).__name__}, not a value")


def _fetch(req: Request, timeout: float) -> bytes:
    """Blocking: runs in a worker thread."""
    r = urllib.request.Request(req.url, data=req.body, headers=dict(req.headers),
                               method=req.method)
    try:
        with urllib.request.urlopen(r, timeout=timeout) as resp:
            body: bytes = resp.read(MAX_BODY + 1)
    except urllib.error.HTTPError as e:
        raise AdapterError(f"HTTP {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        if isinstance(e.reason, TimeoutError):
            raise AdapterError(f"no answer within {timeout:g} s") from None
        raise AdapterError(f"cannot connect ({e.reason})") from None
    except TimeoutError:
        raise AdapterError(f"no answer within {timeout:g} s") from None
    except OSError as e:
        raise AdapterError(f"connection failed ({e.__class__.__name__})") from None
    if len(body) > MAX_BODY:
        raise AdapterError(f"answer larger than {MAX_BODY} bytes")
    return body


class HttpLookup:
    """A `LookupAdapter` for one configured HTTP lookup."""

    def __init__(self, cfg: HttpLookupConfig) -> None:
        self.cfg = cfg
        self.spec = cfg.spec

    def __repr__(self) -> str:
        return f"HttpLookup({self.cfg.name!r}, {self.cfg.where()!r})"

    async def lookup(self, params: Mapping[str, str]) -> Mapping[str, str]:
        try:
            req = build_request(self.cfg, params)
            try:
                body = await asyncio.wait_for(
                    asyncio.to_thread(_fetch, req, self.cfg.timeout), self.cfg.timeout + 1)
            except TimeoutError:
                raise AdapterError(f"no answer within {self.cfg.timeout:g} s") from None
            result = extract(self.cfg, body)
        except AdapterError as e:
            log.warning("lookup %s (%s) failed: %s", self.cfg.name, self.cfg.where(), e)
            raise
        log.info("lookup %s (%s): %s", self.cfg.name, self.cfg.where(), sorted(result))
        return result
