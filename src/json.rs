//! The core's own small JSON reader and string writer.
//!
//! The core reads little JSON: the configuration, event attributes, trace updates (small objects
//! handed over once each), and it checks that inputs and outputs are valid JSON. serde_json
//! would be a third of the browser core for that, so the core has this instead (the model API
//! parsers and the ingest service, which read much more, keep serde_json). It follows RFC 8259
//! strictly, as serde_json does: no trailing commas, no comments, no lone surrogates, at most
//! [`MAX_DEPTH`] levels. Numbers keep their text, so nothing is lost or reformatted.

/// Nesting deeper than this is refused (serde_json's default limit).
pub const MAX_DEPTH: usize = 128;

/// A parsed JSON value. Objects keep their keys in order (the last of duplicate keys wins when
/// read with [`Value::get`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as its text.
    Num(&'a str),
    /// A string, unescaped.
    Str(String),
    /// An array.
    Arr(Vec<Value<'a>>),
    /// An object.
    Obj(Vec<(String, Value<'a>)>),
}

impl Value<'_> {
    /// The value of `key`, for an object.
    pub fn get(&self, key: &str) -> Option<&Self> {
        match self {
            Value::Obj(m) => m.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, for a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number as an f64 (correctly rounded), for a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(parse_f64(n)),
            _ => None,
        }
    }

    /// The number as an i64, for an integer written without fraction or exponent that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Num(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// Appends the value as compact JSON.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Num(n) => out.extend_from_slice(n.as_bytes()),
            Value::Str(s) => write_str(out, s),
            Value::Arr(a) => {
                out.push(b'[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    v.write(out);
                }
                out.push(b']');
            }
            Value::Obj(m) => {
                out.push(b'{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(out, k);
                    out.push(b':');
                    v.write(out);
                }
                out.push(b'}');
            }
        }
    }

    /// The value as compact JSON text.
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        self.write(&mut out);
        text(out)
    }
}

/// The double nearest a JSON number's text. In the wasm modules that read JSON (the model API
/// parsers, the ingest service), JS's own `parseFloat` (JSON numbers are JS numbers, and it rounds
/// correctly): Rust's parser carries 10 KB of tables. The core's wasm reads no JSON.
#[cfg(all(
    target_arch = "wasm32",
    any(feature = "ingest", feature = "llm-module")
))]
fn parse_f64(n: &str) -> f64 {
    js_sys::parse_float(n)
}

#[cfg(not(all(
    target_arch = "wasm32",
    any(feature = "ingest", feature = "llm-module")
)))]
fn parse_f64(n: &str) -> f64 {
    // The grammar was checked while parsing, so this cannot fail.
    n.parse().unwrap_or(f64::NAN)
}

/// Appends `s` as a JSON string, escaped as serde_json escapes it: `"`, `\` and the control
/// characters below U+0020 (`\b \t \n \f \r` by name, the others as `\u00xx`); everything
/// else as is. The OTLP/JSON encoder writes its strings with it too.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    use crate::id::HEX;
    let bytes = s.as_bytes();
    // Most text (keys, names, ids, model output without quotes) needs no escape: one copy, between
    // its quotes, after one reserve. (Two pushes around `text::put` took 1.1-1.2 times as long in
    // V8's wasm, `bench/wasm-core.mjs`'s take-json.) Not in the browser entry's default core,
    // which writes no OTLP/JSON.
    let first = if cfg!(feature = "protobuf-only") {
        Some(0)
    } else {
        first_escape(bytes)
    };
    let Some(first) = first else {
        let n = bytes.len();
        out.reserve(n + 2);
        let len = out.len();
        // SAFETY: `out` has room for `n + 2` more bytes after its `len`; the quotes and the `n`
        // bytes of `bytes` are written to every one of them before `set_len`.
        unsafe {
            let at = out.as_mut_ptr().add(len);
            at.write(b'"');
            if n > 0 && n <= 32 {
                crate::text::copy_short(bytes.as_ptr(), at.add(1), n);
            } else if n > 0 {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), at.add(1), n);
            }
            at.add(n + 1).write(b'"');
            out.set_len(len + n + 2);
        }
        return;
    };
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0c => b"\\f",
            b'\r' => b"\\r",
            0..=0x1f => b"",
            _ => continue,
        };
        crate::text::put(out, &bytes[start..i]);
        if esc.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 15)]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    crate::text::put(out, &bytes[start..]);
    out.push(b'"');
}

/// Where the first byte JSON must escape is (`"`, `\\` or one below U+0020), if any. Most strings
/// have none, and are cleared by tests of eight bytes at a time as a word: a byte-by-byte search
/// costs three compares and a branch a byte. Words of a short string, or of a long one's tail,
/// overlap (a byte tested twice changes nothing); the rare string that has one is searched byte by
/// byte for it.
#[inline]
fn first_escape(bytes: &[u8]) -> Option<usize> {
    if clean(bytes) {
        return None;
    }
    bytes
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Whether no byte of `bytes` needs escaping (see [`first_escape`]).
#[inline]
fn clean(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte's high bit is set in `zero(v)` when that byte of `v` is 0 or, by a borrow, when a
    // byte below it is; so `zero(v)` is not 0 exactly when some byte is. The same for bytes below
    // 0x20 in `hit`'s first term (bytes from 0x80 up, UTF-8's, never match).
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let hit = |w: u64| {
        w.wrapping_sub(ONES * 0x20) & !w & HIGH
            | zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')))
            != 0
    };
    let n = bytes.len();
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(w)
    };
    let half = |at: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&bytes[at..at + 4]);
        u64::from(u32::from_le_bytes(w))
    };
    match n {
        8.. => {
            let mut at = 0;
            while at + 8 <= n {
                if hit(word(at)) {
                    return false;
                }
                at += 8;
            }
            at == n || !hit(word(n - 8))
        }
        4..=7 => !hit(half(0) | half(n - 4) << 32),
        1..=3 => {
            // The first, middle and last bytes, padded with a letter.
            let w =
                u64::from(bytes[0]) | u64::from(bytes[n / 2]) << 8 | u64::from(bytes[n - 1]) << 16;
            !hit(w | 0x6161_6161_6100_0000)
        }
        0 => true,
    }
}

/// Text written by [`write_str`] and [`Value::write`]: whole UTF-8 strings and ASCII only.
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_default()
}

/// `s` as a JSON string.
pub fn quote(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    write_str(&mut out, s);
    text(out)
}

/// Whether `text` is one valid JSON value (surrounding whitespace allowed).
pub fn is_valid(text: &str) -> bool {
    parse(text).is_ok()
}

/// Parses one JSON value; the error says what is wrong and at which byte.
pub fn parse(text: &str) -> Result<Value<'_>, String> {
    let mut p = Parser {
        s: text,
        b: text.as_bytes(),
        at: 0,
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.at < p.b.len() {
        return Err(p.err("trailing characters"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, what: &str) -> String {
        crate::text::cat(&[what, " at byte ", &crate::text::dec(self.at)])
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.at) {
            self.at += 1;
        }
    }

    fn eat(&mut self, lit: &str) -> Result<(), String> {
        if self.b[self.at..].starts_with(lit.as_bytes()) {
            self.at += lit.len();
            Ok(())
        } else {
            Err(self.err("expected a value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, String> {
        match self.b.get(self.at) {
            None => Err(self.err("unexpected end")),
            Some(b'n') => self.eat("null").map(|_| Value::Null),
            Some(b't') => self.eat("true").map(|_| Value::Bool(true)),
            Some(b'f') => self.eat("false").map(|_| Value::Bool(false)),
            Some(b'"') => self.string().map(Value::Str),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') | Some(b'{') if depth >= MAX_DEPTH => Err(self.err("nested too deeply")),
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.at) == Some(&b']') {
                    self.at += 1;
                    return Ok(Value::Arr(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.b.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b']') => {
                            self.at += 1;
                            return Ok(Value::Arr(items));
                        }
                        _ => return Err(self.err("expected , or ]")),
                    }
                }
            }
            Some(b'{') => {
                self.at += 1;
                let mut members = Vec::new();
                self.ws();
                if self.b.get(self.at) == Some(&b'}') {
                    self.at += 1;
                    return Ok(Value::Obj(members));
                }
                loop {
                    self.ws();
                    if self.b.get(self.at) != Some(&b'"') {
                        return Err(self.err("expected a key"));
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.b.get(self.at) != Some(&b':') {
                        return Err(self.err("expected :"));
                    }
                    self.at += 1;
                    self.ws();
                    members.push((k, self.value(depth + 1)?));
                    self.ws();
                    match self.b.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b'}') => {
                            self.at += 1;
                            return Ok(Value::Obj(members));
                        }
                        _ => return Err(self.err("expected , or }")),
                    }
                }
            }
            Some(_) => Err(self.err("expected a value")),
        }
    }

    fn digits(&mut self) -> usize {
        let from = self.at;
        while let Some(b'0'..=b'9') = self.b.get(self.at) {
            self.at += 1;
        }
        self.at - from
    }

    fn number(&mut self) -> Result<Value<'a>, String> {
        let from = self.at;
        if self.b[self.at] == b'-' {
            self.at += 1;
        }
        let int_at = self.at;
        match self.digits() {
            0 => return Err(self.err("invalid number")),
            n if n > 1 && self.b[int_at] == b'0' => return Err(self.err("invalid number")),
            _ => {}
        }
        if self.b.get(self.at) == Some(&b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.b.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = self.b.get(self.at) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        Ok(Value::Num(self.slice(from)))
    }

    /// The text from byte `from` to the cursor. Both are at ASCII bytes the parser stopped on, so
    /// char boundaries; `get` instead of indexing keeps str's slicing panic (and the formatting
    /// it pulls in, ~4 KB of wasm) out of the module.
    fn slice(&self, from: usize) -> &'a str {
        self.s.get(from..self.at).unwrap_or_default()
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self
            .s
            .get(self.at..self.at + 4)
            .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
            .ok_or_else(|| self.err("invalid \\u escape"))?;
        self.at += 4;
        u32::from_str_radix(h, 16).map_err(|_| self.err("invalid \\u escape"))
    }

    fn string(&mut self) -> Result<String, String> {
        self.at += 1; // the opening quote
        let mut out = String::new();
        let mut run = self.at;
        loop {
            let Some(&c) = self.b.get(self.at) else {
                return Err(self.err("unterminated string"));
            };
            match c {
                b'"' => {
                    out.push_str(self.slice(run));
                    self.at += 1;
                    return Ok(out);
                }
                0..=0x1f => return Err(self.err("control character in a string")),
                b'\\' => {
                    out.push_str(self.slice(run));
                    self.at += 1;
                    let e = self.b.get(self.at).copied();
                    self.at += 1;
                    match e {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let mut cp = self.hex4()?;
                            if (0xd800..0xdc00).contains(&cp) {
                                if !self.b[self.at..].starts_with(b"\\u") {
                                    return Err(self.err("lone surrogate"));
                                }
                                self.at += 2;
                                let lo = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return Err(self.err("lone surrogate"));
                                }
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                            }
                            out.push(char::from_u32(cp).ok_or_else(|| self.err("lone surrogate"))?);
                        }
                        _ => return Err(self.err("invalid escape")),
                    }
                    run = self.at;
                }
                _ => self.at += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings of every length up to 40 with one byte that needs escaping (or a multi-byte
    /// character, or none) at every position: `write_str` writes what serde_json writes. The
    /// search for the first such byte goes a word at a time, so a byte in any lane of any word, and
    /// in the tail after the last whole word, is covered.
    #[test]
    fn an_escape_in_any_lane_of_any_word_is_found() {
        let specials = [
            "\"",
            "\\",
            "\n",
            "\u{1}",
            "\u{1f}",
            "\u{7f}",
            " ",
            "!",
            "#",
            "[",
            "]",
            "\u{e9}",
            "\u{1f600}",
        ];
        for len in 0..40 {
            for at in 0..=len {
                for sp in specials {
                    let s: String = (0..len)
                        .map(|i| {
                            if i == at {
                                sp.to_string()
                            } else {
                                char::from(b'a' + (i % 26) as u8).to_string()
                            }
                        })
                        .collect();
                    let mut out = b"x".to_vec();
                    write_str(&mut out, &s);
                    assert_eq!(
                        &out[1..],
                        serde_json::to_string(&s).unwrap().as_bytes(),
                        "{s:?}"
                    );
                }
            }
        }
        // Every byte value below 0x80 next to every other, at a word's edge.
        for a in 0u8..0x80 {
            for b in [0u8, 0x1f, 0x20, b'"', b'\\', b'#', b']', 0x7f] {
                let s =
                    String::from_utf8(vec![b'a', b'b', b'c', b'd', b'e', b'f', b'g', a, b, b'z'])
                        .unwrap();
                let mut out = Vec::new();
                write_str(&mut out, &s);
                assert_eq!(out, serde_json::to_string(&s).unwrap().as_bytes(), "{s:?}");
            }
        }
    }

    #[test]
    fn reads_what_serde_json_reads_and_refuses_what_it_refuses() {
        let good = [
            r#"{"a":[1,-2.5e3,true,false,null,"x\n\u00e9\ud83d\ude00"],"b":{}}"#,
            " 0 ",
            "[]",
            r#""\/\b\f\r\t\"\\""#,
            "-0.0E+1",
        ];
        for t in good {
            let mine = parse(t).unwrap_or_else(|e| panic!("{t}: {e}"));
            let theirs: serde_json::Value = serde_json::from_str(t).unwrap();
            let back: serde_json::Value = serde_json::from_str(&mine.to_json()).unwrap();
            assert_eq!(back, theirs, "{t}");
        }
        let bad = [
            "",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "tru",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"a\nb\"",
            "[1] x",
            "{a:1}",
            "'a'",
            "NaN",
        ];
        for t in bad {
            assert!(parse(t).is_err(), "{t:?} was accepted");
            assert!(
                serde_json::from_str::<serde_json::Value>(t).is_err(),
                "{t:?}"
            );
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).unwrap_err().contains("deeply"));
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let all: String =
            (0u32..0x80).filter_map(char::from_u32).collect::<String>() + "é\u{2028}😀";
        assert_eq!(quote(&all), serde_json::to_string(&all).unwrap());
        // Text with nothing to escape is copied whole; an escape first, in the middle or last,
        // and text past 32 bytes (copied another way), are written the same as serde_json.
        let long = "a prompt of more than thirty-two bytes, with é and 😀";
        for s in [
            "",
            "alpha",
            "\"x",
            "x\"",
            "a\nb",
            "\u{1}",
            long,
            &format!("{long}\t{long}"),
        ] {
            assert_eq!(quote(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn numbers_keep_their_text_and_read_as_integers_or_doubles() {
        let v = parse(r#"{"i":42,"d":2.50,"big":1e400,"i":7}"#).unwrap();
        assert_eq!(
            v.get("i").and_then(Value::as_i64),
            Some(7),
            "the last duplicate wins"
        );
        assert_eq!(v.get("d").and_then(Value::as_i64), None);
        assert_eq!(v.get("d").and_then(Value::as_f64), Some(2.5));
        assert_eq!(v.get("big").and_then(Value::as_f64), Some(f64::INFINITY));
        assert_eq!(v.to_json(), r#"{"i":42,"d":2.50,"big":1e400,"i":7}"#);
    }
}
