//! The recorded commands of the benchmarks' traces, written as the JS recorder writes them
//! (`pkg-templates/recorder.js`, format in `src/commands.rs`): shared by the examples that count
//! what applying them costs.

use edgetrace::commands::{DEF, END, END_CLOSE, OPENS_CONTEXT, START, STR};
use edgetrace::tracer::GIVEN_HANDLES;

/// Children under each root (the nested scenario).
pub const CHILDREN: u32 = 10;
/// Each span's attributes.
pub const ATTRS: [(&str, &str); 5] = [
    ("app.a", "alpha"),
    ("app.b", "bravo"),
    ("app.c", "charlie"),
    ("app.d", "delta"),
    ("app.e", "echo"),
];

/// A command buffer being written.
#[derive(Default)]
pub struct W(pub Vec<u8>);

impl W {
    fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn f64(&mut self, v: f64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn text(&mut self, s: &str) -> &mut Self {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
        self
    }
}

/// The strings the recorder interns once (names, the type, attribute keys): ids 1…
pub fn definitions(w: &mut W) {
    let strings = ["root", "child", "UNKNOWN"]
        .into_iter()
        .chain(ATTRS.iter().map(|(k, _)| *k));
    for (id, s) in (1..).zip(strings) {
        w.u8(DEF).u32(id).text(s);
    }
}

/// One trace's commands, a root and `children` nested children; `n` makes its handles, context
/// and ids unique.
fn trace(w: &mut W, n: u32, children: u32) {
    let ctx = GIVEN_HANDLES + 1 + n;
    let base = GIVEN_HANDLES + 1 + n * (children + 1);
    for i in 0..=children {
        let h = base + i;
        let parent = if i == 0 { 0 } else { h - 1 };
        let t = 1_700_000_000_000.0 + f64::from(i);
        w.u8(START)
            .u32(h)
            .u32(ctx)
            .u32(parent)
            .u32(if i == 0 { 1 } else { 2 })
            .u32(3)
            .f64(t);
        w.0.extend_from_slice(&(u64::from(h) | 1 << 40).to_be_bytes());
        if i == 0 {
            // The root opens the trace's context, as the JS recorder writes it.
            w.u8(1 | OPENS_CONTEXT);
            w.0.extend_from_slice(&(u128::from(n) | 1 << 100).to_be_bytes());
        } else {
            w.u8(0);
        }
        for (k, (_, v)) in ATTRS.iter().enumerate() {
            w.u8(STR).u32(h).u32(4 + k as u32).text(v);
        }
    }
    for i in (1..=children).rev() {
        w.u8(END).u32(base + i).f64(1_700_000_000_100.0);
    }
    w.u8(END_CLOSE).u32(base).f64(1_700_000_000_100.0).u32(ctx);
}

/// `traces` traces of a root and `children` nested children, in buffers of 100 traces each (the
/// JS layer's 128 KB buffer holds ~700 spans).
pub fn buffers(traces: u32, children: u32) -> Vec<Vec<u8>> {
    (0..traces.div_ceil(100))
        .map(|b| {
            let mut w = W::default();
            for n in b * 100..(b * 100 + 100).min(traces) {
                trace(&mut w, n, children);
            }
            w.0
        })
        .collect()
}
