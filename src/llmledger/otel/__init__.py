"""OpenTelemetry: OTLP trace ingest of GenAI spans (`ingest`, mapped by `mapping`) and the
gateway's GenAI span export (`export`). See docs/opentelemetry.md."""
