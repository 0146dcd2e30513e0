from __future__ import annotations

from tests.fakes.anthropic_fake import fake_anthropic

__all__ = ["fake_anthropic"]
