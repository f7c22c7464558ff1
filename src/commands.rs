//! Recorded commands: the span hot path without a call into wasm per operation.
//!
//! Calling from JS into wasm costs far more than the work of one span operation (arguments are
//! converted, strings copied one call at a time, errors checked). So the JS layer does not call
//! the core for each start, attribute and end. It writes them, in the compact form below, into a
//! buffer in the core's own memory, and the core applies the whole buffer in one call
//! ([`Recorded::apply`]) when a batch may be due (in a task of its own, not in the span's end), or
//! before any other call (so every other call sees every span operation made before it, in
//! order). A full buffer is kept (by the core in Node and Workers, `Core::cmd_buffer` in
//! `bindings.rs`; as a copy by the JS layer in browsers) and a buffer filled again, up to half of
//! `maxQueueBytes`; only past that is what was recorded applied to make room.
//!
//! The JS layer chooses span handles and context ids (at least
//! [`crate::tracer::GIVEN_HANDLES`]) and draws span and trace ids itself, so a start needs no
//! answer. Names, span types and attribute keys are interned: defined once ([`DEF`]), then
//! referred to by number.
//!
//! Every number is little-endian; ids are raw bytes in wire order. Each command is a one-byte
//! opcode and its fields:
//!
//! | opcode | fields |
//! |---|---|
//! | [`START`] | handle u32, ctx u32, parent u32 (0: a root or a remote parent's child), name u32, type u32, start f64 ms, span id 8 bytes, flags u8, then by flag: bit 0 a trace id (16 bytes); bit 1 a remote parent (trace id 16 bytes, span id 8 bytes, sampled u8); bit 2 the name and the type inline (each length u32, UTF-8; name and type numbers 0); bit 3 the span opens `ctx` first (as [`CTX_OPEN`]: a trace's first span here) |
//! | [`STR`] | handle u32, key u32, length u32, UTF-8 bytes |
//! | [`NUM`] | handle u32, key u32, value f64 |
//! | [`BOOL`] | handle u32, key u32, value u8 |
//! | [`END`] | handle u32, end f64 ms |
//! | [`END_CLOSE`] | handle u32, end f64 ms, ctx u32: [`END`], then [`CTX_CLOSE`] of `ctx` |
//! | [`DEF`] | string number u32, length u32, UTF-8 bytes |
//! | [`CTX_OPEN`] | ctx u32 |
//! | [`CTX_CLOSE`] | ctx u32 |
//! | [`INPUTS`] | handle u32, length u32, JSON text (valid JSON: not checked again) |
//! | [`OUTPUTS`] | handle u32, length u32, JSON text (the same) |
//! | [`ATTR`] | handle u32, key (length u32, UTF-8), tag u8 (0 string, 1 integer, 2 double, 3 boolean, 4 JSON), value (text: length u32 + UTF-8; integer i64; double f64; boolean u8) |
//! | [`TYPE`] | handle u32, span type (length u32, UTF-8) |
//! | [`STATUS`] | handle u32, code u8 (0 unset, 1 OK, 2 error), message (length u32, UTF-8) |
//! | [`EVENT`] | handle u32, name (length u32, UTF-8), count u32, then per attribute: key (length u32, UTF-8) and value (as in [`ATTR`]: tag u8 and value) |
//! | [`EXCEPTION`] | handle u32, type, message, stack trace (each length u32, UTF-8) |
//! | [`TRACE`] | handle u32, count u32, then per field of a trace update: field u8 (0 a tag, 1 metadata, 2 session id, 3 user id, 4 client request id, 5 request preview, 6 response preview), key and value (each length u32, UTF-8; the key empty but for tags and metadata) |
//! | [`EXPORT_FAILED`] | spans u32: a batch the transport gave up on, counted as dropped |
//! | [`TRUNCATED`] | values u32: values cut to `maxValueBytes` before they reached the core, counted as truncated |
//!
//! [`ATTR`], [`TYPE`] and [`STATUS`] carry their text inline: the model API parsers (a separate
//! wasm module, see [`crate::llm`]) write them with [`Writer`], and JS hands the bytes to the core
//! as they are. So is [`TRUNCATED`]: the parsers cut a model call's inputs or outputs to the
//! limit themselves, keeping their JSON structure, and the core, which sees them already within
//! it, counts them by that command. The JS layer records them too (an attribute whose key it does not intern, a
//! span's type or status), with [`EVENT`], [`EXCEPTION`] and [`TRACE`]: every span operation is a
//! command, and the core exports no method per operation. So is the exporter's one report back,
//! [`EXPORT_FAILED`].
//!
//! A command that fails (an unknown handle, say) is counted and its error kept; the rest still
//! apply. A truncated or unknown command stops the buffer there: it can only come from a bug in
//! the JS layer, and it is reported as one.

use crate::attribute::AttrValue;
use crate::config::Field;
use crate::error::Error;
use crate::id::{SpanId, TraceId};
use crate::propagation::RemoteParent;
use crate::span::{Key, SpanType, StatusCode};
use crate::text::{cat, dec};
use crate::trace::TraceUpdate;
use crate::tracer::{GivenIds, Parent, Tracer};

/// Starts a span.
pub const START: u8 = 1;
/// Sets a string attribute.
pub const STR: u8 = 2;
/// Sets a number attribute.
pub const NUM: u8 = 3;
/// Sets a boolean attribute.
pub const BOOL: u8 = 4;
/// Ends a span.
pub const END: u8 = 5;
/// Defines an interned string.
pub const DEF: u8 = 6;
/// Opens a context.
pub const CTX_OPEN: u8 = 7;
/// Closes a context.
pub const CTX_CLOSE: u8 = 8;
/// Sets a span's inputs.
pub const INPUTS: u8 = 9;
/// Sets a span's outputs.
pub const OUTPUTS: u8 = 10;
/// Sets an attribute of any type, its key inline.
pub const ATTR: u8 = 11;
/// Sets a span's type.
pub const TYPE: u8 = 12;
/// Sets a span's status.
pub const STATUS: u8 = 13;

/// Adds an event to a span.
pub const EVENT: u8 = 14;
/// Records an exception on a span (an event, and ERROR status).
pub const EXCEPTION: u8 = 15;
/// Merges an update into a span's trace.
pub const TRACE: u8 = 16;
/// Counts the spans of a batch the transport gave up on ([`Tracer::report_export_failed`]).
pub const EXPORT_FAILED: u8 = 17;
/// Ends a span and closes a context: a trace's first span here, which opened the context.
pub const END_CLOSE: u8 = 18;
/// Counts values cut before they reached the core ([`Tracer::count_truncated`]).
pub const TRUNCATED: u8 = 19;

/// [`START`]'s flag: the span opens its context first.
pub const OPENS_CONTEXT: u8 = 8;

/// The most interned strings kept; the JS layer stops interning before this.
pub const MAX_STRINGS: usize = 1 << 16;

/// The interned strings and the outcome of the last [`Recorded::apply`].
#[derive(Debug, Default)]
pub struct Recorded {
    strings: Vec<Option<Key>>,
    /// The span type last parsed from an interned string, and that string's number: most spans
    /// share a few types, so a start rarely parses one.
    last_type: Option<(u32, SpanType)>,
    /// Commands that failed in the last apply.
    pub failed: u32,
    /// The last failure's error.
    pub last_error: Option<Error>,
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    #[inline]
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.b.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
    #[inline]
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }
    #[inline]
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    #[inline]
    fn f64(&mut self) -> Option<f64> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Some(f64::from_le_bytes(a))
    }
    #[cfg_attr(feature = "size", inline(never))]
    #[cfg_attr(not(feature = "size"), inline)]
    fn text(&mut self) -> Option<&'a str> {
        let n = self.u32()? as usize;
        let b = self.take(n)?;
        // Most recorded text is ASCII, checked a word at a time: several times cheaper for short
        // values than validating UTF-8 (see examples/commands_cost.rs).
        if b.is_ascii() {
            // SAFETY: ASCII bytes are UTF-8.
            Some(unsafe { std::str::from_utf8_unchecked(b) })
        } else {
            std::str::from_utf8(b).ok()
        }
    }
    /// A count u32, then that many items read by `item`.
    fn fields<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let n = self.u32()? as usize;
        // Each item takes at least 4 bytes: a count beyond what is left is malformed.
        if n > (self.b.len() - self.at) / 4 {
            return None;
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(item(self)?);
        }
        Some(out)
    }

    fn value(&mut self) -> Option<AttrValue> {
        Some(match self.u8()? {
            0 => AttrValue::text(self.text()?),
            1 => AttrValue::Int(i64::from_le_bytes(self.take(8)?.try_into().ok()?).into()),
            2 => AttrValue::Double(self.f64()?.into()),
            3 => AttrValue::Bool(self.u8()? != 0),
            4 => AttrValue::Json(self.text()?.into()),
            _ => return None,
        })
    }
}

/// Reads a configuration in the core's binary form (what `init()` hands `Core::new`): a count
/// u32, then per field a kind u8 (0 an option, 1 a resource attribute), its key (length u32,
/// UTF-8) and its value (as in [`ATTR`]). Checked by [`crate::config::Config::from_fields`].
pub fn config_fields(bytes: &[u8]) -> Result<Vec<Field>, Error> {
    let mut r = Reader { b: bytes, at: 0 };
    let fields = r.fields(|r| {
        let kind = r.u8()?;
        let key = r.text()?.to_owned();
        let value = r.value()?;
        match kind {
            0 => Some(Field::Option(key, value)),
            1 => Some(Field::Resource(key, value)),
            _ => None,
        }
    });
    match fields {
        Some(f) if r.at == bytes.len() => Ok(f),
        _ => Err(Error::InvalidConfig(
            "the configuration is malformed".into(),
        )),
    }
}

/// Writes the commands that carry their text inline ([`ATTR`], [`TYPE`], [`STATUS`]) and
/// [`INPUTS`] / [`OUTPUTS`]: what a module other than the JS recorder sends to the core.
#[derive(Debug, Default)]
pub struct Writer {
    /// The commands written so far.
    pub bytes: Vec<u8>,
}

impl Writer {
    fn u32(&mut self, n: u32) {
        self.bytes.extend_from_slice(&n.to_le_bytes());
    }
    fn text(&mut self, s: &str) {
        // Longer than u32::MAX cannot happen in wasm32 (memory is 4 GiB at most).
        self.u32(s.len() as u32);
        self.bytes.extend_from_slice(s.as_bytes());
    }
    fn head(&mut self, op: u8, h: u32) {
        self.bytes.push(op);
        self.u32(h);
    }
    /// Sets attribute `key` of span `h`.
    pub fn attr(&mut self, h: u32, key: &str, value: &AttrValue) {
        self.head(ATTR, h);
        self.text(key);
        match value {
            AttrValue::Str(s) => {
                self.bytes.push(0);
                self.text(s);
            }
            AttrValue::Short(s) => {
                self.bytes.push(0);
                self.text(s);
            }
            AttrValue::Int(i) => {
                self.bytes.push(1);
                self.bytes.extend_from_slice(&i.get().to_le_bytes());
            }
            AttrValue::Double(d) => {
                self.bytes.push(2);
                self.bytes.extend_from_slice(&d.get().to_le_bytes());
            }
            AttrValue::Bool(b) => {
                self.bytes.push(3);
                self.bytes.push(u8::from(*b));
            }
            AttrValue::Json(s) => {
                self.bytes.push(4);
                self.text(s);
            }
        }
    }
    /// Sets span `h`'s inputs (valid JSON text).
    pub fn inputs(&mut self, h: u32, json: &str) {
        self.head(INPUTS, h);
        self.text(json);
    }
    /// Sets span `h`'s outputs (valid JSON text).
    pub fn outputs(&mut self, h: u32, json: &str) {
        self.head(OUTPUTS, h);
        self.text(json);
    }
    /// Sets span `h`'s type.
    pub fn span_type(&mut self, h: u32, span_type: &str) {
        self.head(TYPE, h);
        self.text(span_type);
    }
    /// Sets span `h`'s status.
    pub fn status(&mut self, h: u32, code: StatusCode, message: &str) {
        self.head(STATUS, h);
        self.bytes.push(code as u8);
        self.text(message);
    }
    /// Records an exception on span `h` (an `exception` event, and ERROR status `kind: message`),
    /// with no stack trace.
    pub fn exception(&mut self, h: u32, kind: &str, message: &str) {
        self.head(EXCEPTION, h);
        self.text(kind);
        self.text(message);
        self.text("");
    }
    /// Counts `values` cut to the value limit before they reached the core.
    pub fn truncated(&mut self, values: u32) {
        self.bytes.push(TRUNCATED);
        self.u32(values);
    }
}

/// JS epoch milliseconds (fractions kept) to ns; 0 for anything not a positive finite number.
pub fn ms_to_ns(ms: f64) -> u64 {
    if ms.is_finite() && ms > 0.0 {
        (ms * 1e6) as u64
    } else {
        0
    }
}

/// A JS number as an attribute: integral values within ±2^53 as integers, others as doubles.
pub fn number(value: f64) -> AttrValue {
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        AttrValue::Int((value as i64).into())
    } else {
        AttrValue::Double(value.into())
    }
}

impl Recorded {
    fn string(&self, id: u32) -> Result<&Key, Error> {
        self.strings
            .get(id as usize)
            .and_then(Option::as_ref)
            .ok_or_else(|| {
                Error::Decode(cat(&[
                    "recorded command: string ",
                    &dec(id as usize),
                    " is not defined",
                ]))
            })
    }

    /// The span type interned as string `id`, parsed once for a run of spans of one type.
    fn span_type(&mut self, id: u32) -> Result<SpanType, Error> {
        if let Some((last, ty)) = &self.last_type {
            if *last == id {
                return Ok(ty.clone());
            }
        }
        let ty = SpanType::parse(self.string(id)?);
        self.last_type = Some((id, ty.clone()));
        Ok(ty)
    }

    /// Applies every command in `buf` to `t`, in order. `Err` only for a malformed buffer (a bug
    /// in the writer); the commands before the malformed one are applied.
    pub fn apply(&mut self, t: &mut Tracer, buf: &[u8]) -> Result<(), Error> {
        self.failed = 0;
        let mut r = Reader { b: buf, at: 0 };
        while r.at < buf.len() {
            let at = r.at;
            let Some(result) = self.one(t, &mut r) else {
                return Err(Error::Decode(cat(&[
                    "recorded command at byte ",
                    &dec(at),
                    " of ",
                    &dec(buf.len()),
                    " is malformed",
                ])));
            };
            if let Err(e) = result {
                self.failed += 1;
                self.last_error = Some(e);
            }
        }
        Ok(())
    }

    /// One command: `None` when malformed, else what applying it gave.
    fn one(&mut self, t: &mut Tracer, r: &mut Reader<'_>) -> Option<Result<(), Error>> {
        Some(match r.u8()? {
            START => {
                let (h, ctx, parent) = (r.u32()?, r.u32()?, r.u32()?);
                let (name, kind) = (r.u32()?, r.u32()?);
                let start = ms_to_ns(r.f64()?);
                let span_id = SpanId::from_slice(r.take(8)?);
                let flags = r.u8()?;
                let trace_id = if flags & 1 == 1 {
                    Some(TraceId::from_slice(r.take(16)?))
                } else {
                    None
                };
                let remote = if flags & 2 == 2 {
                    let (tid, sid) = (r.take(16)?, r.take(8)?);
                    Some((
                        TraceId::from_slice(tid),
                        SpanId::from_slice(sid),
                        r.u8()? & 1 == 1,
                    ))
                } else {
                    None
                };
                let inline = if flags & 4 == 4 {
                    Some((r.text()?, r.text()?))
                } else {
                    None
                };
                (|| {
                    if flags & OPENS_CONTEXT != 0 {
                        t.open_context_as(ctx)?;
                    }
                    let parent = match remote {
                        Some((trace_id, span_id, sampled)) => Parent::Remote(RemoteParent {
                            trace_id: trace_id?,
                            span_id: span_id?,
                            sampled,
                        }),
                        None if parent == 0 => Parent::Root,
                        None => Parent::Span(parent),
                    };
                    let ids = GivenIds {
                        span_id: span_id?,
                        trace_id: trace_id.transpose()?,
                    };
                    let owned;
                    let (name, kind) = match inline {
                        Some((name, kind)) => {
                            owned = Key::from(name);
                            (&owned, SpanType::parse(kind))
                        }
                        None => {
                            let kind = self.span_type(kind)?;
                            (self.string(name)?, kind)
                        }
                    };
                    t.start_span_given(h, ctx, parent, name, kind, start, ids)
                        .map(|_| ())
                })()
            }
            STR => {
                let (h, key) = (r.u32()?, r.u32()?);
                let value = r.text()?;
                let value = AttrValue::text(value);
                self.string(key)
                    .and_then(|k| t.set_attribute_key(h, k.clone(), value))
            }
            NUM => {
                let (h, key, value) = (r.u32()?, r.u32()?, r.f64()?);
                self.string(key)
                    .and_then(|k| t.set_attribute_key(h, k.clone(), number(value)))
            }
            BOOL => {
                let (h, key, value) = (r.u32()?, r.u32()?, r.u8()?);
                self.string(key)
                    .and_then(|k| t.set_attribute_key(h, k.clone(), AttrValue::Bool(value != 0)))
            }
            END => {
                let (h, end) = (r.u32()?, r.f64()?);
                t.end_span_at(h, ms_to_ns(end))
            }
            END_CLOSE => {
                let (h, end, ctx) = (r.u32()?, r.f64()?, r.u32()?);
                // The context closes even when the end fails, as the two commands would.
                let ended = t.end_span_at(h, ms_to_ns(end));
                ended.and(t.close_context(ctx))
            }
            DEF => {
                let id = r.u32()? as usize;
                let text = r.text()?;
                if id >= MAX_STRINGS {
                    return None;
                }
                if self.strings.len() <= id {
                    self.strings.resize(id + 1, None);
                }
                if matches!(self.last_type, Some((t, _)) if t as usize == id) {
                    self.last_type = None;
                }
                self.strings[id] = Some(Key::from(text));
                Ok(())
            }
            CTX_OPEN => t.open_context_as(r.u32()?),
            CTX_CLOSE => t.close_context(r.u32()?),
            INPUTS => {
                let h = r.u32()?;
                t.set_inputs_json(h, r.text()?)
            }
            OUTPUTS => {
                let h = r.u32()?;
                t.set_outputs_json(h, r.text()?)
            }
            ATTR => {
                let (h, key) = (r.u32()?, r.text()?);
                let value = r.value()?;
                t.set_attribute(h, key, value)
            }
            TYPE => {
                let h = r.u32()?;
                t.set_span_type(h, SpanType::parse(r.text()?))
            }
            STATUS => {
                let (h, code) = (r.u32()?, r.u8()?);
                if code > StatusCode::Error as u8 {
                    return None;
                }
                t.set_status(h, StatusCode::from_i32(code.into()), r.text()?)
            }
            EVENT => {
                let (h, name) = (r.u32()?, r.text()?);
                let attrs = r.fields(|r| Some((r.text()?.to_owned(), r.value()?)))?;
                t.add_event(h, name, attrs)
            }
            EXCEPTION => {
                let h = r.u32()?;
                let (kind, message, stack) = (r.text()?, r.text()?, r.text()?);
                t.record_exception(h, kind, message, stack)
            }
            TRACE => {
                let h = r.u32()?;
                let mut u = TraceUpdate::default();
                let fields = r.fields(|r| Some((r.u8()?, r.text()?, r.text()?)))?;
                for (field, key, value) in fields {
                    let v = Some(value.to_owned());
                    match field {
                        0 => u.tags.insert(key.to_owned(), value.to_owned()),
                        1 => u.metadata.insert(key.to_owned(), value.to_owned()),
                        2 => u.session_id = v,
                        3 => u.user_id = v,
                        4 => u.client_request_id = v,
                        5 => u.request_preview = v,
                        6 => u.response_preview = v,
                        _ => return None,
                    }
                }
                t.update_trace(h, u)
            }
            EXPORT_FAILED => {
                t.report_export_failed(u64::from(r.u32()?));
                Ok(())
            }
            TRUNCATED => {
                t.count_truncated(u64::from(r.u32()?));
                Ok(())
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::id::SequentialIds;
    use crate::otlp::Format;
    use crate::tracer::{Config, GIVEN_HANDLES};

    /// Writes commands as the JS recorder does.
    #[derive(Default)]
    struct W(Vec<u8>);
    impl W {
        #[inline]
        fn u32(&mut self, v: u32) -> &mut Self {
            self.0.extend_from_slice(&v.to_le_bytes());
            self
        }
        #[inline]
        fn f64(&mut self, v: f64) -> &mut Self {
            self.0.extend_from_slice(&v.to_le_bytes());
            self
        }
        fn op(&mut self, op: u8) -> &mut Self {
            self.0.push(op);
            self
        }
        #[inline]
        fn text(&mut self, s: &str) -> &mut Self {
            self.u32(s.len() as u32);
            self.0.extend_from_slice(s.as_bytes());
            self
        }
        fn def(&mut self, id: u32, s: &str) -> &mut Self {
            self.op(DEF).u32(id).text(s)
        }
        fn start(
            &mut self,
            h: u32,
            ctx: u32,
            parent: u32,
            span: u8,
            trace: Option<u8>,
        ) -> &mut Self {
            self.op(START)
                .u32(h)
                .u32(ctx)
                .u32(parent)
                .u32(1)
                .u32(2)
                .f64(1000.5);
            self.0.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, span]);
            match trace {
                Some(t) => {
                    self.0.push(1);
                    self.0.extend_from_slice(&[t; 16]);
                }
                None => self.0.push(0),
            }
            self
        }
    }

    /// A START with a remote parent (flag bit 1) and/or its name and type inline (bit 2).
    fn start_flagged(
        w: &mut W,
        h: u32,
        ctx: u32,
        remote: Option<([u8; 16], [u8; 8], u8)>,
        inline: Option<(&str, &str)>,
    ) {
        let ids = if inline.is_some() { 0 } else { 1 };
        w.op(START)
            .u32(h)
            .u32(ctx)
            .u32(0)
            .u32(ids)
            .u32(ids * 2)
            .f64(1000.0);
        w.0.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 5]);
        let flags = u8::from(remote.is_some()) * 2 + u8::from(inline.is_some()) * 4;
        w.0.push(flags);
        if let Some((tid, sid, sampled)) = remote {
            w.0.extend_from_slice(&tid);
            w.0.extend_from_slice(&sid);
            w.0.push(sampled);
        }
        if let Some((name, kind)) = inline {
            w.text(name).text(kind);
        }
    }

    #[test]
    fn a_start_continues_a_remote_parent_and_carries_its_name_inline() {
        let mut t = tracer();
        let mut rec = Recorded::default();
        let mut w = W::default();
        let long = "n".repeat(300);
        w.def(1, "server").def(2, "CHAIN");
        w.op(CTX_OPEN).u32(H);
        start_flagged(&mut w, H + 1, H, Some(([0xab; 16], [0xcd; 8], 1)), None);
        w.op(END).u32(H + 1).f64(1001.0);
        start_flagged(
            &mut w,
            H + 2,
            H,
            Some(([0xab; 16], [0xcd; 8], 1)),
            Some((&long, "TOOL")),
        );
        w.op(END).u32(H + 2).f64(1001.0);
        // A remote parent with an all-zero trace id is refused; the rest still applies.
        start_flagged(&mut w, H + 3, H, Some(([0; 16], [0xcd; 8], 1)), None);
        // Not sampled upstream: the span is not kept.
        start_flagged(&mut w, H + 4, H, Some(([0x12; 16], [0x34; 8], 0)), None);
        w.op(END).u32(H + 4).f64(1001.0);
        rec.apply(&mut t, &w.0).unwrap();
        assert_eq!(rec.failed, 1, "only the all-zero trace id fails");
        assert!(
            matches!(rec.last_error, Some(Error::InvalidId(_))),
            "{:?}",
            rec.last_error
        );
        let body = t.take_batch(Format::Json).unwrap().body;
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let spans = v["resourceSpans"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .unwrap();
        assert_eq!(spans.len(), 2, "the unsampled remote child is dropped");
        for s in spans {
            assert_eq!(s["traceId"], "ab".repeat(16));
            assert_eq!(s["parentSpanId"], "cd".repeat(8));
            assert_eq!(s["spanId"], "0000000000000005");
        }
        assert_eq!(spans[0]["name"], "server");
        assert_eq!(spans[1]["name"], long.as_str());
        let ty = |s: &serde_json::Value| {
            s["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["key"] == "mlflow.spanType")
                .unwrap()["value"]["stringValue"]
                .clone()
        };
        assert_eq!(ty(&spans[0]), "CHAIN");
        assert_eq!(ty(&spans[1]), "TOOL");
    }

    fn tracer() -> Tracer {
        Tracer::new(
            Config::default(),
            Box::new(ManualClock::new(5)),
            Box::new(SequentialIds::default()),
        )
    }

    const H: u32 = GIVEN_HANDLES;

    /// A tracer, its recorder, and commands that open context `H` and start root span `H + 1`
    /// ("root", UNKNOWN) in it, not yet applied.
    fn with_open_root() -> (Tracer, Recorded, W) {
        let mut w = W::default();
        w.def(1, "root").def(2, "UNKNOWN");
        w.op(CTX_OPEN).u32(H);
        w.start(H + 1, H, 0, 1, Some(2));
        (tracer(), Recorded::default(), w)
    }

    /// Sets [`OPENS_CONTEXT`] on the START just written by `W::start` with a trace id.
    fn opens_context(w: &mut W) {
        let at = w.0.len() - 17;
        w.0[at] |= OPENS_CONTEXT;
    }

    #[test]
    fn a_root_opens_and_closes_its_context_in_its_start_and_end_as_the_separate_commands_do() {
        let run = |fused: bool| {
            let (mut t, mut rec) = (tracer(), Recorded::default());
            let mut w = W::default();
            w.def(1, "root").def(2, "AGENT");
            if fused {
                w.start(H + 1, H, 0, 7, Some(9));
                opens_context(&mut w);
            } else {
                w.op(CTX_OPEN).u32(H);
                w.start(H + 1, H, 0, 7, Some(9));
            }
            w.start(H + 2, H, H + 1, 8, None);
            rec.apply(&mut t, &w.0).unwrap();
            assert_eq!(rec.failed, 0, "{:?}", rec.last_error);
            assert_eq!(
                t.current_span(H).unwrap(),
                Some(H + 2),
                "the context is open"
            );
            let mut w = W::default();
            w.op(END).u32(H + 2).f64(1001.0);
            if fused {
                w.op(END_CLOSE).u32(H + 1).f64(1002.0).u32(H);
            } else {
                w.op(END).u32(H + 1).f64(1002.0);
                w.op(CTX_CLOSE).u32(H);
            }
            rec.apply(&mut t, &w.0).unwrap();
            assert_eq!(rec.failed, 0, "{:?}", rec.last_error);
            assert!(
                matches!(t.current_span(H), Err(Error::UnknownContext(_))),
                "the context is closed"
            );
            assert_eq!((t.open_spans(), t.queued()), (0, 2));
            t.take_batch(Format::Json).unwrap().body
        };
        assert_eq!(run(true), run(false));
    }

    #[test]
    fn a_root_that_cannot_open_its_context_is_not_started_and_an_end_that_fails_still_closes() {
        let (mut t, mut rec) = (tracer(), Recorded::default());
        let mut w = W::default();
        w.def(1, "root").def(2, "AGENT");
        w.start(H + 1, H, 0, 7, Some(9));
        opens_context(&mut w);
        // The same context again: refused, and this span is not started.
        w.start(H + 2, H, 0, 8, Some(9));
        opens_context(&mut w);
        rec.apply(&mut t, &w.0).unwrap();
        assert_eq!(rec.failed, 1);
        assert_eq!(t.open_spans(), 1);
        assert_eq!(t.current_span(H).unwrap(), Some(H + 1));
        // An unknown handle fails its end; the context still closes, and the command after it
        // applies.
        let mut w = W::default();
        w.op(END_CLOSE).u32(H + 9).f64(1002.0).u32(H);
        w.op(END).u32(H + 1).f64(1002.0);
        rec.apply(&mut t, &w.0).unwrap();
        assert_eq!(rec.failed, 1);
        assert!(matches!(rec.last_error, Some(Error::UnknownSpan(_))));
        assert!(matches!(t.current_span(H), Err(Error::UnknownContext(_))));
        assert_eq!((t.open_spans(), t.queued()), (0, 1));
        // Cut short, the END_CLOSE is malformed.
        let mut w = W::default();
        w.op(END_CLOSE).u32(H + 1).f64(1002.0);
        assert!(rec.apply(&mut t, &w.0).is_err());
    }

    #[test]
    fn recorded_spans_come_out_as_if_called_one_by_one() {
        let mut t = tracer();
        let mut rec = Recorded::default();
        let mut w = W::default();
        w.def(1, "root").def(2, "AGENT").def(3, "app.a");
        w.op(CTX_OPEN).u32(H);
        w.start(H + 1, H, 0, 7, Some(9));
        w.op(STR).u32(H + 1).u32(3).text("alpha ünï");
        w.op(NUM).u32(H + 1).u32(3).f64(2.5);
        w.start(H + 2, H, H + 1, 8, None);
        w.op(BOOL).u32(H + 2).u32(3).0.push(1);
        w.op(OUTPUTS).u32(H + 2).text("{\"a\":1}");
        w.op(END).u32(H + 2).f64(1001.0);
        w.op(END).u32(H + 1).f64(1002.0);
        w.op(CTX_CLOSE).u32(H);
        rec.apply(&mut t, &w.0).unwrap();
        assert_eq!(rec.failed, 0, "{:?}", rec.last_error);
        assert_eq!(t.open_spans(), 0);
        assert_eq!(t.queued(), 2);
        let body = t.take_batch(Format::Json).unwrap().body;
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let spans = &v["resourceSpans"][0]["scopeSpans"][0]["spans"];
        let child = &spans[0];
        let root = &spans[1];
        assert_eq!(root["traceId"], "09".repeat(16));
        assert_eq!(root["spanId"], "0000000000000007");
        assert_eq!(child["traceId"], "09".repeat(16));
        assert_eq!(child["parentSpanId"], "0000000000000007");
        assert_eq!(root["startTimeUnixNano"], "1000500000");
        assert_eq!(root["endTimeUnixNano"], "1002000000");
        assert_eq!(root["name"], "root");
        let attr = |s: &serde_json::Value, k: &str| {
            s["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["key"] == k)
                .map(|a| a["value"].clone())
        };
        // The number replaced the string under the same key.
        assert_eq!(attr(root, "app.a").unwrap()["doubleValue"], 2.5);
        assert_eq!(attr(child, "app.a").unwrap()["boolValue"], true);
        assert_eq!(
            attr(root, "mlflow.spanType").unwrap()["stringValue"],
            "AGENT"
        );
        assert_eq!(
            attr(child, "mlflow.spanOutputs").unwrap()["stringValue"],
            "{\"a\":1}"
        );
    }

    #[test]
    fn a_failing_command_is_counted_and_the_rest_apply() {
        let mut t = tracer();
        let mut rec = Recorded::default();
        let mut w = W::default();
        w.def(1, "s").def(2, "UNKNOWN").def(3, "k");
        w.op(CTX_OPEN).u32(H);
        // An unknown parent, then an undefined key, then a good root with an attribute.
        w.start(H + 1, H, H + 99, 1, None);
        w.op(STR).u32(H + 1).u32(77).text("x");
        w.start(H + 2, H, 0, 2, Some(3));
        w.op(STR).u32(H + 2).u32(3).text("v");
        w.op(END).u32(H + 2).f64(2000.0);
        rec.apply(&mut t, &w.0).unwrap();
        assert_eq!(rec.failed, 2);
        assert_eq!(t.queued(), 1);
        // A caller's handle below GIVEN_HANDLES, or reused while open, is refused.
        let mut w = W::default();
        w.start(5, H, 0, 4, Some(4));
        w.start(H + 3, H, 0, 5, Some(5));
        w.start(H + 3, H, 0, 6, Some(6));
        rec.apply(&mut t, &w.0).unwrap();
        assert_eq!(rec.failed, 2);
        assert_eq!(t.open_spans(), 1);
    }

    #[test]
    fn a_malformed_buffer_is_an_error_after_what_came_before() {
        let mut t = tracer();
        let mut rec = Recorded::default();
        let mut w = W::default();
        w.op(CTX_OPEN).u32(H);
        w.op(END).u32(H + 1); // truncated: no time
        let e = rec.apply(&mut t, &w.0).unwrap_err();
        assert!(e.to_string().contains("byte 5"), "{e}");
        assert!(
            t.open_context_as(H).is_err(),
            "the context was opened before it"
        );
        let e = rec.apply(&mut t, &[200]).unwrap_err();
        assert!(e.to_string().contains("malformed"), "{e}");
    }

    #[test]
    fn text_is_checked_as_utf8_past_its_ascii_start() {
        // Long ASCII runs are checked a word at a time; what follows them is still validated.
        let valid = "abcdefghijklmnop ünï ✓";
        for bad in [
            &b"abcdefghijklmnop\xff"[..],
            b"\xc3",
            b"abcdefgh\xed\xa0\x80",
        ] {
            let (mut t, mut rec, mut w) = with_open_root();
            w.def(3, "k");
            w.op(STR).u32(H + 1).u32(3).text(valid);
            let at = w.0.len();
            w.op(STR).u32(H + 1).u32(3).u32(bad.len() as u32);
            w.0.extend_from_slice(bad);
            let e = rec.apply(&mut t, &w.0).unwrap_err();
            assert!(e.to_string().contains(&cat(&["byte ", &dec(at)])), "{e}");
            assert_eq!(rec.failed, 0, "{:?}", rec.last_error);
            w = W::default();
            w.op(END).u32(H + 1).f64(1001.0);
            rec.apply(&mut t, &w.0).unwrap();
            let body = t.take_batch(Format::Json).unwrap().body;
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let attrs = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"];
            let k = attrs
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["key"] == "k")
                .unwrap();
            assert_eq!(k["value"]["stringValue"], valid, "what came before applied");
        }
    }

    #[test]
    fn events_exceptions_status_type_and_trace_updates_are_commands_too() {
        let (mut t, mut rec, mut w) = with_open_root();
        w.op(TYPE).u32(H + 1).text("TOOL");
        w.op(EVENT).u32(H + 1).text("tick").u32(2);
        w.text("n").0.push(1);
        w.0.extend_from_slice(&3i64.to_le_bytes());
        w.text("ok").0.extend_from_slice(&[3, 1]);
        w.op(EVENT).u32(H + 1).text("bare").u32(0);
        w.op(TRACE).u32(H + 1).u32(2);
        w.0.push(0);
        w.text("env").text("test");
        w.0.push(2);
        w.text("").text("s1");
        w.op(EXCEPTION)
            .u32(H + 1)
            .text("TypeError")
            .text("boom")
            .text("at f");
        // A failure: an event on a span that is not open; the rest applies.
        w.op(EVENT).u32(H + 9).text("lost").u32(0);
        w.op(END).u32(H + 1).f64(1003.0);
        rec.apply(&mut t, &w.0).unwrap();
        assert_eq!(rec.failed, 1);
        assert!(
            matches!(rec.last_error, Some(Error::UnknownSpan(_))),
            "{:?}",
            rec.last_error
        );
        let body = t.take_batch(Format::Json).unwrap().body;
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let span = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        let attr = |k: &str| {
            span["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["key"] == k)
                .map(|a| a["value"]["stringValue"].clone())
        };
        assert_eq!(attr("mlflow.spanType").unwrap(), "TOOL");
        assert_eq!(attr("mlflow.traceTag.env").unwrap(), "test");
        assert_eq!(attr("session.id").unwrap(), "s1");
        let events = span["events"].as_array().unwrap();
        let names: Vec<_> = events.iter().map(|e| e["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["tick", "bare", "exception"]);
        assert_eq!(events[0]["attributes"][0]["value"]["intValue"], "3");
        assert_eq!(span["status"]["code"], 2, "an exception sets ERROR");
        assert_eq!(events[0]["attributes"][1]["value"]["boolValue"], true);
        // A status code above ERROR, a trace update field past the last, a count of fields past
        // the end: each can only come from a broken writer, so malformed.
        let mut w = W::default();
        w.op(STATUS).u32(H + 1).0.push(3);
        assert!(rec.apply(&mut t, &w.0).is_err());
        let mut w = W::default();
        w.op(TRACE).u32(H + 1).u32(1).0.push(7);
        w.text("").text("x");
        assert!(rec.apply(&mut t, &w.0).is_err());
        let mut w = W::default();
        w.op(EVENT).u32(H + 1).text("e").u32(1_000_000);
        assert!(rec.apply(&mut t, &w.0).is_err());
    }

    #[test]
    fn a_failed_export_is_a_command_that_counts_its_spans_as_dropped() {
        let (mut t, mut rec, mut w) = with_open_root();
        w.op(END).u32(H + 1).f64(1003.0);
        rec.apply(&mut t, &w.0).unwrap();
        let batch = t.take_batch(Format::Protobuf).unwrap();
        assert_eq!((batch.spans, t.stats().exported), (1, 1));
        let mut w = W::default();
        w.op(EXPORT_FAILED).u32(1);
        rec.apply(&mut t, &w.0).unwrap();
        let s = t.stats();
        assert_eq!((s.exported, s.dropped.export_failed), (0, 1));
        // Its count cut short is malformed.
        assert!(rec.apply(&mut t, &[EXPORT_FAILED, 1, 0]).is_err());
    }

    #[test]
    fn values_cut_before_the_core_are_a_command_that_counts_them_as_truncated() {
        let (mut t, mut rec, w) = with_open_root();
        rec.apply(&mut t, &w.0).unwrap();
        let before = t.stats().truncated_values;
        let mut w = Writer::default();
        w.outputs(H + 1, "\"cut\"");
        w.truncated(2);
        rec.apply(&mut t, &w.bytes).unwrap();
        assert_eq!(rec.failed, 0);
        assert_eq!(t.stats().truncated_values, before + 2);
        assert!(rec.apply(&mut t, &[TRUNCATED, 1, 0]).is_err());
    }

    #[test]
    fn a_configuration_is_read_from_its_binary_form_and_checked() {
        let field = |w: &mut W, kind: u8, key: &str, value: &AttrValue| {
            w.0.push(kind);
            w.text(key);
            let mut v = Writer::default();
            v.attr(0, "", value);
            // ATTR's value part: after opcode, handle and the empty key.
            w.0.extend_from_slice(&v.bytes[9..]);
        };
        let mut w = W::default();
        w.u32(4);
        field(&mut w, 0, "serviceName", &AttrValue::from("svc"));
        field(&mut w, 0, "maxEvents", &AttrValue::Int(7.into()));
        field(&mut w, 1, "region", &AttrValue::from("eu"));
        field(&mut w, 1, "region", &AttrValue::from("us"));
        let c = crate::config::Config::from_fields(config_fields(&w.0).unwrap()).unwrap();
        assert_eq!(c.resource.service_name, "svc");
        assert_eq!(c.limits.max_events, 7);
        assert_eq!(
            c.resource.attributes,
            vec![("region".to_owned(), AttrValue::from("us"))]
        );
        let mut cut = w.0.clone();
        cut.pop();
        assert!(config_fields(&cut).is_err(), "truncated");
        let mut more = w.0.clone();
        more.push(0);
        assert!(config_fields(&more).is_err(), "trailing bytes");
        let mut w = W::default();
        w.u32(1);
        field(&mut w, 0, "maxEvents", &AttrValue::Double(0.5.into()));
        let e = crate::config::Config::from_fields(config_fields(&w.0).unwrap()).unwrap_err();
        assert!(e.to_string().contains("maxEvents"), "{e}");
    }
}
