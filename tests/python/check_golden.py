#!/usr/bin/env python3
"""Independent check of the golden OTLP bodies, with protobuf's own Python runtime.

Run from the crate root:  .venv/bin/python tests/python/check_golden.py

tests/golden/basic_trace.pb is parsed as an ExportTraceServiceRequest from opentelemetry-proto.
tests/golden/basic_trace.json is parsed the way MLflow's OTLP route does it: trace and span ids
converted from OTLP/JSON hex to base64, then google.protobuf.json_format.Parse. Both must give
equal messages, holding the trace that tests/golden_files_match_the_encoders.rs records.
Exits non-zero with a message on the first mismatch.
"""

import base64
import difflib
import json
import sys
from pathlib import Path

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
T0 = 1_700_000_000_000_000_000
MS = 1_000_000


class Mismatch(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Mismatch(what)


def equal(actual, expected, what):
    check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def hex_ids_to_base64(body: bytes) -> bytes:
    """What MLflow 3.17.2's _convert_otlp_json_ids_to_base64 does before json_format.Parse."""
    data = json.loads(body)
    for resource_span in data.get("resourceSpans", []):
        for scope_span in resource_span.get("scopeSpans", []):
            for span in scope_span.get("spans", []):
                for field in ("traceId", "spanId", "parentSpanId"):
                    if hex_val := span.get(field):
                        check(
                            hex_val == hex_val.lower() and len(hex_val) in (16, 32),
                            f"{field} {hex_val!r} is not lowercase hex of 8 or 16 bytes",
                        )
                        span[field] = base64.b64encode(bytes.fromhex(hex_val)).decode("ascii")
    return json.dumps(data).encode("utf-8")


def value(any_value):
    kind = any_value.WhichOneof("value")
    check(kind is not None, "an attribute has no value")
    return getattr(any_value, kind)


def attributes(message):
    """The attributes of a span, event or resource as a dict (keys must be unique)."""
    out = {}
    for kv in message.attributes:
        owner = getattr(message, "name", "the resource")
        check(kv.key not in out, f"attribute {kv.key!r} appears twice on {owner!r}")
        out[kv.key] = value(kv.value)
    return out


def load():
    pb_body = (GOLDEN / "basic_trace.pb").read_bytes()
    json_body = (GOLDEN / "basic_trace.json").read_bytes()

    from_pb = ExportTraceServiceRequest()
    from_pb.ParseFromString(pb_body)
    check(from_pb.SerializeToString() == pb_body, "basic_trace.pb does not re-serialize to itself")

    # Spec-level checks on the raw JSON before protobuf's parser normalizes it.
    raw = json.loads(json_body)
    raw_spans = raw["resourceSpans"][0]["scopeSpans"][0]["spans"]
    for s in raw_spans:
        check(isinstance(s["startTimeUnixNano"], str), "startTimeUnixNano is not a string")
        check(isinstance(s["kind"], int), "kind is not an integer")
        check(isinstance(s["status"]["code"], int), "status.code is not an integer")

    from_json = ExportTraceServiceRequest()
    json_format.Parse(hex_ids_to_base64(json_body), from_json)

    if from_pb != from_json:
        diff = list(difflib.unified_diff(
            str(from_pb).splitlines(), str(from_json).splitlines(),
            "basic_trace.pb", "basic_trace.json", n=3, lineterm="",
        ))
        shown = "\n".join(diff[:60]) + ("\n…" if len(diff) > 60 else "")
        raise Mismatch(f"basic_trace.json and basic_trace.pb decode to different messages:\n{shown}")
    return from_pb


def check_content(req):
    equal(len(req.resource_spans), 1, "resource_spans")
    rs = req.resource_spans[0]
    equal(attributes(rs.resource), {"service.name": "golden-test"}, "resource attributes")
    equal(len(rs.scope_spans), 1, "scope_spans")
    scope = rs.scope_spans[0]
    equal(scope.scope.name, "edgetrace", "scope name")
    spans = list(scope.spans)
    equal([s.name for s in spans], ["retrieve", "chat", "fetch_docs", "answer"], "span names")
    by_name = {s.name: s for s in spans}
    root = by_name["answer"]

    trace_id = bytes.fromhex("00000000000000000000000000000001")
    for s in spans:
        equal(s.trace_id, trace_id, f"{s.name} trace id")
        equal(len(s.span_id), 8, f"{s.name} span id length")
        equal(s.kind, Span.SPAN_KIND_INTERNAL, f"{s.name} kind")
    check(root.parent_span_id == b"", "the root has a parent")
    equal(root.span_id, bytes.fromhex("0000000000000001"), "root span id")
    for name in ("retrieve", "chat", "fetch_docs"):
        equal(by_name[name].parent_span_id, root.span_id, f"{name} parent")
    equal(len({s.span_id for s in spans}), 4, "distinct span ids")

    # Times (ManualClock from T0, fixed steps).
    equal((root.start_time_unix_nano, root.end_time_unix_nano), (T0, T0 + 31 * MS), "root times")
    equal(
        (by_name["chat"].start_time_unix_nano, by_name["chat"].end_time_unix_nano),
        (T0 + 7 * MS, T0 + 27 * MS),
        "chat times",
    )
    for s in spans:
        check(root.start_time_unix_nano <= s.start_time_unix_nano <= s.end_time_unix_nano
              <= root.end_time_unix_nano, f"{s.name} lies outside the root")

    # mlflow.spanType: the plain type name, not JSON-quoted.
    expected_types = {"answer": "AGENT", "retrieve": "RETRIEVER", "chat": "CHAT_MODEL", "fetch_docs": "TOOL"}
    for name, span_type in expected_types.items():
        equal(attributes(by_name[name]).get("mlflow.spanType"), span_type, f"{name} mlflow.spanType")

    # mlflow.spanLogLevel, what MLflow's UI filters spans by: INFO (20) for these kinds, ERROR (40)
    # for the tool call that failed, as MLflow's own spans get it (default_log_level.py).
    for name, level in {"answer": 20, "retrieve": 20, "chat": 20, "fetch_docs": 40}.items():
        equal(attributes(by_name[name]).get("mlflow.spanLogLevel"), level, f"{name} mlflow.spanLogLevel")

    # Inputs and outputs: JSON text in string values.
    root_attrs = attributes(root)
    equal(json.loads(root_attrs["mlflow.spanInputs"]), {"question": "What is MLflow?"}, "root inputs")
    check(json.loads(root_attrs["mlflow.spanOutputs"])["answer"].startswith("MLflow is"), "root outputs")
    chat_attrs = attributes(by_name["chat"])
    equal(
        json.loads(chat_attrs["mlflow.spanInputs"]),
        {"messages": [{"role": "user", "content": "What is MLflow?"}]},
        "chat inputs",
    )
    equal(
        json.loads(chat_attrs["mlflow.chat.tokenUsage"]),
        {"input_tokens": 12, "output_tokens": 30, "total_tokens": 42},
        "chat mlflow.chat.tokenUsage",
    )
    retrieved = json.loads(attributes(by_name["retrieve"])["mlflow.spanOutputs"])
    equal(retrieved[0]["metadata"]["doc_uri"], "https://mlflow.org/docs/latest/index.html", "retrieved doc")

    # Typed attributes keep their types.
    equal(root_attrs["app.version"], "1.2.3", "app.version")
    equal(root_attrs["app.retries"], 2, "app.retries")
    equal(root_attrs["app.temperature"], 0.25, "app.temperature")
    equal(root_attrs["app.cached"], False, "app.cached")
    equal([kv.value.WhichOneof("value") for kv in root.attributes if kv.key.startswith("app.")],
          ["string_value", "int_value", "double_value", "bool_value"], "app.* value kinds")

    # Status codes.
    equal(root.status.code, Status.STATUS_CODE_OK, "root status")
    equal(by_name["chat"].status.code, Status.STATUS_CODE_OK, "chat status")
    equal(by_name["retrieve"].status.code, Status.STATUS_CODE_OK, "retrieve status")
    tool = by_name["fetch_docs"]
    equal(tool.status.code, Status.STATUS_CODE_ERROR, "fetch_docs status")
    equal(tool.status.message, "TimeoutError: request timed out after 2000 ms", "fetch_docs status message")

    # The exception event.
    equal([e.name for e in tool.events], ["exception"], "fetch_docs events")
    event = tool.events[0]
    equal(event.time_unix_nano, T0 + 30 * MS, "exception time")
    ev = attributes(event)
    equal(ev.get("exception.type"), "TimeoutError", "exception.type")
    equal(ev.get("exception.message"), "request timed out after 2000 ms", "exception.message")
    check("at fetchDocs" in ev.get("exception.stacktrace", ""), "exception.stacktrace is missing")
    for name in ("answer", "retrieve", "chat"):
        equal(len(by_name[name].events), 0, f"{name} events")

    # Trace info: on the root only.
    equal(root_attrs.get("mlflow.traceTag.env"), "test", "root mlflow.traceTag.env")
    equal(root_attrs.get("session.id"), "s-1", "root session.id")
    equal(root_attrs.get("user.id"), "u-1", "root user.id")
    for name in ("retrieve", "chat", "fetch_docs"):
        leaked = [k for k in attributes(by_name[name])
                  if k.startswith("mlflow.trace") or k in ("session.id", "user.id")]
        equal(leaked, [], f"trace info on child {name}")
    return spans


def main():
    try:
        spans = check_content(load())
    except Mismatch as e:
        print(f"check_golden: FAILED: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # a parse error is a failure too, with its own message
        print(f"check_golden: FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(
        f"check_golden: OK: basic_trace.pb and basic_trace.json decode to equal messages; "
        f"{len(spans)} spans ({', '.join(s.name for s in spans)}), parents, types, inputs, "
        f"statuses, exception event, resource and root-only trace info as expected"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
