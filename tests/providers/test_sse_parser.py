from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from tests.fakes.upstream import recording

from llmledger.providers.sse import SSEEvent, SSEParser

STREAM = (
    b": a comment\n\n"
    b'event: message_start\ndata: {"a": 1}\n\n'
    b"data: line one\ndata: line two\r\n\r\n"
    b"id: 7\rretry: 300\rdata:no space\r\r\n"
    b"\n"
    b"data: [DONE]\n\n"
)


def parse_all(chunks: list[bytes]) -> tuple[list[SSEEvent], bytes]:
    parser = SSEParser()
    events = [e for c in chunks for e in parser.feed(c)]
    return events, parser.pending


def test_fields_and_line_ends() -> None:
    events, pending = parse_all([STREAM])
    assert pending == b""
    data = [(e.event, e.data) for e in events]
    assert data == [
        (None, None),
        ("message_start", '{"a": 1}'),
        (None, "line one\nline two"),
        (None, "no space"),
        (None, None),
        (None, "[DONE]"),
    ]
    assert events[3].id == "7" and events[3].retry == 300
    assert b"".join(e.raw for e in events) == STREAM


def test_crlf_split_between_cr_and_lf() -> None:
    events, pending = parse_all([b"data: x\r", b"\n\r", b"\n"])
    assert [e.data for e in events] == ["x"]
    assert events[0].raw == b"data: x\r\n\r\n" and pending == b""


def test_close_yields_an_unterminated_last_event() -> None:
    parser = SSEParser()
    assert parser.feed(b'event: a\ndata: {"cut') == []
    (last,) = parser.close()
    assert last.event == "a" and last.data == '{"cut' and last.raw == b'event: a\ndata: {"cut'
    assert parser.pending == b""


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_split_gives_the_same_events(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(STREAM)]
    chunks = [STREAM[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    events, pending = parse_all(chunks)
    whole, _ = parse_all([STREAM])
    assert events == whole
    assert b"".join(e.raw for e in events) + pending == STREAM


@given(st.data())
def test_recorded_streams_round_trip(data: st.DataObject) -> None:
    body = recording("anthropic", "message_stream_tool.sse").replace(b"\n", b"\r\n")
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=20))
    bounds = [0, *sorted(cuts), len(body)]
    events, pending = parse_all([body[a:b] for a, b in zip(bounds, bounds[1:], strict=False)])
    assert pending == b""
    assert b"".join(e.raw for e in events) == body
    assert [e.event for e in events][:2] == ["message_start", "content_block_start"]
