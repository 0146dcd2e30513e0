"""docs/configuration.md, generated from the settings' own descriptions.

`python -m llmledger.settings_docs > docs/configuration.md` regenerates it; a test fails
when the file is out of date or a setting has no description.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from llmledger.settings import Settings

HEADER = """# Configuration

llmledger reads one TOML file (`--config FILE` or `LLMLEDGER_CONFIG`). Every key can be
overridden by an environment variable: `LLMLEDGER_` followed by the path of the key in
upper case with `__` between sections, e.g. `LLMLEDGER_STORE__URL` or
`LLMLEDGER_ORGANISATION__MONTHLY_BUDGET_USD`. Secrets are never written in the file:
the file names the environment variable that holds them (`api_key_env`, `password_env`).

This page is generated from the settings themselves (`python -m llmledger.settings_docs`).

| key | default | environment variable | description |
|---|---|---|---|
"""


class UndocumentedSetting(ValueError):
    pass


def _model_of(info: FieldInfo) -> type[BaseModel] | None:
    annotation = info.annotation
    candidates: tuple[Any, ...] = getattr(annotation, "__args__", ()) or (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        try:
            value = info.default_factory()  # type: ignore[call-arg]
        except TypeError:
            return ""
        if isinstance(value, BaseModel):
            return ""
        return f"`{value!r}`" if value != [] else "`[]`"
    if info.is_required():
        return "required"
    if info.default is None:
        return "unset"
    value = info.default
    return f"`{value}`" if not isinstance(value, str) else f'`"{value}"`'


def _is_list(info: FieldInfo) -> bool:
    return getattr(info.annotation, "__origin__", None) is list


def rows(
    model: type[BaseModel] = Settings, prefix: str = "", in_list: bool = False
) -> Iterator[tuple[str, ...]]:
    for name, info in model.model_fields.items():
        key = info.alias or name
        path = f"{prefix}{key}"
        if not info.description:
            raise UndocumentedSetting(f"setting {path} has no description")
        nested = _model_of(info)
        env = "LLMLEDGER_" + f"{prefix}{name}".replace(".", "__").replace("[]", "").upper()
        env_cell = "(in a list: set in the file)" if in_list else f"`{env}`"
        if nested is not None and info.annotation is not None:
            listed = _is_list(info)
            header = f"`[[{path}]]`" if listed else f"`[{path}]`"
            yield (header, "", "", info.description)
            yield from rows(nested, f"{path}{'[]' if listed else ''}.", in_list or listed)
        else:
            yield (f"`{path}`", _default(info), env_cell, info.description)


def render() -> str:
    body = "".join("| " + " | ".join(r) + " |\n" for r in rows())
    return HEADER + body


if __name__ == "__main__":
    sys.stdout.write(render())
