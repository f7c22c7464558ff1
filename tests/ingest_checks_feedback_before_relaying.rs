//! Feedback sent to the ingest service is MLflow's `CreateAssessment`, checked and rebuilt before
//! it is relayed: a feedback only, on the route's trace, with MLflow's fields and nothing else,
//! its text redacted; anything else is refused with a reason.

use edgetrace::ingest::{Ingest, IngestConfig, RefusalKind};
use serde_json::{json, Value};

const TRACE: &str = "tr-5b8efff798038103d269b633813fc60c";

fn ingest() -> Ingest {
    Ingest::new(IngestConfig::default()).unwrap()
}

fn check(body: Value) -> Result<Value, (RefusalKind, String)> {
    ingest()
        .assessment(body.to_string().as_bytes(), TRACE)
        .map(|a| serde_json::from_str(&a.json).unwrap())
        .map_err(|r| (r.kind, r.message))
}

#[test]
fn a_feedback_is_rebuilt_with_only_mlflows_fields() {
    let out = check(json!({"assessment": {
        "assessment_name": "thumbs",
        "trace_id": TRACE,
        "span_id": "EEE19B7EC3C1B174",
        "source": {"source_type": "HUMAN", "source_id": "user-7"},
        "feedback": {"value": {"stars": 4, "tags": ["fast", "right"]}},
        "rationale": "it answered",
        "metadata": {"page": "/chat"},
        "assessment_id": "a-forged",
        "valid": false,
        "create_time": "2001-01-01T00:00:00Z",
    }}))
    .unwrap();
    assert_eq!(
        out,
        json!({"assessment": {
            "assessment_name": "thumbs",
            "trace_id": TRACE,
            "span_id": "eee19b7ec3c1b174",
            "source": {"source_type": "HUMAN", "source_id": "user-7"},
            "feedback": {"value": {"stars": 4, "tags": ["fast", "right"]}},
            "rationale": "it answered",
            "metadata": {"page": "/chat"},
        }})
    );
}

#[test]
fn the_source_defaults_to_a_human_and_the_trace_id_to_the_routes() {
    let out = check(json!({"assessment": {"assessment_name": "up", "feedback": {"value": false}}}))
        .unwrap();
    assert_eq!(out["assessment"]["trace_id"], TRACE);
    assert_eq!(
        out["assessment"]["source"],
        json!({"source_type": "HUMAN", "source_id": "default"})
    );
    assert_eq!(out["assessment"]["feedback"], json!({"value": false}));
}

#[test]
fn secrets_in_its_text_are_redacted() {
    let key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
    let a = ingest()
        .assessment(
            json!({"assessment": {"assessment_name": "n", "feedback": {"value": [format!("my key {key}")]},
                "rationale": format!("pasted {key}"), "metadata": {"note": key}}})
            .to_string()
            .as_bytes(),
            TRACE,
        )
        .unwrap();
    assert!(!a.json.contains(key), "{}", a.json);
    assert_eq!(a.redacted, 3);
}

#[test]
fn anything_else_is_refused_with_a_reason() {
    let cases = [
        (
            json!({"assessment": {"assessment_name": "x", "expectation": {"value": 1}}}),
            "only feedback",
        ),
        (
            json!({"assessment": {"assessment_name": "x", "feedback": {"value": 1}, "overrides": "a-1"}}),
            "only feedback",
        ),
        (
            json!({"assessment": {"assessment_name": "x", "trace_id": "tr-00000000000000000000000000000001", "feedback": {"value": 1}}}),
            "not the path's",
        ),
        (
            json!({"assessment": {"assessment_name": " ", "feedback": {"value": 1}}}),
            "assessment_name",
        ),
        (
            json!({"assessment": {"assessment_name": "x".repeat(251), "feedback": {"value": 1}}}),
            "assessment_name",
        ),
        (
            json!({"assessment": {"assessment_name": "x"}}),
            "feedback must be",
        ),
        (
            json!({"assessment": {"assessment_name": "x", "feedback": {}}}),
            "no value",
        ),
        (
            json!({"assessment": {"assessment_name": "x", "feedback": {"value": 1}, "span_id": "abc"}}),
            "span_id",
        ),
        (
            json!({"assessment": {"assessment_name": "x", "feedback": {"value": 1}, "source": {"source_type": "ROBOT"}}}),
            "source_type",
        ),
        (
            json!({"assessment": {"assessment_name": "x", "feedback": {"value": 1}, "metadata": {"n": 3}}}),
            "metadata.n",
        ),
        (
            json!({"assessment": {"assessment_name": "x", "feedback": {"value": [[[[[[[[[1]]]]]]]]]}}}),
            "deeper",
        ),
        (json!({"name": "x"}), "CreateAssessment"),
    ];
    for (body, says) in cases {
        let (kind, message) = check(body.clone()).unwrap_err();
        assert_eq!(kind, RefusalKind::InvalidAssessment, "{body}");
        assert_eq!(kind.status(), 400);
        assert!(message.contains(says), "{body}: {message}");
    }
    let r = ingest().assessment(b"{", TRACE).unwrap_err();
    assert_eq!(r.kind.code(), "malformed_json");
    for id in [
        "5b8efff798038103d269b633813fc60c",
        "tr-00000000000000000000000000000000",
        "tr-5B8EFFF798038103D269B633813FC60C",
    ] {
        let r = ingest()
            .assessment(
                br#"{"assessment":{"assessment_name":"x","feedback":{"value":1}}}"#,
                id,
            )
            .unwrap_err();
        assert_eq!(r.kind.code(), "invalid_id", "{id}");
    }
}
