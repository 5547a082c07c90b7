"""§9 ``implemented using http`` tools: one GET request, as namel3ss's built-in HTTP capability.

namel3ss's semantics (runtime/backend/http_capability.py): the input holds ``url`` (text) and
optionally ``method`` (only GET), ``headers`` (an object of texts), ``timeout_seconds``
(default 10) and no ``body``; the output may declare ``status``, ``headers`` (a list of
``{name, value}`` sorted by name), ``body`` (the response as text) and ``json`` (the body
parsed). Here only http and https URLs are fetched (redirects too), the response is read up
to 8 MB, and the request's timeout is capped by the tool's. Messages are namel3ss's.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from n3lang import ast as A
from n3lang.runtime.errors import TOOL_ERROR
from n3lang.runtime.values import parse_json_text

#: The most of a response a tool reads (the body becomes a value of the run).
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
DEFAULT_TIMEOUT_SECONDS = 10
_INPUTS = {"url": "text", "method": "text", "headers": "json", "body": "json",
           "timeout_seconds": "number"}
_OUTPUTS = {"status": "number", "headers": "json", "body": "text", "json": "json"}


class HttpToolProblem(Exception):
    """what, why, fix, example (runtime/tools.ToolProblem is built from it)."""

    def __init__(self, what: str, why: str = "", fix: str = "",
                 example: str = 'input:\n  url is text') -> None:
        super().__init__(what)
        self.code, self.what, self.why, self.fix, self.example = TOOL_ERROR, what, why, fix, example


def check_declaration(tool: A.ToolDecl) -> None:
    """namel3ss's _validate_http_tool_schema: the fields an http tool may declare."""
    inputs = {f.name: f for f in tool.inputs}
    outputs = {f.name: f for f in tool.outputs}
    if "url" not in inputs:
        raise HttpToolProblem(f'HTTP tool "{tool.name}" is missing "url" input.',
                              "HTTP tools must declare a url field.",
                              "Add `url is text` to the input block.")
    for fields, allowed in ((inputs, _INPUTS), (outputs, _OUTPUTS)):
        for name, f in fields.items():
            expected = allowed.get(name)
            if expected is not None and f.type != expected:
                raise HttpToolProblem(f'HTTP tool "{tool.name}" input "{name}" must be {expected}.',
                                      f"The tool declares {name} as {f.type}.",
                                      f"Update {name} to {expected}.",
                                      f"input:\n  {name} is {expected}")
    if any(name not in _INPUTS for name in inputs):
        raise HttpToolProblem(f'HTTP tool "{tool.name}" has unsupported input fields.',
                              "HTTP tools only support url, method, headers, body, and "
                              "timeout_seconds.", "Remove unsupported input fields.",
                              "input:\n  url is text\n  method is optional text")
    if any(name not in _OUTPUTS for name in outputs):
        raise HttpToolProblem(f'HTTP tool "{tool.name}" has unsupported output fields.',
                              "HTTP tools only support status, headers, body, and json outputs.",
                              "Remove unsupported output fields.",
                              "output:\n  status is number\n  body is text")


def _request(payload: dict) -> tuple[str, dict[str, str], float]:
    method = payload.get("method")
    if method is not None:
        if not isinstance(method, str):
            raise HttpToolProblem("HTTP method must be text")
        method = method.strip().upper()
        if method != "GET":
            raise HttpToolProblem(f"HTTP method '{method}' is not supported yet.",
                                  "Only GET requests are available in the built-in HTTP capability.",
                                  "Use GET or omit the method field.", 'method is "GET"')
    url = payload.get("url")
    if not isinstance(url, str) or not url.strip():
        raise HttpToolProblem("HTTP url must be a non-empty string")
    url = url.strip()
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise HttpToolProblem("HTTP url must start with http:// or https://",
                              f"'{url}' is not a web address this tool may fetch.",
                              'Give a full web address, like "https://example.com".')
    raw_headers = payload.get("headers", {})
    headers: dict[str, str] = {}
    if raw_headers is not None:
        if not isinstance(raw_headers, dict):
            raise HttpToolProblem("HTTP headers must be an object")
        for key, value in raw_headers.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise HttpToolProblem("HTTP headers must be string keys and values")
            headers[key.strip()] = value.strip()
    timeout = payload.get("timeout_seconds", Decimal(DEFAULT_TIMEOUT_SECONDS))
    if timeout is True or timeout is False or not isinstance(timeout, Decimal):
        raise HttpToolProblem("timeout_seconds must be a number")
    if int(timeout) <= 0:
        raise HttpToolProblem("timeout_seconds must be positive")
    if "body" in payload:
        raise HttpToolProblem("HTTP body is not supported for GET requests.",
                              "The built-in HTTP capability is read-only.",
                              "Remove the body field.", 'url is "https://example.com"')
    return url, headers, float(int(timeout))


class _WebOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http and https only (urllib would also follow ftp)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        if urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise urllib.error.HTTPError(newurl, code, f"redirect to a non-web address: {newurl}",
                                         headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_WebOnlyRedirects)


def run_http_tool(tool: A.ToolDecl, payload: dict, max_seconds: float) -> dict:
    """One GET request for a payload that passed the input checks; the output the tool's
    output fields ask for. ``max_seconds`` caps the request's own timeout. Raises
    HttpToolProblem."""
    url, headers, timeout = _request(payload)
    timeout = min(timeout, max_seconds)
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status = int(getattr(response, "status", None) or response.getcode())
            raw = response.read(MAX_RESPONSE_BYTES + 1)
            pairs = list(response.headers.items())
    except urllib.error.HTTPError as exc:
        raise HttpToolProblem(f'HTTP tool "{tool.name}" request failed: HTTP Error {exc.code}: '
                              f"{exc.reason}", f"GET {url} answered {exc.code}.",
                              "Check the address, or catch the error with `try`.") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise HttpToolProblem(f'HTTP tool "{tool.name}" request failed: {reason}',
                              f"GET {url} did not complete (timeout: {timeout:g}s).",
                              "Check the address and the network, or catch the error with "
                              "`try`.") from None
    if len(raw) > MAX_RESPONSE_BYTES:
        raise HttpToolProblem(f'HTTP tool "{tool.name}" response is larger than '
                              f"{MAX_RESPONSE_BYTES // (1024 * 1024)} MB.",
                              f"GET {url} sent more than the limit.", "Fetch something smaller.")
    body = raw.decode("utf-8", errors="replace")
    available: dict[str, Any] = {
        "status": Decimal(status),
        "headers": sorted(({"name": k, "value": v} for k, v in pairs),
                          key=lambda h: (h["name"].lower(), h["value"])),
        "body": body,
    }
    try:
        available["json"] = parse_json_text(body)
    except (ValueError, RecursionError):
        pass
    output = {}
    for f in tool.outputs:
        if f.name == "json" and "json" not in available:
            raise HttpToolProblem(f'HTTP tool "{tool.name}" expected JSON output.',
                                  "The response body was not valid JSON.",
                                  "Remove the json output field or return JSON from the endpoint.",
                                  "output:\n  status is number\n  body is text")
        if f.name in available:
            output[f.name] = available[f.name]
    return output
