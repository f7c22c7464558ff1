//! An incremental Server-Sent Events parser, as the HTML standard defines the format.
//!
//! Bytes are fed as they arrive, split anywhere (even inside a line or a UTF-8 sequence); each
//! complete event is returned once its blank line arrives. A byte order mark opening the stream
//! is skipped, as the standard's decoder does. Lines end with `\n`, `\r\n` or `\r`.
//! Invalid UTF-8 is replaced (U+FFFD) and counted, never an error. A line longer than
//! [`SseParser::MAX_LINE`] is cut and counted, so a garbled stream cannot grow memory without
//! bound.

/// One event: its `event:` type (if any) and its `data:` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, `None` for the default `message` type.
    pub event: Option<String>,
    /// The data.
    pub data: String,
}

/// The parser's state between chunks.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    skip_lf: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    /// Whether the stream's first line has ended (a byte order mark opening it is skipped).
    seen_line: bool,
    /// Whether an `id:` field has been read: a client that saw one may resume the stream.
    pub saw_id: bool,
    /// Lines that were not valid UTF-8 (decoded with replacement characters).
    pub invalid_utf8_lines: u64,
    /// Lines cut at `MAX_LINE`.
    pub oversized_lines: u64,
    /// Bytes fed so far.
    pub bytes: u64,
}

impl SseParser {
    /// Longest line kept, in bytes (4 MiB); the rest of a longer line is dropped.
    pub const MAX_LINE: usize = 4 * 1024 * 1024;

    /// Feeds bytes; returns the events completed by them.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        self.bytes += chunk.len() as u64;
        for &b in chunk {
            if self.skip_lf {
                self.skip_lf = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' => self.end_line(&mut out),
                b'\r' => {
                    self.skip_lf = true;
                    self.end_line(&mut out);
                }
                _ => {
                    if self.line.len() < Self::MAX_LINE {
                        self.line.push(b);
                    } else if self.line.len() == Self::MAX_LINE {
                        self.oversized_lines += 1;
                        self.line.push(b'.');
                    }
                }
            }
        }
        out
    }

    /// Ends a stream read to its end: an event still pending without its blank line is returned
    /// (a server that closes its body on its last event's data, without the blank line, still
    /// gives what it sent).
    pub fn finish(&mut self) -> Option<SseEvent> {
        if !self.line.is_empty() {
            let mut out = Vec::new();
            self.end_line(&mut out);
            if let Some(e) = out.pop() {
                return Some(e);
            }
        }
        self.dispatch()
    }

    /// Ends a stream cut short (cancelled by its reader, or failed): an event still pending is
    /// dropped, with any unfinished line. Where a stream stops is where its reader or the network
    /// stopped it, as often as not inside an event, so what is pending is no event: the SSE
    /// standard dispatches an event only at its blank line (an `EventSource` drops one pending at
    /// the end), and the official OpenAI and Anthropic SDKs read none past the last blank line.
    pub fn abandon(&mut self) {
        self.line.clear();
        self.skip_lf = false;
        self.event = None;
        self.data.clear();
        self.has_data = false;
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        let mut raw = std::mem::take(&mut self.line);
        if !self.seen_line {
            self.seen_line = true;
            if raw.starts_with(&[0xEF, 0xBB, 0xBF]) {
                raw.drain(..3);
            }
        }
        if raw.is_empty() {
            if let Some(e) = self.dispatch() {
                out.push(e);
            }
            return;
        }
        let line = utf8_counted(raw, &mut self.invalid_utf8_lines);
        if line.starts_with(':') {
            return; // comment
        }
        let (field, value) = match line.find(':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (line.as_str(), ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" => self.saw_id = true,
            _ => {} // retry and unknown fields do not matter here
        }
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
        })
    }
}

/// `bytes` as text, with invalid UTF-8 replaced (U+FFFD) and counted in `invalid`: how each
/// stream framing (SSE lines, Gemini's JSON array elements, Ollama's lines) reads what it split.
pub(super) fn utf8_counted(bytes: Vec<u8>, invalid: &mut u64) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| {
        *invalid += 1;
        String::from_utf8_lossy(e.as_bytes()).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_anywhere_reassemble() {
        let text =
            "event: a\r\ndata: {\"x\":\r\ndata: 1}\r\n\r\n: comment\ndata: é\n\ndata: [DONE]\r\r";
        let bytes = text.as_bytes();
        for split in 0..bytes.len() {
            let mut p = SseParser::default();
            let mut ev = p.feed(&bytes[..split]);
            ev.extend(p.feed(&bytes[split..]));
            assert_eq!(ev.len(), 3, "split at {split}");
            assert_eq!(ev[0].event.as_deref(), Some("a"));
            assert_eq!(ev[0].data, "{\"x\":\n1}");
            assert_eq!(ev[1].data, "é");
            assert_eq!(ev[2].data, "[DONE]");
        }
    }

    #[test]
    fn invalid_utf8_is_replaced_and_a_trailing_event_is_kept() {
        let mut p = SseParser::default();
        assert!(p.feed(b"data: a\xffb\n\ndata: tail").len() == 1);
        assert_eq!(p.invalid_utf8_lines, 1);
        assert_eq!(p.finish().unwrap().data, "tail");
        assert_eq!(p.finish(), None);
    }

    #[test]
    fn a_stream_cut_short_drops_its_pending_event_and_line() {
        let mut p = SseParser::default();
        let ev = p.feed(b"event: a\ndata: {\"x\":1}\n\nevent: b\ndata: {\"x\":\ndata: \xe2\x82");
        assert_eq!(ev.len(), 1);
        p.abandon();
        assert_eq!(p.finish(), None);
        // Nothing of the dropped event leaks into a later one, and its cut line was not decoded.
        assert_eq!(p.invalid_utf8_lines, 0);
        let ev = p.feed(b"data: 2\n\n");
        assert_eq!(
            ev,
            [SseEvent {
                event: None,
                data: "2".into()
            }]
        );
    }
}
