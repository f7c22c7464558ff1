//! The fused spike's span model (see `examples/fused_spike.rs`): recorded commands applied with
//! each span encoded as OTLP protobuf while they are, no `SpanData` built. Shared by that example
//! and the wasm comparison in `bench/wasm-core/`.

use edgetrace::commands::{DEF, END, END_CLOSE, START, STR};
use edgetrace::context::FxHashMap;

const TRACE_NAME: &[u8] = edgetrace::trace::TRACE_NAME.as_bytes();

/// A span between its start and its end: what its encoding needs, its attributes encoded.
pub struct Live {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    parent: Option<[u8; 8]>,
    name: u32,
    span_type: u32,
    start_ns: u64,
    attributes: Vec<u8>,
}

#[derive(Default)]
pub struct Spike {
    strings: Vec<Vec<u8>>,
    pub live: FxHashMap<u32, Live>,
    spare: Vec<Vec<u8>>,
    /// Ended spans, encoded: the body of a ScopeSpans message.
    pub out: Vec<u8>,
    /// Spans ended.
    pub spans: u64,
}

fn varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn varint_len(n: u64) -> usize {
    (64 - (n | 1).leading_zeros() as usize).div_ceil(7)
}

fn len_field(out: &mut Vec<u8>, field: u32, len: usize) {
    out.push((field << 3 | 2) as u8);
    varint(out, len as u64);
}

/// A string KeyValue as a Span's attribute (field 9), and its length with key and length.
fn kv_len(k: &[u8], v: &[u8]) -> usize {
    let any = 1 + varint_len(v.len() as u64) + v.len();
    let kv = 1 + varint_len(k.len() as u64) + k.len() + 1 + varint_len(any as u64) + any;
    1 + varint_len(kv as u64) + kv
}

fn kv_str(out: &mut Vec<u8>, k: &[u8], v: &[u8]) {
    let any = 1 + varint_len(v.len() as u64) + v.len();
    len_field(
        out,
        9,
        1 + varint_len(k.len() as u64) + k.len() + 1 + varint_len(any as u64) + any,
    );
    len_field(out, 1, k.len());
    out.extend_from_slice(k);
    len_field(out, 2, any);
    len_field(out, 1, v.len());
    out.extend_from_slice(v);
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        s
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().unwrap())
    }
    fn ns(&mut self) -> u64 {
        (f64::from_le_bytes(self.take(8).try_into().unwrap()) * 1e6) as u64
    }
}

impl Spike {
    /// Applies recorded commands (DEF, START, STR, END, END_CLOSE only).
    pub fn apply(&mut self, b: &[u8]) {
        let mut r = Reader { b, at: 0 };
        while r.at < b.len() {
            match r.take(1)[0] {
                DEF => {
                    let id = r.u32() as usize;
                    let n = r.u32() as usize;
                    if self.strings.len() <= id {
                        self.strings.resize(id + 1, Vec::new());
                    }
                    self.strings[id] = r.take(n).to_vec();
                }
                START => {
                    let (h, _ctx, parent, name, span_type) =
                        (r.u32(), r.u32(), r.u32(), r.u32(), r.u32());
                    let start_ns = r.ns();
                    let span_id: [u8; 8] = r.take(8).try_into().unwrap();
                    let (trace_id, parent) = if r.take(1)[0] & 1 == 1 {
                        (r.take(16).try_into().unwrap(), None)
                    } else {
                        let p = &self.live[&parent];
                        (p.trace_id, Some(p.span_id))
                    };
                    let attributes = self.spare.pop().unwrap_or_default();
                    let live = Live {
                        trace_id,
                        span_id,
                        parent,
                        name,
                        span_type,
                        start_ns,
                        attributes,
                    };
                    self.live.insert(h, live);
                }
                STR => {
                    let (h, key) = (r.u32(), r.u32() as usize);
                    let n = r.u32() as usize;
                    let value = r.take(n);
                    let live = self.live.get_mut(&h).unwrap();
                    kv_str(&mut live.attributes, &self.strings[key], value);
                }
                op @ (END | END_CLOSE) => {
                    let (h, end_ns) = (r.u32(), r.ns());
                    if op == END_CLOSE {
                        r.u32();
                    }
                    let mut l = self.live.remove(&h).unwrap();
                    self.end(&l, end_ns);
                    l.attributes.clear();
                    self.spare.push(l.attributes);
                }
                op => panic!("opcode {op}"),
            }
        }
    }

    /// Encodes an ended span into `out`, as the core's protobuf encoder writes it.
    fn end(&mut self, l: &Live, end_ns: u64) {
        let name = &self.strings[l.name as usize];
        let span_type = &self.strings[l.span_type as usize];
        let len = 18
            + 10
            + if l.parent.is_some() { 10 } else { 0 }
            + 1
            + varint_len(name.len() as u64)
            + name.len()
            + 2
            + 18
            + kv_len(b"mlflow.spanType", span_type)
            + if l.parent.is_none() {
                kv_len(TRACE_NAME, name)
            } else {
                0
            }
            + l.attributes.len()
            + 4
            + 5;
        let out = &mut self.out;
        len_field(out, 2, len);
        len_field(out, 1, 16);
        out.extend_from_slice(&l.trace_id);
        len_field(out, 2, 8);
        out.extend_from_slice(&l.span_id);
        if let Some(p) = l.parent {
            len_field(out, 4, 8);
            out.extend_from_slice(&p);
        }
        len_field(out, 5, name.len());
        out.extend_from_slice(name);
        out.extend_from_slice(&[6 << 3, 1, 7 << 3 | 1]);
        out.extend_from_slice(&l.start_ns.to_le_bytes());
        out.push(8 << 3 | 1);
        out.extend_from_slice(&end_ns.to_le_bytes());
        kv_str(out, b"mlflow.spanType", span_type);
        // A root names its trace, as the core's encoders write it (`SpanData::names_its_trace`).
        if l.parent.is_none() {
            kv_str(out, TRACE_NAME, name);
        }
        out.extend_from_slice(&l.attributes);
        out.extend_from_slice(&[15 << 3 | 2, 2, 3 << 3, 1, 16 << 3 | 5, 1]);
        out.extend_from_slice(&0x101u32.to_le_bytes());
        self.spans += 1;
    }
}
