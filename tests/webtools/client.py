"""A small WSGI test client: calls the app in-process, keeps cookies like a browser."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit
from wsgiref.util import setup_testing_defaults

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def set_cookies(self) -> list[str]:
        return [v for k, v in self.headers if k.lower() == "set-cookie"]

    def csrf(self) -> str:
        m = re.search(r'name="csrf" value="([^"]+)"', self.text)
        assert m, "no CSRF field on the page"
        return m.group(1)


@dataclass
class Client:
    app: WsgiApp
    address: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, url: str, data: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None, raw: bytes | None = None) -> Response:
        """`raw`: the body as given (with its Content-Type in `headers`), not a form."""
        parts = urlsplit(url)
        body = raw if raw is not None else urlencode(data or {}, doseq=True).encode()
        headers = dict(headers or {})
        ctype = next((headers.pop(k) for k in list(headers) if k.lower() == "content-type"),
                     "application/x-www-form-urlencoded")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "REMOTE_ADDR": self.address,
            "CONTENT_TYPE": ctype,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
        setup_testing_defaults(environ)
        if self.cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for k, v in headers.items():
            environ["HTTP_" + k.upper().replace("-", "_")] = v
        captured: dict[str, Any] = {}

        def start_response(status: str, hdrs: list[tuple[str, str]], exc: Any = None) -> None:
            captured["status"] = int(status.split()[0])
            captured["headers"] = hdrs

        chunks = self.app(environ, start_response)
        try:
            out = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        resp = Response(captured["status"], captured["headers"], out)
        for header in resp.set_cookies():
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                expired = morsel["max-age"] == "0" or morsel["max-age"] == "-1" or (
                    "1970" in morsel["expires"])
                if expired or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return resp

    def get(self, url: str, **kw: Any) -> Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Response:
        return self.request("POST", url, data, **kw)

    def upload(self, url: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]],
               **kw: Any) -> Response:
        """A multipart/form-data POST: `files` maps a field to (file name, content)."""
        boundary = "----ccboxtest" + uuid.uuid4().hex
        out = bytearray()
        for k, v in fields.items():
            out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'
                    f"{v}\r\n").encode()
        for k, (filename, content) in files.items():
            out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; '
                    f'filename="{filename}"\r\nContent-Type: audio/wav\r\n\r\n').encode()
            out += content + b"\r\n"
        out += f"--{boundary}--\r\n".encode()
        headers = {**kw.pop("headers", {}),
                   "Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.request("POST", url, raw=bytes(out), headers=headers, **kw)
