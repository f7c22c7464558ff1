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

/// Appends `b` to `out`. At most 32 bytes (most attribute values, keys and names) are copied by
/// a few fixed-size moves: a copy of a length known only at run time is a `memory.copy` in wasm,
/// which V8 runs as a call out of the module, dearer than such a short copy itself. One copy of
/// it in the browser's size build (cargo feature `size`).
#[cfg_attr(feature = "size", inline(never))]
#[cfg_attr(not(feature = "size"), inline)]
pub fn put(out: &mut Vec<u8>, b: &[u8]) {
    let n = b.len();
    if n == 0 || n > 32 {
        out.extend_from_slice(b);
        return;
    }
    out.reserve(n);
    let len = out.len();
    // SAFETY: `out` has room for `n` more bytes after its `len` and `b` holds `n`, 1 to 32 of
    // them; `copy_short` writes every byte of `len..len + n`, so all are initialized before
    // `set_len`.
    unsafe {
        copy_short(b.as_ptr(), out.as_mut_ptr().add(len), n);
        out.set_len(len + n);
    }
}

/// Copies `n` bytes, 1 to 32, from `from` to `to` by a few fixed-size moves (see [`put`]): two
/// that overlap in the middle, or for 1 to 3 bytes the first, middle and last.
///
/// # Safety
/// `from` must be valid for reading and `to` for writing `n` bytes, the two must not overlap, and
/// `n` must be in `1..=32`.
#[inline]
pub unsafe fn copy_short(from: *const u8, to: *mut u8, n: usize) {
    debug_assert!((1..=32).contains(&n));
    // SAFETY: every offset read or written is below `n`, as the caller guarantees room for.
    unsafe {
        let pair = |k: usize| {
            std::ptr::copy_nonoverlapping(from, to, k);
            std::ptr::copy_nonoverlapping(from.add(n - k), to.add(n - k), k);
        };
        match n {
            16.. => pair(16),
            8.. => pair(8),
            4.. => pair(4),
            _ => {
                to.write(*from);
                to.add(n / 2).write(*from.add(n / 2));
                to.add(n - 1).write(*from.add(n - 1));
            }
        }
    }
}

/// `s` as a `String`, of capacity its length, copied by [`put`].
#[inline]
pub fn owned(s: &str) -> String {
    let mut v = Vec::with_capacity(s.len());
    put(&mut v, s.as_bytes());
    // SAFETY: `v` holds `s`'s bytes, which are UTF-8.
    unsafe { String::from_utf8_unchecked(v) }
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
    fn put_and_owned_copy_text_of_every_length() {
        let text = "aé✓𝄞bcdefghijklmnopqrstuvwxyz0123456789";
        for from in 0..text.len() {
            for to in from..=text.len() {
                if let Some(s) = text.get(from..to) {
                    let o = owned(s);
                    assert_eq!(o, s);
                    assert_eq!(o.capacity(), s.len());
                    // After what is there already, full or not.
                    for before in [&b""[..], b"xyz", &[7u8; 40]] {
                        let mut v = before.to_vec();
                        v.reserve_exact(3);
                        put(&mut v, s.as_bytes());
                        assert_eq!(&v[..before.len()], before);
                        assert_eq!(&v[before.len()..], s.as_bytes());
                    }
                }
            }
        }
    }

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
