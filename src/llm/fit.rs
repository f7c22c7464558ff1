//! Model call inputs and outputs cut to the span's value limit with their structure kept.
//!
//! The core cuts a JSON value longer than `maxValueBytes` (32 KiB by default) as text: what is
//! left becomes one JSON string. For a model call that loses what MLflow reads: a chat request
//! with a long retrieved context in one message would arrive as a string, and MLflow's chat view,
//! which reads the messages by `mlflow.message.format`, would show none. So the parsers cut such
//! a request (or response) themselves before the core sees it: the longest strings in it are cut,
//! all to the same length, the longest that lets the whole fit, and each cut string ends with the
//! core's marker and its own original length. Keys, numbers and the shape stay as they were.
//! When even strings cut to nothing would not fit (an embeddings response: thousands of numbers),
//! the text is left as it was and the core cuts it as before.

use serde_json::Value;

use crate::attribute::{json_escaped_len, truncation_marker as marker};

/// `text`, the JSON text of `v`, when it is at most `max` bytes; else `v` written with its longest
/// strings cut so that it fits, when that can make it fit; else `text` as it is. With whether it
/// cut `v` (a value the core then sees within its limit, so does not count as truncated itself).
///
/// The cut is found from the strings' lengths, read without writing the value, and only what is
/// kept is written: a 0.84 MB chat request takes about 1 ms natively, a third of writing it whole
/// once (`cargo run --release --example fit_timing`).
pub fn fit_json(v: &Value, text: String, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text, false);
    }
    // Each string's bytes, the bytes its characters take written in JSON (quotes left out), and
    // for binary data the most of it a cut keeps ([`binary_header`]).
    let mut strings = Vec::new();
    let whole = measure(v, "", &mut strings);
    // With the length of the marker each would end with, worked out once.
    let strings: Vec<_> = strings
        .into_iter()
        .map(|(len, esc, bin)| (len, esc, marker(len).len(), bin))
        .collect();
    // The written size with every string cut to `cap` bytes, estimated: a cut string keeps its
    // share of what escaping adds; binary data keeps only its header (ASCII). Exact for a cap of 0.
    let estimate = |cap: usize| {
        strings
            .iter()
            .fold(whole, |n, &(len, esc, m, bin)| match bin {
                // Binary data is cut to its header whatever the cap, where that saves room.
                Some(header) if len > header + m => n - esc + header + m,
                Some(_) => n,
                None if len <= cap + m => n,
                None => n - esc + (cap * esc).div_ceil(len) + m,
            })
    };
    if estimate(0) > max {
        return (text, false);
    }
    // The longest cut the estimate lets fit: what `cap` leaves grows with it.
    let (mut lo, mut hi) = (0, strings.iter().map(|&(len, ..)| len).max().unwrap_or(0));
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if estimate(mid) <= max {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    // Where escapes bunch up in what is kept the estimate falls short: cut further until it fits.
    let mut cap = lo;
    loop {
        let out = capped(v, cap).to_string();
        if out.len() <= max {
            return (out, true);
        }
        if cap == 0 {
            return (text, false);
        }
        let cut = strings
            .iter()
            .filter(|&&(len, _, m, bin)| bin.is_none() && len > cap + m)
            .count()
            .max(1);
        cap = cap.saturating_sub((out.len() - max).div_ceil(cut));
    }
}

/// The bytes `v`, the value of `key` (`""` for an array's item or the whole), takes written as
/// compact JSON (as serde_json writes it), read without writing it; each string's bytes, the
/// bytes its characters take written and, for binary data, the bytes a cut keeps go to `strings`.
fn measure(v: &Value, key: &str, strings: &mut Vec<(usize, usize, Option<usize>)>) -> usize {
    let text = |s: &str| s.bytes().map(json_escaped_len).sum::<usize>();
    match v {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => n.to_string().len(),
        Value::String(s) => {
            let esc = text(s);
            strings.push((s.len(), esc, binary_header(key, s)));
            esc + 2
        }
        // Brackets, and a comma between each two.
        Value::Array(a) => {
            1 + a.len().max(1) + a.iter().map(|v| measure(v, "", strings)).sum::<usize>()
        }
        // Braces, commas, and each key quoted with its colon.
        Value::Object(o) => {
            1 + o.len().max(1)
                + o.iter()
                    .map(|(k, v)| text(k) + 3 + measure(v, k, strings))
                    .sum::<usize>()
        }
    }
}

/// `v` with each string longer than `cap` bytes (and its marker) cut to `cap` bytes, at a
/// character boundary, and marked. (A copy written by `Value`'s own serializer: a serializer of
/// its own for the cut would add 1.4 KB of gzip to the parsers' module.)
fn capped(v: &Value, cap: usize) -> Value {
    capped_under(v, cap, "")
}

/// [`capped`] for `v`, the value of key `key` (`""` for an array's item or the whole).
fn capped_under(v: &Value, cap: usize, key: &str) -> Value {
    match v {
        Value::String(t) => {
            let mark = marker(t.len());
            // Binary data (an image as base64, or a data: URL) is no use cut, and takes no room
            // from the text beside it: whatever the cap, only its data URL header, if any, is
            // kept before the marker.
            let bin = binary_header(key, t);
            // A string only a marker longer than what it would keep would grow by being cut.
            if t.len() <= bin.unwrap_or(cap) + mark.len() {
                return v.clone();
            }
            let mut keep = bin.unwrap_or(cap);
            while !t.is_char_boundary(keep) {
                keep -= 1;
            }
            let mut cut = String::with_capacity(keep + mark.len());
            cut.push_str(t.get(..keep).unwrap_or_default());
            cut.push_str(&mark);
            Value::String(cut)
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| capped_under(v, cap, "")).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), capped_under(v, cap, k)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// For a string of binary data, as model APIs take images and files (Gemini's and Anthropic's
/// base64 `data`, OpenAI's `data:` URLs), the bytes to keep when it is cut: the URL's header
/// (`data:image/png;base64,`), else none. None for any other string; `key` is the one it is
/// the value of.
fn binary_header(key: &str, t: &str) -> Option<usize> {
    // Base64, as the APIs send it or wrapped in lines of 76 (MIME's).
    let b64 = |s: &str| {
        s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_' | b'\n' | b'\r')
        })
    };
    if let Some(rest) = t.strip_prefix("data:") {
        let at = rest.find(";base64,")? + ";base64,".len();
        return b64(rest.get(at..)?).then_some("data:".len() + at);
    }
    // Under the keys the APIs put binary data at (Gemini's and Anthropic's `data`, an image the
    // Responses API generated as `result`, the Images API's `b64_json`, Bedrock Converse's
    // images', documents' and videos' `source.bytes`): long, base64, and not just hex digits (a
    // hash or id is text).
    let binary = matches!(key, "data" | "result" | "b64_json" | "bytes")
        && t.len() >= 256
        && b64(t)
        && !t.bytes().all(|b| b.is_ascii_hexdigit());
    binary.then_some(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_value_that_fits_is_left_as_it_was_written() {
        let text = "{ \"b\": 1, \"a\": \"x\" }".to_owned();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(fit_json(&v, text.clone(), 64), (text, false));
    }

    #[test]
    fn the_longest_strings_are_cut_to_one_length_and_the_shape_is_kept() {
        let long = "é".repeat(30_000); // 60,000 bytes, two a character
        let v = json!({
            "model": "gpt-4o",
            "messages": [
                { "role": "system", "content": "short" },
                { "role": "user", "content": long },
                { "role": "user", "content": "a".repeat(20_000) },
            ],
        });
        let text = v.to_string();
        let (out, cut) = fit_json(&v, text, 32 * 1024);
        assert!(cut);
        assert!(out.len() <= 32 * 1024, "{}", out.len());
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["model"], "gpt-4o");
        assert_eq!(back["messages"][0]["content"], "short");
        let a = back["messages"][1]["content"].as_str().unwrap();
        let b = back["messages"][2]["content"].as_str().unwrap();
        assert!(
            a.starts_with("éé") && a.ends_with(&marker(60_000)),
            "{}",
            &a[a.len() - 60..]
        );
        assert!(b.starts_with("aa") && b.ends_with(&marker(20_000)));
        // Both kept the same number of bytes (at a character boundary), and close to all the limit.
        let (ka, kb) = (
            a.len() - marker(60_000).len(),
            b.len() - marker(20_000).len(),
        );
        assert!(ka.abs_diff(kb) <= 1, "{ka} {kb}");
        assert!(out.len() > 32 * 1024 - 200, "{}", out.len());
    }

    #[test]
    fn binary_data_cut_keeps_no_data_so_the_text_keeps_more() {
        let png = "iVBORw0KGgo".repeat(4_000); // 44,000 bytes of base64
        let v = json!({
            "contents": [{ "role": "user", "parts": [
                { "text": "What is in this picture? ".repeat(200) },
                { "inline_data": { "mime_type": "image/png", "data": png } },
            ]}],
            "messages": [{ "role": "user", "content": [
                { "type": "image_url", "image_url": { "url": format!("data:image/png;base64,{png}") } },
            ]}],
        });
        let (out, cut) = fit_json(&v, v.to_string(), 16 * 1024);
        assert!(cut);
        let back: Value = serde_json::from_str(&out).unwrap();
        let parts = &back["contents"][0]["parts"];
        assert_eq!(parts[1]["inline_data"]["data"], marker(44_000));
        assert_eq!(parts[1]["inline_data"]["mime_type"], "image/png");
        assert_eq!(
            back["messages"][0]["content"][0]["image_url"]["url"],
            format!("data:image/png;base64,{}", marker(44_000 + 22))
        );
        // The question, 5,000 bytes, fits whole beside them.
        assert_eq!(parts[0]["text"], "What is in this picture? ".repeat(200));
        // Text is cut as before: a prefix is kept.
        assert_eq!(
            binary_header("data", &"a long sentence, with spaces".repeat(20)),
            None
        );
        assert_eq!(
            binary_header("data", &"0123abcdef".repeat(100)),
            None,
            "hex is text"
        );
        assert_eq!(
            binary_header("result", &"iVBORw0KGgo\n".repeat(100)),
            Some(0),
            "wrapped"
        );
        assert_eq!(
            binary_header("content", &"ab".repeat(1000)),
            None,
            "not data"
        );
        assert_eq!(
            binary_header("url", "data:text/plain,hello"),
            None,
            "not base64"
        );
    }

    #[test]
    fn text_beside_binary_data_gets_the_room_the_data_leaves() {
        // 20,250 bytes of text and three 80 KB images, in a 32 KiB limit: the images are cut to
        // their headers, and the text, which fits in what they leave, is kept whole.
        let text = "Describe these pictures in detail. ".repeat(580);
        let image = json!({ "type": "image_url", "image_url": { "url": format!("data:image/jpeg;base64,{}", "/9j/4AAQSkZJRg".repeat(5_800)) } });
        let v = json!({ "model": "gpt-4o", "messages": [{ "role": "user", "content": [
            { "type": "text", "text": text }, image.clone(), image.clone(), image,
        ]}]});
        let (out, cut) = fit_json(&v, v.to_string(), 32 * 1024);
        assert!(cut);
        assert!(out.len() <= 32 * 1024);
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["messages"][0]["content"][0]["text"], text);
        for i in 1..4 {
            let url = back["messages"][0]["content"][i]["image_url"]["url"]
                .as_str()
                .unwrap();
            assert_eq!(url, format!("data:image/jpeg;base64,{}", marker(81_223)));
        }
    }

    #[test]
    fn an_image_smaller_than_the_text_beside_it_takes_none_of_its_room() {
        // 25,000 bytes of text and a 20,000-byte image in a 32 KiB limit: the image, not the
        // text, is cut (before, the text was cut to about the image's length).
        let text = "Tell me about this. ".repeat(1_250);
        let v = json!({ "messages": [{ "role": "user", "content": [
            { "type": "text", "text": text },
            { "type": "image_url", "image_url": { "url": format!("data:image/png;base64,{}", "iVBORw0KGgo=".repeat(1_667)) } },
        ]}]});
        let (out, cut) = fit_json(&v, v.to_string(), 32 * 1024);
        assert!(cut);
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["messages"][0]["content"][0]["text"], text);
        assert_eq!(
            back["messages"][0]["content"][1]["image_url"]["url"],
            format!("data:image/png;base64,{}", marker(20_004 + 22))
        );
    }

    #[test]
    fn a_value_that_cannot_fit_by_cutting_strings_is_left_to_the_core() {
        let v = json!({ "data": [{ "embedding": vec![0.125; 5000] }] });
        let text = v.to_string();
        assert_eq!(fit_json(&v, text.clone(), 1024), (text, false));
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[a-zé\\n\"\u{1}\u{1F600}]{0,300}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                proptest::collection::btree_map("[a-z\"\\\\\n\u{1}é]{0,8}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn measure_is_the_written_length(v in json_value()) {
            proptest::prop_assert_eq!(measure(&v, "", &mut Vec::new()), v.to_string().len());
        }

        // Whatever it is given, the answer is the text as it was, or valid JSON of the same shape
        // within the limit whose every string is the original's or a marked prefix of it.
        #[test]
        fn an_answer_is_the_text_or_the_same_shape_within_the_limit(v in json_value(), max in 0usize..3000) {
            let text = v.to_string();
            let (out, cut) = fit_json(&v, text.clone(), max);
            proptest::prop_assert_eq!(cut, out != text);
            if cut {
                proptest::prop_assert!(out.len() <= max, "{} > {max}", out.len());
                let back: Value = serde_json::from_str(&out).unwrap();
                proptest::prop_assert!(same_shape(&v, &back), "{v} vs {back}");
            }
        }
    }

    fn same_shape(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::String(x), Value::String(y)) => {
                x == y
                    || y.strip_suffix(&marker(x.len()))
                        .is_some_and(|kept| x.starts_with(kept))
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_shape(a, b))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| y.get(k).is_some_and(|w| same_shape(v, w)))
            }
            (x, y) => x == y,
        }
    }
}
