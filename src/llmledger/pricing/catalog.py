"""The price catalog: which model a (provider, model id) is, and what its usage costs.

Models are found, in order, among the operator's custom models, the extra models of
``extras_*.py`` that genai-prices does not know, then genai-prices itself (trying the id as
given, its last path segment, then without a date suffix). Each (provider, model id) is
resolved once and kept, with its compiled price sheet, on the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime

from genai_prices import types as gp

from llmledger.usage import Usage

from . import genai_source
from .config import PricingConfig
from .configured import Adjuster, canonical_provider, custom_entries, with_derived
from .entries import Matcher, ModelEntry, merge_timelines
from .extras import ExtraModel, layers
from .extras_anthropic_bedrock import ANTHROPIC_EXTRAS, BEDROCK_EXTRAS
from .extras_google import GOOGLE_EXTRAS
from .extras_openai import OPENAI_EXTRAS
from .limits import max_output_tokens
from .quote import Quote, make_quote
from .sheet import PriceSheet, in_order, price_usage

ALL_EXTRAS: tuple[ExtraModel, ...] = (
    OPENAI_EXTRAS + GOOGLE_EXTRAS + ANTHROPIC_EXTRAS + BEDROCK_EXTRAS
)

#: Distinct model ids resolved and kept; past this the cache starts afresh (ids come from
#: callers, so they are not trusted to be few).
_CACHE_LIMIT = 10_000

_DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8})$")


def _model_forms(model: str) -> Iterator[str]:
    """The id as given (lower case), its last path segment, then without a date suffix."""
    seen: set[str] = set()
    name = model.strip().lower()
    for form in (name, name.rsplit("/", 1)[-1]):
        for candidate in (form, _DATE_SUFFIX.sub("", form)):
            if candidate and candidate not in seen:
                seen.add(candidate)
                yield candidate


class PriceCatalog:
    """Prices every call exactly; build one per application with `PriceCatalog.build`."""

    def __init__(self, config: PricingConfig, providers: list[gp.Provider]) -> None:
        self._providers = providers
        self._custom = custom_entries(config)
        self._adjuster = Adjuster(config)
        self._extensions: dict[tuple[str, str], tuple[ExtraModel, ...]] = {}
        self._standalone: dict[str, list[tuple[Matcher, ModelEntry]]] = {}
        for extra in ALL_EXTRAS:
            if extra.match is None:
                key = (extra.provider, extra.model_id)
                self._extensions[key] = (*self._extensions.get(key, ()), extra)
            else:
                self._standalone.setdefault(extra.provider, []).append(
                    (extra.match, _standalone_entry(extra))
                )
        self._genai_entries: dict[tuple[str, int], ModelEntry] = {}
        self._sheets: dict[tuple[str, str], PriceSheet | None] = {}

    @classmethod
    def build(cls, config: PricingConfig | None = None) -> PriceCatalog:
        return cls(config or PricingConfig(), genai_source.load_providers())

    def quote(
        self,
        usage: Usage,
        provider: str,
        model: str,
        at: datetime,
        attributes: Mapping[str, str] | None = None,
    ) -> Quote:
        """The exact cost of ``usage`` of ``model`` at the prices in force at ``at``."""
        if at.tzinfo is None:
            raise ValueError("quote() needs an aware datetime (UTC), got a naive one")
        sheet = self._sheet(provider, model)
        if sheet is None:
            return make_quote(provider, model, None, in_order(usage), (), 0, 0)
        if attributes and sheet.entry.variant_keys:
            sheet = sheet.for_attributes(attributes)
        lines, unpriced, total, list_total = price_usage(sheet.at(at), usage, attributes)
        return make_quote(provider, model, sheet.entry.model_id, unpriced, lines, total, list_total)

    def sheet(self, provider: str, model: str) -> PriceSheet | None:
        """The compiled price sheet of a model as asked, or None when it has no entry."""
        return self._sheet(provider, model)

    def knows(self, provider: str, model: str) -> bool:
        """Whether the model has an entry (it may still lack a price for some usage type)."""
        return self._sheet(provider, model) is not None

    def max_output_tokens(self, provider: str, model: str) -> int:
        """The most output tokens one call can produce: what the gateway reserves for."""
        sheet = self._sheet(provider, model)
        if sheet is not None and sheet.entry.max_output_tokens is not None:
            return sheet.entry.max_output_tokens
        return max_output_tokens(model.strip().lower())

    def _sheet(self, provider: str, model: str) -> PriceSheet | None:
        key = (provider, model)
        try:
            return self._sheets[key]
        except KeyError:
            pass
        if len(self._sheets) >= _CACHE_LIMIT:
            self._sheets.clear()
        entry = self._find(canonical_provider(provider), model)
        sheet = None
        if entry is not None:
            asked = model.strip().lower()
            adjustments = self._adjuster.for_model(entry.provider, asked, entry.model_id.lower())
            sheet = PriceSheet(entry, adjustments)
        self._sheets[key] = sheet
        return sheet

    def _find(self, provider: str, model: str) -> ModelEntry | None:
        forms = list(_model_forms(model))
        for table in (self._custom, self._standalone):
            for matcher, entry in table.get(provider, ()):
                if any(matcher.matches(form) for form in forms):
                    return entry
        genai_provider = genai_source.find_provider(self._providers, provider)
        if genai_provider is None:
            return None
        for form in forms:
            info = genai_source.find_model(genai_provider, self._providers, form)
            if info is not None:
                return self._genai_entry(provider, info)
        return None

    def _genai_entry(self, provider: str, info: gp.ModelInfo) -> ModelEntry:
        key = (provider, id(info))  # the catalog holds `info` alive, so its id is stable
        entry = self._genai_entries.get(key)
        if entry is None:
            extras = self._extensions.get((provider, info.id), ())
            replacing, filling = layers(extras)
            native, derived, variants = genai_source.genai_layers(info)
            timelines = merge_timelines(replacing, native, filling, derived)
            limit = next((e.max_output_tokens for e in extras if e.max_output_tokens), None)
            entry = ModelEntry(provider, info.id, timelines, variants, limit)
            self._genai_entries[key] = entry
        return entry


def _standalone_entry(extra: ExtraModel) -> ModelEntry:
    replacing, filling = layers((extra,))
    timelines = with_derived(merge_timelines(replacing, filling))
    return ModelEntry(extra.provider, extra.model_id, timelines, (), extra.max_output_tokens)
