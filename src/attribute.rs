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
///
/// Strings of up to [`SHORT`] bytes are best made with [`AttrValue::text`], which keeps them
/// inline ([`AttrValue::Short`]): most attribute values are that short, and a span's values then
/// cost no allocation of their own. A `Short` and a `Str` of the same text are equal.
///
/// Every buffered span holds one per attribute, so its size is memory per span: 12 bytes in wasm
/// (text as `Box<str>`, numbers as [`Num`], which keeps them at 4-byte alignment), so that with
/// its key (one pointer, [`Key`]) an attribute takes 16 bytes rather than 24.
#[derive(Debug, Clone)]
pub enum AttrValue {
    /// A string.
    Str(Box<str>),
    /// A string of at most [`SHORT`] bytes, held inline.
    Short(ShortText),
    /// A 64-bit integer.
    Int(Num<i64>),
    /// A 64-bit float.
    Double(Num<f64>),
    /// A boolean.
    Bool(bool),
    /// JSON text, sent as a string value (MLflow reads such strings back as JSON).
    Json(Box<str>),
}

/// An 8-byte number held at 4-byte alignment: in an [`AttrValue`], an `i64` or `f64` would align
/// the whole enum, and each attribute of each buffered span, to 8 bytes. Read it with `get`.
#[derive(Clone, Copy, Default)]
#[repr(C, packed(4))]
pub struct Num<T: Copy>(T);

impl<T: Copy> Num<T> {
    /// The number.
    pub fn get(self) -> T {
        self.0
    }
}

impl<T: Copy + PartialEq> PartialEq for Num<T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Copy + core::fmt::Debug> core::fmt::Debug for Num<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&self.get(), f)
    }
}

impl<T: Copy> From<T> for Num<T> {
    fn from(v: T) -> Num<T> {
        Num(v)
    }
}

impl AttrValue {
    /// A string value: inline when it has at most [`SHORT`] bytes, else a `String`. One copy of
    /// it in the browser's size build (cargo feature `size`).
    #[cfg_attr(feature = "size", inline(never))]
    pub fn text(s: &str) -> AttrValue {
        match ShortText::new(s) {
            Some(t) => AttrValue::Short(t),
            None => AttrValue::Str(crate::text::owned(s).into_boxed_str()),
        }
    }

    /// The value as a string slice, for string and JSON values.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::Str(s) | AttrValue::Json(s) => Some(s),
            AttrValue::Short(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The text of a string value (not JSON).
    fn string(&self) -> Option<&str> {
        match self {
            AttrValue::Str(s) => Some(s),
            AttrValue::Short(s) => Some(s.as_str()),
            _ => None,
        }
    }

    fn apply(&mut self, limits: &Limits) -> bool {
        let max = limits.max_value_bytes;
        match self {
            AttrValue::Str(s) if s.len() > max => cut_boxed(s, |t| truncate_text(t, max)),
            AttrValue::Short(t) if t.len() > max => {
                let mut s = t.as_str().to_owned();
                let cut = truncate_text(&mut s, max);
                *self = AttrValue::Str(s.into_boxed_str());
                cut
            }
            AttrValue::Json(s) if s.len() > max => cut_boxed(s, |t| truncate_json(t, max)),
            _ => false,
        }
    }
}

/// `cut` applied to boxed text, through a `String`.
fn cut_boxed(s: &mut Box<str>, cut: impl FnOnce(&mut String) -> bool) -> bool {
    let mut t = String::from(core::mem::take(s));
    let was_cut = cut(&mut t);
    *s = t.into_boxed_str();
    was_cut
}

impl PartialEq for AttrValue {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (AttrValue::Int(a), AttrValue::Int(b)) => a == b,
            (AttrValue::Double(a), AttrValue::Double(b)) => a == b,
            (AttrValue::Bool(a), AttrValue::Bool(b)) => a == b,
            (AttrValue::Json(a), AttrValue::Json(b)) => a == b,
            (a, b) => matches!((a.string(), b.string()), (Some(a), Some(b)) if a == b),
        }
    }
}

/// The most bytes a string value held inline ([`AttrValue::Short`]) has: with its length and the
/// enum's tag, it takes the 12 bytes an `AttrValue` takes anyway in wasm32.
pub const SHORT: usize = 10;

/// A string of at most [`SHORT`] bytes, held inline.
#[derive(Clone, Copy)]
pub struct ShortText {
    len: u8,
    bytes: [u8; SHORT],
}

impl ShortText {
    /// `s` held inline, or `None` when it is longer than [`SHORT`] bytes.
    pub fn new(s: &str) -> Option<ShortText> {
        let b = s.as_bytes();
        let n = b.len();
        if n > SHORT {
            return None;
        }
        let mut bytes = [0u8; SHORT];
        if n > 0 {
            // By fixed-size moves: a copy of a length known only at run time is a `memory.copy`
            // in wasm, a call out of the module in V8.
            // SAFETY: `b` holds `n` bytes, `bytes` has room for SHORT >= n, and n is 1..=10.
            unsafe { crate::text::copy_short(b.as_ptr(), bytes.as_mut_ptr(), n) };
        }
        Some(ShortText {
            len: n as u8,
            bytes,
        })
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        let b = &self.bytes[..self.len as usize];
        // SAFETY: `bytes[..len]` is a copy of all of a `&str` (`new`), so it is UTF-8.
        unsafe { core::str::from_utf8_unchecked(b) }
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl core::ops::Deref for ShortText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl core::fmt::Debug for ShortText {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> Self {
        AttrValue::Str(s.into())
    }
}

impl From<String> for AttrValue {
    fn from(s: String) -> Self {
        AttrValue::Str(s.into_boxed_str())
    }
}

impl From<i64> for AttrValue {
    fn from(n: i64) -> Self {
        AttrValue::Int(Num(n))
    }
}

impl From<f64> for AttrValue {
    fn from(n: f64) -> Self {
        AttrValue::Double(Num(n))
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

/// The marker that ends a value cut from `original` bytes.
pub(crate) fn truncation_marker(original: usize) -> String {
    cat(&[TRUNCATION_MARKER, &dec(original), "]"])
}

/// Cuts `s` to at most `max` bytes including the marker; true when it was cut.
pub fn truncate_text(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let marker = truncation_marker(s.len());
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
    let marker = truncation_marker(total);
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
pub(crate) fn json_escaped_len(b: u8) -> usize {
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
    fn short_text_is_held_inline_whole_and_equals_the_same_text_as_a_string() {
        let mixed = "aé✓b🦀cdefghijklmnopq";
        for end in (0..=mixed.len()).filter(|&i| mixed.is_char_boundary(i)) {
            for start in (0..=end).filter(|&i| mixed.is_char_boundary(i)) {
                let s = &mixed[start..end];
                let v = AttrValue::text(s);
                assert_eq!(matches!(v, AttrValue::Short(_)), s.len() <= SHORT, "{s:?}");
                assert_eq!(v.as_str(), Some(s));
                assert_eq!(v, AttrValue::Str(s.into()));
                assert_eq!(AttrValue::Str(s.into()), v);
                assert_ne!(v, AttrValue::Json(s.into()), "JSON text is another value");
                assert_ne!(v, AttrValue::text(&[s, "x"].concat()));
            }
        }
        assert_eq!(
            std::mem::size_of::<AttrValue>(),
            if cfg!(target_pointer_width = "32") {
                12
            } else {
                24
            }
        );
    }

    #[test]
    fn short_text_past_the_limit_is_cut_as_a_string_would_be() {
        let limits = Limits {
            max_value_bytes: 6,
            ..Limits::default()
        };
        let text = "été 1234"; // 10 bytes, held inline
        assert_eq!(text.len(), SHORT);
        let mut short = AttrValue::text(text);
        let mut long = AttrValue::Str(text.into());
        assert!(matches!(short, AttrValue::Short(_)));
        assert_eq!(limits.bound(&mut short), limits.bound(&mut long));
        assert_eq!(short, long);
        let mut fits = AttrValue::text("été");
        assert!(!limits.bound(&mut fits), "5 bytes fit in 6");
        assert_eq!(fits.as_str(), Some("été"));
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
