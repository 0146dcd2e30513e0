from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from llmledger import settings_docs
from llmledger.settings import Settings, SettingsError

DOCS = Path(__file__).parent.parent / "docs" / "configuration.md"


def test_every_setting_is_documented() -> None:
    # Fails when a field has no description, or docs/configuration.md is out of date
    # (regenerate with `python -m llmledger.settings_docs > docs/configuration.md`).
    assert DOCS.read_text(encoding="utf-8") == settings_docs.render()


def test_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "llmledger.toml"
    config.write_text(
        """
[organisation]
name = "Initech"
timezone = "Europe/Paris"
fiscal_year_start_month = 4
annual_budget_usd = "80000"

[store]
url = "sqlite:///from-file.db"
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("LLMLEDGER_STORE__URL", "sqlite:///from-env.db")
    monkeypatch.setenv("LLMLEDGER_ORGANISATION__MONTHLY_BUDGET_USD", "15000")
    s = Settings.load(config)
    assert s.organisation.name == "Initech"
    assert s.organisation.fiscal_year_start_month == 4
    assert str(s.organisation.annual_budget_usd) == "80000"
    assert str(s.organisation.monthly_budget_usd) == "15000"
    assert s.store.url == "sqlite:///from-env.db"


def test_secrets_never_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret-value")
    monkeypatch.setenv("LLMLEDGER_ADMIN_TOKEN", "admin-secret-token")
    s = Settings.load()
    credential = s.providers.openai.credential()
    assert credential is not None
    assert credential.get_secret_value() == "sk-very-secret-value"
    for text in (repr(s), str(s), s.model_dump_json(), repr(credential)):
        assert "sk-very-secret-value" not in text
        assert "admin-secret-token" not in text


def test_bad_configuration_is_explained(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[organisation]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings.load(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("[organisation\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        Settings.load(broken)
    with pytest.raises(ValidationError, match="Extra inputs"):
        Settings(**{"organisation": {"nmae": "typo"}})
