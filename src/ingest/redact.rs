//! Server-side redaction: secret-looking text replaced, secret attributes dropped, before relay.
//!
//! Rules are regular expressions (the `regex-lite` syntax: no look-around, linear time) matched
//! against every string value (attribute values, nested values, event names and attributes, span
//! names, status messages), and attribute keys dropped outright (exact, or a prefix ending in
//! `*`; a dropped `http.*.header.<name>` also drops `<name>` inside a map value, as a whole
//! header map recorded as one attribute holds it, whether as an OTLP map or as JSON text). JSON
//! text stays valid JSON: when a replacement would break it, the whole value becomes the
//! replacement string.

use regex_lite::Regex;

use crate::otlp::wire::{AnyValue, ExportTraceServiceRequest, KeyValue, Value};

/// Patterns applied unless turned off: API keys of the common model providers and clouds, and
/// bearer tokens.
pub const DEFAULT_PATTERNS: &[&str] = &[
    r"sk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_-]{20,}",
    r"AKIA[0-9A-Z]{16}",
    r"AIza[0-9A-Za-z_-]{35}",
    r"gh[pousr]_[A-Za-z0-9]{36,}",
    // GitHub's fine-grained personal access tokens.
    r"github_pat_[A-Za-z0-9_]{22,}",
    r"(?i)bearer\s+[A-Za-z0-9._~+/-]{16,}=*",
    // HTTP Basic credentials (base64 of user:password).
    r"(?i)basic\s+[A-Za-z0-9+/]{16,}=*",
];

/// Attribute keys dropped unless turned off: credential-carrying HTTP headers.
pub const DEFAULT_DROPPED: &[&str] = &[
    "http.request.header.authorization",
    "http.request.header.cookie",
    "http.request.header.x-api-key",
    "http.request.header.api-key",
    "http.request.header.proxy-authorization",
    "http.response.header.set-cookie",
];

/// A literal every match of a pattern contains, found before running the regex (regex-lite has
/// no literal optimisations of its own; most strings hold no secret at all).
#[derive(Debug, Clone)]
struct Needle {
    text: String,
    ignore_case: bool,
}

impl Needle {
    /// The literal a pattern starts with, when it has one of 2+ bytes and no top-level `|`.
    fn of(pattern: &str) -> Option<Needle> {
        let (ignore_case, rest) = match pattern.strip_prefix("(?i)") {
            Some(rest) => (true, rest),
            None => (false, pattern),
        };
        let mut depth = 0i32;
        let mut escaped = false;
        for c in rest.chars() {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '(') => depth += 1,
                (false, ')') => depth -= 1,
                (false, '|') if depth == 0 => return None,
                _ => {}
            }
        }
        let text: String = rest
            .chars()
            .take_while(|c| !"\\.+*?()[]{}^$|".contains(*c))
            .collect();
        // A quantifier right after the literal makes its last character optional.
        let next = rest[text.len()..].chars().next();
        let text = if matches!(next, Some('*' | '?' | '{')) {
            let mut t = text;
            t.pop();
            t
        } else {
            text
        };
        (text.len() >= 2).then(|| Needle {
            text: if ignore_case {
                text.to_ascii_lowercase()
            } else {
                text
            },
            ignore_case,
        })
    }

    fn found_in(&self, s: &str) -> bool {
        if !self.ignore_case {
            return s.contains(&self.text);
        }
        let n = self.text.as_bytes();
        s.as_bytes()
            .windows(n.len())
            .any(|w| w.eq_ignore_ascii_case(n))
    }
}

/// Compiled redaction rules.
#[derive(Debug, Clone)]
pub struct Redactor {
    patterns: Vec<(Regex, Option<Needle>)>,
    dropped: Vec<String>,
    /// The header names dropped `http.*.header.<name>` keys name (lowercase), and each quoted
    /// (`"cookie"`), to find in a header map recorded as JSON text before parsing it.
    headers: Vec<(String, Needle)>,
    replacement: String,
}

impl Redactor {
    /// Compiles `patterns` and `dropped` keys; an invalid pattern is an error naming it.
    pub fn new(
        patterns: &[String],
        dropped: &[String],
        replacement: &str,
    ) -> Result<Redactor, String> {
        let patterns = patterns
            .iter()
            .map(|p| {
                Regex::new(p)
                    .map(|re| (re, Needle::of(p)))
                    .map_err(|e| format!("redaction pattern {p:?}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        let headers = dropped
            .iter()
            .filter_map(|rule| rule.rsplit_once(".header.").map(|(_, h)| h))
            .filter(|h| !h.ends_with('*'))
            .map(|h| {
                let name = h.to_ascii_lowercase();
                let quoted = Needle {
                    text: format!("\"{name}\""),
                    ignore_case: true,
                };
                (name, quoted)
            })
            .collect();
        Ok(Redactor {
            patterns,
            dropped: dropped.to_vec(),
            headers,
            replacement: replacement.to_owned(),
        })
    }

    /// Redacts the whole request in place; returns how many values were changed or dropped.
    pub fn apply(&self, req: &mut ExportTraceServiceRequest) -> usize {
        let mut n = 0;
        for rs in &mut req.resource_spans {
            if let Some(r) = &mut rs.resource {
                n += self.attrs(&mut r.attributes, false);
            }
            for ss in &mut rs.scope_spans {
                for span in &mut ss.spans {
                    n += usize::from(self.text(&mut span.name));
                    n += self.attrs(&mut span.attributes, false);
                    for ev in &mut span.events {
                        n += usize::from(self.text(&mut ev.name));
                        n += self.attrs(&mut ev.attributes, false);
                    }
                    for link in &mut span.links {
                        n += self.attrs(&mut link.attributes, false);
                    }
                    if let Some(status) = &mut span.status {
                        n += usize::from(self.text(&mut status.message));
                    }
                }
            }
        }
        n
    }

    fn is_dropped(&self, key: &str) -> bool {
        let key = key.to_ascii_lowercase();
        self.dropped
            .iter()
            .any(|rule| match rule.strip_suffix('*') {
                Some(prefix) => key.starts_with(&prefix.to_ascii_lowercase()),
                None => key == rule.to_ascii_lowercase(),
            })
    }

    /// Whether `key`, a key inside a map value (`http.request.headers` as `{authorization: …}`),
    /// is a header that a dropped `http.*.header.<name>` key names.
    fn is_dropped_header(&self, key: &str) -> bool {
        self.headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(key))
    }

    /// Redacts attributes, or the entries of a map value (`nested`).
    fn attrs(&self, attrs: &mut Vec<KeyValue>, nested: bool) -> usize {
        let before = attrs.len();
        attrs.retain(|kv| !(self.is_dropped(&kv.key) || nested && self.is_dropped_header(&kv.key)));
        let mut n = before - attrs.len();
        for kv in attrs {
            if let Some(v) = &mut kv.value {
                n += self.value(v);
            }
        }
        n
    }

    fn value(&self, v: &mut AnyValue) -> usize {
        match &mut v.value {
            Some(Value::StringValue(s)) => self.json_headers(s) + usize::from(self.text(s)),
            Some(Value::ArrayValue(a)) => a.values.iter_mut().map(|i| self.value(i)).sum(),
            Some(Value::KvlistValue(l)) => self.attrs(&mut l.values, true),
            _ => 0,
        }
    }

    /// A map recorded as JSON text (edgetrace's SDK, and MLflow's convention, record an object
    /// attribute so): the entries of dropped headers removed from its objects, at any depth, as
    /// from a map value. Returns how many were removed.
    fn json_headers(&self, s: &mut String) -> usize {
        if !s.starts_with('{') || !self.headers.iter().any(|(_, quoted)| quoted.found_in(s)) {
            return 0;
        }
        let Ok(mut v) = serde_json::from_str::<serde_json::Value>(s) else {
            return 0;
        };
        let n = self.strip_headers(&mut v);
        if n > 0 {
            *s = v.to_string();
        }
        n
    }

    fn strip_headers(&self, v: &mut serde_json::Value) -> usize {
        match v {
            serde_json::Value::Object(map) => {
                let before = map.len();
                map.retain(|k, _| !self.is_dropped_header(k));
                let n = before - map.len();
                n + map
                    .values_mut()
                    .map(|v| self.strip_headers(v))
                    .sum::<usize>()
            }
            serde_json::Value::Array(a) => a.iter_mut().map(|v| self.strip_headers(v)).sum(),
            _ => 0,
        }
    }

    /// Replaces every match in `s`; true when anything matched.
    fn text(&self, s: &mut String) -> bool {
        let candidate = |re: &Regex, needle: &Option<Needle>, s: &str| {
            needle.as_ref().is_none_or(|n| n.found_in(s)) && re.is_match(s)
        };
        if !self.patterns.iter().any(|(re, n)| candidate(re, n, s)) {
            return false;
        }
        let was_json = is_json(s);
        let mut out = std::mem::take(s);
        for (re, needle) in &self.patterns {
            if candidate(re, needle, &out) {
                out = re.replace_all(&out, self.replacement.as_str()).into_owned();
            }
        }
        if was_json && !is_json(&out) {
            out = serde_json::Value::String(self.replacement.clone()).to_string();
        }
        *s = out;
        true
    }
}

/// Whether `s` is a JSON object or array (the JSON text MLflow attributes hold).
fn is_json(s: &str) -> bool {
    matches!(s.trim_start().as_bytes().first(), Some(b'{' | b'['))
        && serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::Needle;

    #[test]
    fn needles_are_the_literal_every_match_starts_with() {
        let n = |p: &str| Needle::of(p).map(|n| (n.text, n.ignore_case));
        assert_eq!(n(super::DEFAULT_PATTERNS[0]), Some(("sk-".into(), false)));
        assert_eq!(n(r"AKIA[0-9A-Z]{16}"), Some(("AKIA".into(), false)));
        assert_eq!(n(r"(?i)bearer\s+x"), Some(("bearer".into(), true)));
        assert_eq!(n(r"gh[pousr]_"), Some(("gh".into(), false)));
        assert_eq!(n(r"abc?d"), Some(("ab".into(), false)));
        assert_eq!(n(r"ab*"), None);
        assert_eq!(n(r"foo|bar"), None);
        assert_eq!(n(r"\b\d{3}"), None);
        assert!(Needle::of("(?i)bearer")
            .unwrap()
            .found_in("Authorization: BEARER x"));
    }
}
