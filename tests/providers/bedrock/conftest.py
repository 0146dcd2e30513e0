from __future__ import annotations

from tests.fakes.bedrock_fake import fake_bedrock

__all__ = ["fake_bedrock"]
