from __future__ import annotations

from tests.fakes.anthropic_fake import fake_anthropic  # noqa: F401
from tests.fakes.openai_fake import fake_openai  # noqa: F401
from tests.gateway.conftest import gateway  # noqa: F401
