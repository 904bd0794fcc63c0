"""fakesnow (a Snowflake emulator on DuckDB) for the Node snowflake-sdk, on 127.0.0.1.

Usage: python fakesnow_server.py PORT [--host 127.0.0.1]

fakesnow answers SELECT, DDL and most other statements in Arrow format only, and never sets
`returned`. The Node driver reads neither Arrow nor a result without `returned`: it fails on
SELECT/DDL and never completes DML. This launcher serves fakesnow's own ASGI app behind a small
middleware that rewrites every /queries/v1/query-request answer into Snowflake's JSON result
format (`queryResultFormat: "json"`, a `rowset` of strings, `returned`), which is what real
Snowflake sends to the Node driver. Nothing else is changed. Needs fakesnow[server] (pinned by
scripts/devstack/fakesnow.ts).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import decimal
import json
import logging
import math
import re
from typing import Any

import pyarrow as pa
import uvicorn

from fakesnow.server import app as fakesnow_app

QUERY_PATH = "/queries/v1/query-request"
EPOCH_DAY = datetime.date(1970, 1, 1)
NANOS = 1_000_000_000
ANSI = re.compile(r"\x1b\[[0-9;]*m")
logger = logging.getLogger("uvicorn.error")  # configured by uvicorn.run


def seconds_string(nanos: int) -> str:
    """Nanoseconds since the epoch as Snowflake's "seconds.fraction" text (exact, also before 1970)."""
    sign = "-" if nanos < 0 else ""
    secs, frac = divmod(abs(nanos), NANOS)
    return f"{sign}{secs}.{frac:09d}"


def encode(value: Any, sf_type: str) -> str | None:
    """One cell as the string Snowflake's JSON result format carries for a column of `sf_type`."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if sf_type == "time" and isinstance(value, int):
        return seconds_string(value)  # fakesnow sends TIME as int64 nanoseconds since midnight
    if isinstance(value, int):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, datetime.datetime):  # a plain Arrow timestamp (fakesnow normally sends a struct)
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        delta = value - datetime.datetime(1970, 1, 1)
        return seconds_string((delta.days * 86_400 + delta.seconds) * NANOS + delta.microseconds * 1000)
    if isinstance(value, datetime.date):
        return str((value - EPOCH_DAY).days)
    if isinstance(value, dict) and "epoch" in value and "fraction" in value:
        # Snowflake's timestamp struct: whole seconds since the epoch plus nanoseconds. fakesnow
        # builds it without a null mask, so a NULL timestamp arrives as a struct of nulls.
        if value["epoch"] is None:
            return None
        text = seconds_string(value["epoch"] * NANOS + value["fraction"])
        if sf_type == "timestamp_tz":
            text += f" {value.get('timezone', 1440)}"  # minutes east of UTC plus 1440
        return text
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex().upper()
    if isinstance(value, str):
        return value  # text, and variant/object/array already held as JSON text
    return json.dumps(value, default=str)


def arrow_to_rowset(rowset_base64: str, rowtype: list[dict[str, Any]]) -> list[list[str | None]]:
    if not rowset_base64:
        return []
    table = pa.ipc.open_stream(base64.b64decode(rowset_base64)).read_all()
    types = [str(c.get("type", "")).lower() for c in rowtype] or ["" for _ in table.columns]
    columns = [[encode(v, t) for v in col.to_pylist()] for col, t in zip(table.columns, types, strict=True)]
    return [list(row) for row in zip(*columns, strict=True)]


def rewrite(body: bytes) -> bytes:
    """A query-request answer with every result as a JSON rowset with `returned` set."""
    try:
        reply = json.loads(body)
    except ValueError:
        return body
    data = reply.get("data") if isinstance(reply, dict) else None
    if not isinstance(data, dict):
        return body
    if data.get("queryResultFormat") == "arrow":
        data["rowset"] = arrow_to_rowset(data.pop("rowsetBase64", ""), data.get("rowtype") or [])
        data["queryResultFormat"] = "json"
    if isinstance(data.get("rowset"), list):
        data["returned"] = len(data["rowset"])
    return json.dumps(reply, separators=(",", ":")).encode()


def failure(status: int, body: bytes, error: BaseException | None) -> bytes:
    """A server error as the HTTP 200 failure reply Snowflake sends for a failed statement."""
    code, message = "261000", f"HTTP {status}"
    try:
        reply = json.loads(body)
        code, message = str(reply.get("code") or code), str(reply.get("message") or message)
    except ValueError:
        pass
    if error is not None:
        message = ANSI.sub("", f"{type(error).__name__}: {error}")
    reply = {
        "data": {"errorCode": code, "sqlState": "XX000"},
        "code": code,
        "message": f"fakesnow could not run this statement: {message}",
        "success": False,
    }
    return json.dumps(reply).encode()


def shim(app: Any) -> Any:
    """ASGI middleware: buffers each answer to the query route and sends it rewritten.

    Besides the result format, a crash inside fakesnow (HTTP 500, e.g. SQL that sqlglot cannot
    parse) becomes the failure reply Snowflake gives for a bad statement; the Node driver would
    otherwise retry a 500 again and again and the caller would see a hang, not the error.
    """

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != QUERY_PATH:
            await app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        error: BaseException | None = None
        try:
            await app(scope, receive, capture)
        except Exception as e:  # noqa: BLE001 - reported to the client and logged
            error = e
            logger.exception("fakesnow failed on a query request")
        status = int(start.get("status", 500))
        body = b"".join(chunks)
        if status == 200 and error is None:
            try:
                body = rewrite(body)
            except Exception as e:  # noqa: BLE001 - a result this shim cannot convert
                logger.exception("could not convert a fakesnow result to JSON")
                body, status = failure(status, body, e), 200
        elif status >= 500 or error is not None:
            body, status = failure(status, body, error), 200
        headers = [
            (k, v)
            for k, v in start.get("headers", [(b"content-type", b"application/json")])
            if k.lower() not in (b"content-length", b"content-type")
        ]
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return wrapped


def main() -> None:
    parser = argparse.ArgumentParser(description="fakesnow for the Node snowflake-sdk")
    parser.add_argument("port", type=int)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    uvicorn.run(shim(fakesnow_app), host=args.host, port=args.port, log_level="info", access_log=False)


if __name__ == "__main__":
    main()
