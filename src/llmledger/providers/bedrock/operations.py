"""Bedrock runtime paths: ``model/{modelId}/converse`` and its siblings."""

from __future__ import annotations

from dataclasses import dataclass

from llmledger.providers.base import RequestError
from llmledger.providers.bedrock.models import BedrockModel, parse_model_id

#: Path action -> (AWS operation name, streamed?, billable?)
ACTIONS = {
    "converse": ("Converse", False, True),
    "converse-stream": ("ConverseStream", True, True),
    "invoke": ("InvokeModel", False, True),
    "invoke-with-response-stream": ("InvokeModelWithResponseStream", True, True),
    "count-tokens": ("CountTokens", False, False),
}


@dataclass(frozen=True, slots=True)
class BedrockOperation:
    name: str
    action: str
    model: BedrockModel
    stream: bool
    billable: bool

    @property
    def is_converse(self) -> bool:
        return self.action.startswith("converse")


def parse_operation(path: str) -> BedrockOperation:
    """Accepts the path with or without the gateway's ``/bedrock`` prefix; the model id
    stays URL-encoded in the path (an ARN holds slashes) and is decoded here."""
    path = path.split("?", 1)[0].strip("/")
    if path.startswith("bedrock/"):
        path = path[len("bedrock/") :]
    head, _, rest = path.partition("/")
    model_id, _, action = rest.rpartition("/")
    if head != "model" or not model_id or action not in ACTIONS:
        raise RequestError(
            404, "not_found", f"Unknown operation: no Bedrock runtime API at /{path}"
        )
    name, stream, billable = ACTIONS[action]
    return BedrockOperation(
        name=name,
        action=action,
        model=parse_model_id(model_id),
        stream=stream,
        billable=billable,
    )
