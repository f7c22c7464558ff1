//! A reference SSE parser written straight from the HTML standard's rules, over a whole buffer,
//! to compare the incremental [`edgetrace::llm::sse::SseParser`] against.

use edgetrace::llm::sse::SseEvent;

/// What the reference parser read from a whole stream.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Events completed by a blank line.
    pub events: Vec<SseEvent>,
    /// The event still pending when the stream ended without its blank line.
    pub trailing: Option<SseEvent>,
    /// Lines that were not valid UTF-8.
    pub invalid_utf8_lines: u64,
}

/// Parses a whole stream. Lines longer than `SseParser::MAX_LINE` are not modelled: callers
/// keep inputs shorter than that.
pub fn parse(input: &[u8]) -> Parsed {
    // The standard's decoder skips a byte order mark opening the stream.
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut r = Reader::default();
    let mut i = 0;
    let mut start = 0;
    while i < input.len() {
        match input[i] {
            b'\n' => {
                r.line(&input[start..i]);
                i += 1;
                start = i;
            }
            b'\r' => {
                r.line(&input[start..i]);
                i += 1;
                if input.get(i) == Some(&b'\n') {
                    i += 1;
                }
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < input.len() {
        r.line(&input[start..]);
    }
    r.out.trailing = r.dispatch();
    r.out
}

#[derive(Default)]
struct Reader {
    out: Parsed,
    event: Option<String>,
    data: Option<String>,
}

impl Reader {
    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        self.data.take().map(|data| SseEvent { event, data })
    }

    fn line(&mut self, line: &[u8]) {
        if line.is_empty() {
            if let Some(e) = self.dispatch() {
                self.out.events.push(e);
            }
            return;
        }
        let text = match std::str::from_utf8(line) {
            Ok(s) => s.to_owned(),
            Err(_) => {
                self.out.invalid_utf8_lines += 1;
                String::from_utf8_lossy(line).into_owned()
            }
        };
        if text.starts_with(':') {
            return; // a comment
        }
        let (field, value) = match text.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (text.as_str(), ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
}
