"""POST a JSON body for a notifier and turn every HTTP failure into a one-line `NotifyError`.

Shared by the webhook and Alertmanager notifiers. Secrets (the bearer token,
custom header values, URL credentials and query) never reach the reason text.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

from vocab.redact import redact
from alerts.notifiers.notifier import NotifyError

_BODY_EXCERPT = 200


def secret_value(secret: Any) -> str | None:
    """The plain value of a str or pydantic `SecretStr` (None stays None)."""
    if secret is None:
        return None
    getter = getattr(secret, "get_secret_value", None)
    return str(getter() if callable(getter) else secret)


def safe_url(url: str) -> str:
    """Scheme, host and port only: what may appear in a reason. The path goes too, since
    some receivers put their secret there (Slack and Discord webhook URLs)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, "", "", ""))
    except ValueError:
        return "<invalid url>"


class JsonPoster:
    """POSTs JSON to one URL with fixed headers, through a given or owned `httpx.AsyncClient`.

    Args:
        url: Where to POST.
        token: Optional bearer token (str or SecretStr); sent, never shown.
        headers: Extra headers; their values are treated as secrets in reasons.
        timeout_s: Whole-request timeout.
        client: A shared client; when None the poster creates one and `aclose` closes it.
        transport: A transport for the owned client (tests inject faults with it).
        secret_path: The URL's path is a credential too (Slack-style webhook URLs).
    """

    def __init__(self, url: str, *, token: Any = None, headers: Mapping[str, str] | None = None,
                 timeout_s: float = 10.0, client: httpx.AsyncClient | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 secret_path: bool = False) -> None:
        self.url = url
        self.timeout_s = float(timeout_s)
        self._headers = {"Content-Type": "application/json", **dict(headers or {})}
        token_value = secret_value(token)
        if token_value:
            self._headers["Authorization"] = f"Bearer {token_value}"
        self._secrets = [v for v in (token_value, *(headers or {}).values()) if v]
        parts = urlsplit(url)
        self._secrets += [v for v in (parts.password, parts.query) if v]
        if secret_path:
            self._secrets += [s for s in parts.path.split("/") if len(s) >= 8]
        self._client = client
        self._owns_client = client is None
        self._transport = transport

    def __repr__(self) -> str:
        return f"JsonPoster(url={safe_url(self.url)!r})"

    def _get_client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport)
        return self._client

    def redact(self, text: str) -> str:
        """`text` with this poster's secrets and anything secret-shaped masked."""
        return redact(text, self._secrets)

    def _fail(self, what: str) -> NotifyError:
        return NotifyError(self.redact(f"POST {safe_url(self.url)}: {what}"))

    async def post(self, body: Any, *, ok: Callable[[int], bool] = lambda s: 200 <= s < 300
                   ) -> httpx.Response:
        """POST `body` as JSON; return the response if `ok(status)`.

        Raises:
            NotifyError: on a refused/failed connection, a timeout, or a status not ok.
        """
        try:
            response = await self._get_client().post(self.url, json=body, headers=self._headers,
                                                     timeout=self.timeout_s)
        except httpx.TimeoutException:
            raise self._fail(f"timed out after {self.timeout_s:g}s") from None
        except httpx.ConnectError as err:
            raise self._fail(f"cannot connect: {_describe(err, 'connection failed')}") from None
        except httpx.HTTPError as err:
            raise self._fail(f"{type(err).__name__}: {_describe(err, 'request failed')}") from None
        if not ok(response.status_code):
            excerpt = _excerpt(response.text)
            raise self._fail(f"HTTP {response.status_code} {response.reason_phrase}"
                             + (f": {excerpt}" if excerpt else ""))
        return response

    async def aclose(self) -> None:
        """Close the client if this poster created it."""
        if self._owns_client and self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


def _describe(err: BaseException, default: str) -> str:
    text = str(err).strip()
    cause: BaseException | None = err.__cause__ or err.__context__
    if cause is not None and str(cause).strip() and str(cause).strip() not in text:
        text = f"{text} ({cause})" if text else str(cause)
    return text or default


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _BODY_EXCERPT else flat[:_BODY_EXCERPT] + "..."

