"""SigV4 verification as AWS does it, for the fake Bedrock: recompute the signature
with botocore from the request as received and the fake's known credentials."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service "
    "documentation for details."
)


def _parse_authorization(value: str) -> dict[str, str] | None:
    algorithm, _, rest = value.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        return None
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, _, field_value = item.strip().partition("=")
        fields[name] = field_value
    if not {"Credential", "SignedHeaders", "Signature"} <= fields.keys():
        return None
    return fields


def verify_sigv4(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Credentials,
    *,
    service: str = "bedrock",
) -> str | None:
    """None when the signature is right, else the reason (AWS's wording)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    auth = _parse_authorization(lowered.get("authorization", ""))
    if auth is None:
        return "Missing Authentication Token"
    access_key, date, region, signed_service, terminator = (
        auth["Credential"].split("/") + ["", "", "", "", ""]
    )[:5]
    if access_key != credentials.access_key:
        return "The security token included in the request is invalid."
    if signed_service != service or terminator != "aws4_request":
        return SIGNATURE_MISMATCH
    amz_date = lowered.get("x-amz-date", "")
    if not amz_date.startswith(date):
        return SIGNATURE_MISMATCH
    if credentials.token and lowered.get("x-amz-security-token") != credentials.token:
        return "The security token included in the request is invalid."
    signed = auth["SignedHeaders"].split(";")
    request = AWSRequest(
        method=method, url=url, data=body, headers={h: lowered.get(h, "") for h in signed}
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(credentials, service, region)
    if sorted(signer.headers_to_sign(request)) != sorted(signed):
        return SIGNATURE_MISMATCH
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, auth["Signature"]):
        return SIGNATURE_MISMATCH
    return None
