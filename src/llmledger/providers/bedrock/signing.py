"""SigV4 signing of the gateway's upstream Bedrock requests with its own credentials.

Sign exactly what is sent: the URL with its path encoded as it goes on the wire
(``%3A`` in ``...-v1%3A0``; an HTTP client must not re-encode it), the same body, and
no change to a signed header afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

SERVICE = "bedrock"

#: The caller's own signature headers are replaced, never forwarded.
_SIGNATURE_HEADERS = frozenset(
    {"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"}
)


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    region: str,
    credentials: Any,
    *,
    service: str = SERVICE,
) -> dict[str, str]:
    """The headers to send: ``headers`` plus ``Authorization``, ``X-Amz-Date`` and
    (for temporary credentials) ``X-Amz-Security-Token``.

    ``credentials`` is a botocore ``Credentials`` (refreshable ones are frozen here,
    so a refresh cannot split the key and the token between two signatures).
    """
    frozen = credentials.get_frozen_credentials()
    request = AWSRequest(
        method=method.upper(),
        url=url,
        data=body,
        headers={k: v for k, v in headers.items() if k.lower() not in _SIGNATURE_HEADERS},
    )
    SigV4Auth(frozen, service, region).add_auth(request)
    return {k: str(v) for k, v in request.headers.items()}


def default_base_url(region: str) -> str:
    return f"https://bedrock-runtime.{region}.amazonaws.com"
