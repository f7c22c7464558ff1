//! Text put together without `core::fmt`. The core the browser loads leaves Rust's formatting
//! machinery out (about 4 KB of wasm), so its messages and generated keys are joined from pieces.

/// `parts`, one after another.
pub fn cat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

/// The decimal digits of `n`.
pub fn dec(n: usize) -> String {
    let mut s = String::new();
    let mut unit = 1;
    while n / unit >= 10 {
        unit *= 10;
    }
    while unit > 0 {
        s.push(char::from(b'0' + (n / unit % 10) as u8));
        unit /= 10;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_writes_numbers_as_format_would() {
        for n in [
            0usize,
            7,
            10,
            99,
            100,
            65_536,
            u32::MAX as usize,
            usize::MAX,
        ] {
            assert_eq!(dec(n), format!("{n}"));
        }
        assert_eq!(cat(&["span ", &dec(42), " is open"]), "span 42 is open");
        assert_eq!(cat(&[]), "");
    }
}
