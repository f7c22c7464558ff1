//! Helpers shared by the fuzz targets in `fuzz_targets/`: the OTLP decoder under test and its
//! round-trip checks, a reference SSE parser to compare against, chunk splitting, and the byte
//! layout of the `llm_response` target's inputs.

pub mod llm;
pub mod otlp;
pub mod sse;

/// Splits `data` into chunks whose lengths come from `seed`: empty chunks, single bytes and
/// longer runs all occur, so every split point is reachable with some seed.
pub fn chunks(data: &[u8], seed: u8) -> Vec<&[u8]> {
    let mut state = u32::from(seed).wrapping_mul(0x9E37_79B9) | 1;
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        // xorshift32
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let len = match state % 8 {
            0 => 0,
            1..=3 => 1 + (state >> 8) as usize % 3,
            4..=6 => 1 + (state >> 8) as usize % 40,
            _ => 1 + (state >> 8) as usize % 1024,
        };
        let (a, b) = rest.split_at(len.min(rest.len()));
        out.push(a);
        rest = b;
    }
    out
}

/// Panics unless `text` is one valid JSON value.
pub fn assert_json(what: &str, text: &str) {
    if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
        panic!("{what} is not valid JSON ({e}): {text:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_input_in_order() {
        let data: Vec<u8> = (0..=255).cycle().take(5000).collect();
        for seed in 0..=255 {
            let c = chunks(&data, seed);
            assert_eq!(c.concat(), data, "seed {seed}");
        }
    }
}

/// Checks what a parser promises of an [`edgetrace::llm::Outcome`]: its inputs, outputs and every
/// JSON attribute are valid JSON, and `parse_errors_key` (`edgetrace.llm.parse_errors`,
/// `edgetrace.mcp.parse_errors`), where set, is a list of 1 to 8 strings.
pub fn check_outcome(out: &edgetrace::llm::Outcome, parse_errors_key: &str) {
    use edgetrace::attribute::AttrValue;
    if let Some(i) = &out.inputs {
        assert_json("inputs", i);
    }
    if let Some(o) = &out.outputs {
        assert_json("outputs", o);
    }
    for (k, v) in &out.attributes {
        if let AttrValue::Json(text) = v {
            assert_json(k, text);
        }
        if k == parse_errors_key {
            let AttrValue::Json(text) = v else {
                panic!("parse_errors is not JSON: {v:?}")
            };
            let list: Vec<String> = serde_json::from_str(text).expect("a list of strings");
            assert!(
                !list.is_empty() && list.len() <= 8,
                "{} parse errors kept",
                list.len()
            );
        }
    }
}
