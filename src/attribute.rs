//! Attribute values and the limits that keep spans bounded.
//!
//! Values longer than [`Limits::max_value_bytes`] are cut at a character boundary and marked with
//! [`TRUNCATION_MARKER`] and the original size, so a reader of the trace knows something is
//! missing. JSON values (inputs, outputs, JSON attributes) stay valid JSON when cut: the cut text
//! becomes a JSON string.

use crate::span::Key;
use crate::text::{cat, dec};

/// Text appended to a truncated value, followed by the original length.
pub const TRUNCATION_MARKER: &str = "…[edgetrace: truncated, original bytes: ";

/// An attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// A string.
    Str(String),
    /// A 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Double(f64),
    /// A boolean.
    Bool(bool),
    /// JSON text, sent as a string value (MLflow reads such strings back as JSON).
    Json(String),
}

impl AttrValue {
    /// The value as a string slice, for string and JSON values.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::Str(s) | AttrValue::Json(s) => Some(s),
            _ => None,
        }
    }

    fn apply(&mut self, limits: &Limits) -> bool {
        match self {
            AttrValue::Str(s) => truncate_text(s, limits.max_value_bytes),
            AttrValue::Json(s) => truncate_json(s, limits.max_value_bytes),
            _ => false,
        }
    }
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> Self {
        AttrValue::Str(s.to_owned())
    }
}

impl From<String> for AttrValue {
    fn from(s: String) -> Self {
        AttrValue::Str(s)
    }
}

impl From<i64> for AttrValue {
    fn from(n: i64) -> Self {
        AttrValue::Int(n)
    }
}

impl From<f64> for AttrValue {
    fn from(n: f64) -> Self {
        AttrValue::Double(n)
    }
}

impl From<bool> for AttrValue {
    fn from(b: bool) -> Self {
        AttrValue::Bool(b)
    }
}

/// Bounds on what one span may hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Longest string, JSON, input or output value in bytes before it is truncated.
    /// Default: 32 KiB.
    pub max_value_bytes: usize,
    /// Most attributes on a span; later new keys are dropped and counted. Default: 128.
    pub max_attributes: usize,
    /// Most events on a span; later events are dropped and counted. Default: 128.
    pub max_events: usize,
    /// Longest span or event name in bytes. Default: 1024.
    pub max_name_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_value_bytes: 32 * 1024,
            max_attributes: 128,
            max_events: 128,
            max_name_bytes: 1024,
        }
    }
}

impl Limits {
    /// Bounds `value` in place; true when it was cut.
    pub fn bound(&self, value: &mut AttrValue) -> bool {
        value.apply(self)
    }

    /// Bounds a span or event name in place; true when it was cut.
    pub fn bound_name(&self, name: &mut String) -> bool {
        truncate_text(name, self.max_name_bytes)
    }

    /// Bounds a shared name as [`Limits::bound_name`] does; true when it was cut.
    pub fn bound_key(&self, name: &mut Key) -> bool {
        if name.len() <= self.max_name_bytes {
            return false;
        }
        let mut cut = String::from(&**name);
        truncate_text(&mut cut, self.max_name_bytes);
        *name = Key::from(cut);
        true
    }

    /// Bounds JSON text in place, keeping it valid JSON; true when it was cut.
    pub fn bound_json(&self, json: &mut String) -> bool {
        truncate_json(json, self.max_value_bytes)
    }
}

fn floor_char_boundary(s: &str, at: usize) -> usize {
    let mut i = at.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Cuts `s` to at most `max` bytes including the marker; true when it was cut.
pub fn truncate_text(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let marker = cat(&[TRUNCATION_MARKER, &dec(s.len()), "]"]);
    let keep = floor_char_boundary(s, max.saturating_sub(marker.len()));
    s.truncate(keep);
    s.push_str(&marker);
    true
}

/// Cuts JSON text to at most `max` bytes; the result is a JSON string holding the cut text and the
/// marker, so it stays valid JSON. True when it was cut.
pub fn truncate_json(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let total = s.len();
    let marker = cat(&[TRUNCATION_MARKER, &dec(total), "]"]);
    // Escaping grows the kept text (up to 6x for `\u00XX`), so keep the longest prefix whose
    // escaped form fits next to the marker and the two quotes. The marker needs no escaping.
    let budget = max.saturating_sub(marker.len() + 2);
    // By bytes (a character of several bytes escapes as itself, a byte each), then back to the
    // last whole character: the same prefix as counting by characters, without decoding them.
    let mut used = 0;
    let mut keep = 0;
    for &b in s.as_bytes() {
        used += json_escaped_len(b);
        if used > budget {
            break;
        }
        keep += 1;
    }
    keep = floor_char_boundary(s, keep);
    // The loop below only confirms the fit; it shrinks further should the estimate be short.
    loop {
        let mut cut = String::with_capacity(keep + marker.len());
        // `keep` is a char boundary (char_indices, floor_char_boundary); `get` keeps str's
        // slicing panic out of the wasm.
        cut.push_str(s.get(..keep).unwrap_or_default());
        cut.push_str(&marker);
        let encoded = crate::json::quote(&cut);
        if encoded.len() <= max || keep == 0 {
            *s = encoded;
            return true;
        }
        let over = encoded.len() - max;
        keep = floor_char_boundary(s, keep.saturating_sub(over.max(1)));
    }
}

/// Bytes that byte `b` of UTF-8 text takes inside a JSON string as serde_json writes it.
fn json_escaped_len(b: u8) -> usize {
    match b {
        b'"' | b'\\' | 0x08 | 0x0c | b'\n' | b'\r' | b'\t' => 2,
        0..=0x1f => 6,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_on_a_char_boundary_with_marker() {
        let mut s = "é".repeat(100);
        assert!(truncate_text(&mut s, 80));
        assert!(s.len() <= 80, "{}", s.len());
        assert!(s.ends_with("original bytes: 200]"));
        let mut short = String::from("ok");
        assert!(!truncate_text(&mut short, 80));
        assert_eq!(short, "ok");
    }

    #[test]
    fn json_stays_json_when_cut() {
        let mut s = format!("{{\"q\":\"{}\"}}", "\"\\".repeat(500));
        assert!(truncate_json(&mut s, 200));
        assert!(s.len() <= 200, "{}", s.len());
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert!(v.as_str().unwrap().contains("truncated"));
    }
}
