//! The byte layout of the `llm_response` target's inputs: a 5-byte header, the request body,
//! then the response body or stream, so a seed is a real request and response behind a header.
//!
//! | byte | meaning |
//! |---|---|
//! | 0 | format: `b'c'` OpenAI chat, `b'r'` Responses, `b'e'` embeddings, `b'a'` Anthropic, `b'g'` Gemini, `b'o'` Ollama, `b'b'` Bedrock Converse, `b'i'` Bedrock InvokeModel, `b'w'` Workers AI (any other byte: its value mod 9) |
//! | 1 | bit 0: the response is a stream (fed by `on_chunk`, ended by `finish_stream`), else a whole body (`finish_body`); bits 1–2: how a stream ends (0 completed, 1 errored, 2 cancelled, 3 abandoned); bits 3–5: the HTTP status, one of [`STATUSES`] |
//! | 2 | seed of the chunk split |
//! | 3–4 | request length, little-endian u16 (cut to what is there) |
//! | … | the request body, then the response |

use edgetrace::llm::{Format, StreamEnd};

/// The statuses bits 3–5 of byte 1 choose from.
pub const STATUSES: [u16; 8] = [200, 200, 201, 400, 401, 429, 500, 529];

/// One decoded input.
#[derive(Debug)]
pub struct LlmInput<'a> {
    /// The API format.
    pub format: Format,
    /// Whether the response is a stream.
    pub streamed: bool,
    /// How the stream ends.
    pub end: StreamEnd,
    /// The HTTP status.
    pub status: u16,
    /// Seed of the chunk split.
    pub split_seed: u8,
    /// The request body.
    pub request: &'a [u8],
    /// The response body or stream.
    pub response: &'a [u8],
}

const FORMATS: [(u8, Format); 9] = [
    (b'c', Format::OpenAiChat),
    (b'r', Format::OpenAiResponses),
    (b'e', Format::OpenAiEmbeddings),
    (b'a', Format::Anthropic),
    (b'g', Format::Gemini),
    (b'o', Format::Ollama),
    (b'b', Format::BedrockConverse),
    (b'i', Format::BedrockInvoke),
    (b'w', Format::WorkersAi),
];

impl<'a> LlmInput<'a> {
    /// Reads an input; `None` when it is shorter than the header.
    pub fn parse(data: &'a [u8]) -> Option<LlmInput<'a>> {
        if data.len() < 5 {
            return None;
        }
        let format = FORMATS
            .iter()
            .find(|(c, _)| *c == data[0])
            .map(|(_, f)| *f)
            .unwrap_or(FORMATS[data[0] as usize % FORMATS.len()].1);
        let flags = data[1];
        let end = match (flags >> 1) & 3 {
            1 => StreamEnd::Errored,
            2 => StreamEnd::Cancelled,
            3 => StreamEnd::Abandoned,
            _ => StreamEnd::Completed,
        };
        let req_len = (u16::from_le_bytes([data[3], data[4]]) as usize).min(data.len() - 5);
        let (request, response) = data[5..].split_at(req_len);
        Some(LlmInput {
            format,
            streamed: flags & 1 == 1,
            end,
            status: STATUSES[(flags >> 3) as usize & 7],
            split_seed: data[2],
            request,
            response,
        })
    }

    /// Writes an input in this layout (for making seeds).
    pub fn to_bytes(&self) -> Vec<u8> {
        let code = FORMATS
            .iter()
            .find(|(_, f)| *f == self.format)
            .map(|(c, _)| *c)
            .unwrap_or(b'c');
        let end = match self.end {
            StreamEnd::Completed => 0,
            StreamEnd::Errored => 1,
            StreamEnd::Cancelled => 2,
            StreamEnd::Abandoned => 3,
        };
        let status = STATUSES.iter().position(|s| *s == self.status).unwrap_or(0) as u8;
        let flags = u8::from(self.streamed) | (end << 1) | (status << 3);
        let len = u16::try_from(self.request.len()).expect("request under 64 KiB");
        let mut out = vec![code, flags, self.split_seed];
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(self.request);
        out.extend_from_slice(self.response);
        out
    }

    /// A host and path the format is recognised by (the path also tells Gemini streams apart).
    pub fn host_and_path(&self) -> (&'static str, &'static str) {
        match self.format {
            Format::OpenAiChat => ("api.openai.com", "/v1/chat/completions"),
            Format::OpenAiResponses => ("api.openai.com", "/v1/responses"),
            Format::OpenAiEmbeddings => ("api.openai.com", "/v1/embeddings"),
            Format::Anthropic => ("api.anthropic.com", "/v1/messages"),
            Format::Gemini if self.streamed => (
                "generativelanguage.googleapis.com",
                "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
            ),
            Format::Gemini => (
                "generativelanguage.googleapis.com",
                "/v1beta/models/gemini-2.0-flash:generateContent",
            ),
            Format::Ollama => ("localhost:11434", "/api/chat"),
            Format::BedrockConverse if self.streamed => (
                "bedrock-runtime.us-east-1.amazonaws.com",
                "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream",
            ),
            Format::BedrockConverse => (
                "bedrock-runtime.us-east-1.amazonaws.com",
                "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse",
            ),
            Format::BedrockInvoke if self.streamed => (
                "bedrock-runtime.us-east-1.amazonaws.com",
                "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke-with-response-stream",
            ),
            Format::BedrockInvoke => (
                "bedrock-runtime.us-east-1.amazonaws.com",
                "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke",
            ),
            Format::WorkersAi => (
                "api.cloudflare.com",
                "/client/v4/accounts/abc/ai/run/@cf/meta/llama-3.1-8b-instruct",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_round_trips() {
        let i = LlmInput {
            format: Format::Anthropic,
            streamed: true,
            end: StreamEnd::Cancelled,
            status: 429,
            split_seed: 7,
            request: b"{}",
            response: b"event: ping\ndata: {}\n\n",
        };
        let b = i.to_bytes();
        let j = LlmInput::parse(&b).unwrap();
        assert_eq!(j.to_bytes(), b);
        assert_eq!(
            (j.format, j.streamed, j.end, j.status),
            (Format::Anthropic, true, StreamEnd::Cancelled, 429)
        );
    }
}
