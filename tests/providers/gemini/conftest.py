from __future__ import annotations

from tests.fakes.gemini_fake import fake_gemini

__all__ = ["fake_gemini"]
