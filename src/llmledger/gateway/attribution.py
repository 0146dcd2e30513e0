"""Who a call is for: the virtual key's attribution, refined by headers where allowed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from llmledger.ledger.keys import VirtualKey
from llmledger.providers.base import RequestError

_VALID = re.compile(r"^[\w .:/@+-]{1,200}$")
#: Department, project and agent names: as in budget scopes, so no ``/`` (a name with one
#: would read as a deeper level, ``project:D/P/x``, and slip past its scope's budgets).
_NAME = re.compile(r"^[\w .:@+-]{1,200}$")
HEADERS = ("x-department", "x-project", "x-agent")


@dataclass(frozen=True, slots=True)
class Attribution:
    department: str
    project: str
    agent: str
    key_id: str
    end_user: str

    def scopes(self) -> list[str]:
        """The budget scopes this call falls under, organisation first."""
        out = ["org", f"department:{self.department}"]
        if self.project:
            out.append(f"project:{self.department}/{self.project}")
            if self.agent:
                out.append(f"agent:{self.department}/{self.project}/{self.agent}")
        out.append(f"key:{self.key_id}")
        if self.end_user:
            out.append(f"end_user:{self.end_user}")
        return out


def _header(headers: Mapping[str, str], name: str, valid: re.Pattern[str] = _VALID) -> str:
    value = headers.get(name, "").strip()
    if value and not valid.match(value):
        raise RequestError(400, "invalid_request_error", f"{name}: not a valid name")
    return value


def resolve(key: VirtualKey, headers: Mapping[str, str]) -> Attribution:
    """The key fixes its levels; headers may fill the levels below, if the key allows."""
    department, project, agent = key.department, key.project, key.agent
    end_user = _header(headers, "x-end-user")
    wanted = [_header(headers, h, _NAME) for h in HEADERS]
    if any(wanted):
        if not key.allow_attribution_headers:
            raise RequestError(
                403,
                "permission_error",
                "this key does not allow X-Department/X-Project/X-Agent attribution headers",
            )
        fixed = [department, project, agent]
        for i, value in enumerate(wanted):
            if not value:
                continue
            if fixed[i] and fixed[i] != value:
                raise RequestError(
                    403,
                    "permission_error",
                    f"{HEADERS[i]}: this key is fixed to {fixed[i]!r}",
                )
            fixed[i] = value
        department, project, agent = fixed
        if agent and not project:
            raise RequestError(400, "invalid_request_error", "X-Agent needs X-Project")
    return Attribution(department or "unattributed", project, agent, key.id, end_user)
