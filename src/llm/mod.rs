//! Model API calls: recognising them, reading requests, responses and SSE streams, and turning
//! them into MLflow's LLM span attributes (model, provider, chat format, tools, token usage, cost,
//! finish reason, time to first token, errors).
//!
//! [`LlmCall`] follows one call. It never fails: malformed JSON, garbled or truncated SSE, unknown
//! events and non-UTF-8 bytes are recorded as parse problems on the span
//! (`edgetrace.llm.parse_errors`), and what could be read is kept.

pub mod anthropic;
pub mod bedrock;
pub mod chat;
pub mod cost;
pub mod fit;
pub mod gemini;
pub mod mcp;
pub mod ollama;
pub mod openai;
pub mod sse;
pub mod usage;
pub mod workers_ai;

use serde_json::{json, Value};

use crate::attribute::AttrValue;
use cost::PriceTable;
use sse::SseParser;
use usage::Usage;

/// The wire formats edgetrace reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OpenAI Chat Completions (and OpenAI-compatible services).
    OpenAiChat,
    /// OpenAI Responses.
    OpenAiResponses,
    /// OpenAI (or compatible) embeddings.
    OpenAiEmbeddings,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini generateContent / streamGenerateContent.
    Gemini,
    /// Ollama's own API, `/api/chat` and `/api/generate` (its OpenAI-compatible `/v1` is
    /// `OpenAiChat`). Never detected by path alone (`/api/chat` is also many apps' own route):
    /// the JS layer names it for Ollama's port, 11434, its cloud (ollama.com), or a base URL
    /// registered as `ollama`.
    Ollama,
    /// Amazon Bedrock's Converse API, `/model/{modelId}/converse` and `/converse-stream` (its
    /// stream in the AWS event stream framing).
    BedrockConverse,
    /// Amazon Bedrock's InvokeModel, `/model/{modelId}/invoke` and `/invoke-with-response-stream`:
    /// the model family's own body. An Anthropic body (`anthropic_version`) is read as Anthropic
    /// Messages; other families' as they are, with their usage under the names they use.
    BedrockInvoke,
    /// Cloudflare Workers AI's own API: the `env.AI` binding's `run` (which the JS layer wraps),
    /// the REST API's `/ai/run/{model}` and AI Gateway's `/workers-ai/{model}` (its
    /// OpenAI-compatible `/v1/chat/completions` is `OpenAiChat`).
    WorkersAi,
}

impl Format {
    /// Recognises a model API call by its URL path. `None` for anything else.
    ///
    /// ```
    /// use edgetrace::llm::Format;
    /// assert_eq!(Format::detect("/v1/chat/completions"), Some(Format::OpenAiChat));
    /// assert_eq!(Format::detect("/openai/deployments/x/chat/completions"), Some(Format::OpenAiChat));
    /// assert_eq!(Format::detect("/v1beta/models/gemini-2.0-flash:streamGenerateContent"), Some(Format::Gemini));
    /// assert_eq!(Format::detect("/v1/messages"), Some(Format::Anthropic));
    /// assert_eq!(Format::detect("/v1/users"), None);
    /// // A query and trailing slashes do not count; a path in the query does not either.
    /// assert_eq!(Format::detect("/v1/chat/completions/?stream=1"), Some(Format::OpenAiChat));
    /// assert_eq!(Format::detect("/v1/messages//"), Some(Format::Anthropic));
    /// assert_eq!(Format::detect("/v1/users?next=/v1/messages"), None);
    /// assert_eq!(Format::detect(""), None);
    /// // Amazon Bedrock, and Anthropic's and Mistral's models on Google Vertex AI.
    /// assert_eq!(Format::detect("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"), Some(Format::BedrockConverse));
    /// assert_eq!(Format::detect("/model/meta.llama3-8b-instruct-v1%3A0/invoke"), Some(Format::BedrockInvoke));
    /// assert_eq!(Format::detect("/v1/converse"), None);
    /// assert_eq!(Format::detect("/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict"), Some(Format::Anthropic));
    /// assert_eq!(Format::detect("/v1/projects/p/locations/us-central1/publishers/mistralai/models/mistral-small-2503:rawPredict"), Some(Format::OpenAiChat));
    /// assert_eq!(Format::detect("/v1/projects/p/locations/l/endpoints/123:rawPredict"), None);
    /// // Cloudflare Workers AI: its REST API and AI Gateway's route to it.
    /// assert_eq!(Format::detect("/client/v4/accounts/a/ai/run/@cf/meta/llama-3.1-8b-instruct"), Some(Format::WorkersAi));
    /// assert_eq!(Format::detect("/v1/a/gw/workers-ai/@cf/meta/llama-3.1-8b-instruct"), Some(Format::WorkersAi));
    /// assert_eq!(Format::detect("/v1/a/gw/workers-ai/v1/chat/completions"), Some(Format::OpenAiChat));
    /// assert_eq!(Format::detect("/client/v4/accounts/a/ai/run/%40cf%2Fmeta%2Fllama-3.1-8b-instruct"), Some(Format::WorkersAi));
    /// assert_eq!(Format::detect("/v1/a/gw/workers-ai/run/@cf/meta/llama-3.1-8b-instruct"), Some(Format::WorkersAi));
    /// ```
    pub fn detect(path: &str) -> Option<Format> {
        // On bytes: str's pattern searches (`split`, `trim_end_matches`) cost the core ~1 KB.
        let mut p = path.as_bytes();
        if let Some(q) = p.iter().position(|&b| b == b'?') {
            p = p.get(..q).unwrap_or_default();
        }
        while let [rest @ .., b'/'] = p {
            p = rest;
        }
        let ends_with = |s: &str| p.ends_with(s.as_bytes());
        let has = |s: &str| p.windows(s.len()).any(|w| w == s.as_bytes());
        if ends_with("/chat/completions") {
            Some(Format::OpenAiChat)
        } else if ends_with("/responses") {
            Some(Format::OpenAiResponses)
        } else if ends_with("/embeddings") {
            Some(Format::OpenAiEmbeddings)
        } else if ends_with("/v1/messages") {
            Some(Format::Anthropic)
        } else if ends_with(":generateContent") || ends_with(":streamGenerateContent") {
            Some(Format::Gemini)
        } else if ends_with(":rawPredict") || ends_with(":streamRawPredict") {
            // Vertex AI's partner models: Anthropic's take its Messages, Mistral's OpenAI's chat.
            if has("/publishers/anthropic/models/") {
                Some(Format::Anthropic)
            } else if has("/publishers/mistralai/models/") {
                Some(Format::OpenAiChat)
            } else {
                None
            }
        } else if [
            "/ai/run/@",
            "/ai/run/%40",
            "/workers-ai/@",
            "/workers-ai/%40",
            "/workers-ai/run/@",
            "/workers-ai/run/%40",
        ]
        .iter()
        .any(|r| has(r))
        {
            // Workers AI's models are `@cf/…` or `@hf/…`, their slashes as they are in the path
            // or escaped.
            Some(Format::WorkersAi)
        } else {
            let op = p.rsplit(|&b| b == b'/').next().unwrap_or_default();
            // `/model/{modelId}/{operation}`: the modelId (escaped) is one segment.
            let bedrock = p.len() > op.len() + 1
                && p[..p.len() - op.len() - 1]
                    .rsplit(|&b| b == b'/')
                    .nth(1)
                    .is_some_and(|s| s == b"model");
            match op {
                b"converse" | b"converse-stream" if bedrock => Some(Format::BedrockConverse),
                b"invoke" | b"invoke-with-response-stream" if bedrock => {
                    Some(Format::BedrockInvoke)
                }
                _ => None,
            }
        }
    }

    /// From its name (`openai`, `openai-responses`, `openai-embeddings`, `anthropic`, `gemini`,
    /// `ollama`, `ollama-generate`, `bedrock-converse`, `bedrock-invoke`, `workers-ai`).
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "openai" | "openai-chat" => Some(Format::OpenAiChat),
            "openai-responses" => Some(Format::OpenAiResponses),
            "openai-embeddings" => Some(Format::OpenAiEmbeddings),
            "anthropic" => Some(Format::Anthropic),
            "gemini" => Some(Format::Gemini),
            "ollama" | "ollama-generate" => Some(Format::Ollama),
            "bedrock-converse" => Some(Format::BedrockConverse),
            "bedrock-invoke" => Some(Format::BedrockInvoke),
            "workers-ai" => Some(Format::WorkersAi),
            _ => None,
        }
    }

    /// The MLflow span type for calls in this format.
    pub fn span_type(self) -> &'static str {
        match self {
            Format::OpenAiEmbeddings => "EMBEDDING",
            _ => "CHAT_MODEL",
        }
    }

    /// `mlflow.message.format`, which tells MLflow's UI how to render the chat.
    /// None for embeddings, which have no chat to render (MLflow's own autolog sets none there),
    /// for Ollama's own API, whose messages MLflow's UI has no format for, and for InvokeModel's
    /// bodies of other model families than Anthropic's (whose calls take Anthropic's format), and
    /// for Workers AI's own answers (`{response, tool_calls, usage}`), which no format fits.
    pub fn message_format(self) -> Option<&'static str> {
        match self {
            Format::Anthropic => Some("anthropic"),
            Format::Gemini => Some("gemini"),
            Format::BedrockConverse => Some("bedrock"),
            Format::OpenAiEmbeddings
            | Format::Ollama
            | Format::BedrockInvoke
            | Format::WorkersAi => None,
            _ => Some("openai"),
        }
    }

    /// Whether the API reports its prompt cache's reads and writes apart from its input tokens
    /// (Anthropic, Bedrock's Converse), where OpenAI and Gemini count cached tokens in theirs.
    fn cache_apart(self) -> bool {
        matches!(self, Format::Anthropic | Format::BedrockConverse)
    }
}

/// The provider name MLflow shows (`mlflow.llm.provider`), from the API's `host` (a URL's host,
/// port included), its `path`, the call's format and the model the request names.
///
/// - The services edgetrace knows get their usual names (`openai`, `azure` as MLflow and its model
///   catalog name it, `anthropic`, `gemini`, `groq`, `openrouter`, `ollama` for ollama.com, …),
///   a subdomain included; a local Ollama is known by its port, 11434.
/// - Cloudflare AI Gateway (`gateway.ai.cloudflare.com/v1/<account>/<gateway>/<provider>/…`) is a
///   proxy: the call is named after the upstream provider the path names (`openai`, `anthropic`,
///   `google-ai-studio` → `gemini`, `workers-ai` → `cloudflare`, …), which serves and bills the
///   model, and whose prices MLflow looks up by this name. Its unified `compat` endpoint names the
///   upstream in the model instead (`anthropic/claude-sonnet-4-5`). Workers AI called directly
///   (`api.cloudflare.com`) is `cloudflare`.
/// - Any other host is named after its domain: a public one after the label before its public
///   suffix (`api.fireworks.ai` → `fireworks`, `api.deepinfra.com` → `deepinfra`,
///   `llm.example.co.uk` → `example`), a private one (one label, or under `.internal`, `.local`,
///   `.lan`, `.svc`, …) after the machine or service it names (`my-vllm.internal:8000` →
///   `my-vllm`, `vllm:8000` → `vllm`, `vllm.ns.svc.cluster.local` → `vllm`).
/// - `localhost`, IP addresses and Docker's `host.docker.internal` name no service (the same local
///   server would get one name per address it is called by): those calls keep the name of their
///   format, `openai`, `anthropic` or `gemini`, as MLflow's own autolog names calls made with
///   those SDKs. `registerModelApi({ baseUrl, provider })` names such a server.
///
/// ```
/// use edgetrace::llm::{provider_name, Format};
/// let chat = "/v1/chat/completions";
/// assert_eq!(provider_name("api.fireworks.ai", chat, Format::OpenAiChat, None), "fireworks");
/// assert_eq!(provider_name("api.groq.com", chat, Format::OpenAiChat, None), "groq");
/// assert_eq!(provider_name("my-vllm.internal:8000", chat, Format::OpenAiChat, None), "my-vllm");
/// assert_eq!(provider_name("127.0.0.1:8000", chat, Format::OpenAiChat, None), "openai");
/// let gw = "/v1/acct/gw/openai/chat/completions";
/// assert_eq!(provider_name("gateway.ai.cloudflare.com", gw, Format::OpenAiChat, None), "openai");
/// ```
pub fn provider_name(host: &str, path: &str, format: Format, model: Option<&str>) -> String {
    let h = host.to_ascii_lowercase();
    let (name, port) = split_port(&h);
    let name = name.trim_end_matches('.');
    // The format's own name, as its messages are named (embeddings are OpenAI's).
    let by_format = || match format {
        Format::Ollama => "ollama".to_owned(),
        _ => format.message_format().unwrap_or("openai").to_owned(),
    };
    // Bedrock serves and bills every model it runs, whoever made it: called directly, by a VPC
    // endpoint's name or through a proxy.
    if matches!(format, Format::BedrockConverse | Format::BedrockInvoke) {
        return "bedrock".into();
    }
    // Workers AI, through its binding, its REST API or AI Gateway, as MLflow's model catalog
    // names it.
    if format == Format::WorkersAi {
        return "cloudflare".into();
    }
    if name == "gateway.ai.cloudflare.com" {
        // /v1/<account>/<gateway>/<provider>/...
        let mut segments = path.split('/').filter(|s| !s.is_empty()).skip(3);
        match segments.next() {
            Some("compat") => {
                let upstream = model.and_then(|m| m.split_once('/')).map(|(p, _)| p);
                return upstream.map_or("cloudflare".into(), gateway_provider);
            }
            Some(p) => return gateway_provider(p),
            None => return "cloudflare".into(),
        }
    }
    // Vertex AI (`{region}-aiplatform.googleapis.com`) serves Anthropic's and Mistral's models as
    // `vertex_ai`, as MLflow's model catalog names it; Gemini there stays `gemini`, as MLflow's
    // Gemini autolog names its calls wherever they go.
    if format != Format::Gemini
        && name
            .strip_suffix("aiplatform.googleapis.com")
            .is_some_and(|rest| rest.is_empty() || rest.ends_with(['.', '-']))
    {
        return "vertex_ai".into();
    }
    let known = [
        ("openai.azure.com", "azure"),
        ("api.openai.com", "openai"),
        ("anthropic.com", "anthropic"),
        ("googleapis.com", "gemini"),
        ("openrouter.ai", "openrouter"),
        ("groq.com", "groq"),
        ("together.xyz", "together"),
        ("together.ai", "together"),
        ("cloudflare.com", "cloudflare"),
        ("mistral.ai", "mistral"),
        ("deepseek.com", "deepseek"),
        ("x.ai", "xai"),
        ("ollama.com", "ollama"),
    ];
    for (domain, provider) in known {
        // The domain or a subdomain of it: `api.max.ai` is not `x.ai`.
        if name
            .strip_suffix(domain)
            .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
        {
            return provider.into();
        }
    }
    if port == "11434" {
        return "ollama".into();
    }
    let local = name.is_empty()
        || name == "localhost"
        || name.ends_with(".localhost")
        || name.starts_with('[')
        || name.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || matches!(
            name,
            "host.docker.internal" | "gateway.docker.internal" | "host.containers.internal"
        );
    if local {
        return by_format();
    }
    let labels: Vec<&str> = name.split('.').filter(|l| !l.is_empty()).collect();
    let label = match labels.as_slice() {
        [] => return by_format(),
        [one] => one,
        [first, .., tld]
            if matches!(
                *tld,
                "internal"
                    | "local"
                    | "localdomain"
                    | "lan"
                    | "home"
                    | "arpa"
                    | "corp"
                    | "svc"
                    | "intranet"
                    | "private"
            ) =>
        {
            first
        }
        // `example.co.uk`, `example.com.au`: a second-level public suffix.
        [.., main, sld, cc]
            if cc.len() == 2
                && matches!(
                    *sld,
                    "co" | "com" | "net" | "org" | "gov" | "edu" | "ac" | "ne" | "or"
                ) =>
        {
            main
        }
        [.., main, _] => main,
    };
    (*label).to_owned()
}

/// The provider name of a Cloudflare AI Gateway upstream, as edgetrace names the same service
/// called directly.
fn gateway_provider(upstream: &str) -> String {
    match upstream {
        "azure-openai" => "azure",
        "google-ai-studio" | "google-vertex-ai" => "gemini",
        "workers-ai" => "cloudflare",
        "grok" => "xai",
        "perplexity-ai" => "perplexity",
        "aws-bedrock" => "bedrock",
        other => other,
    }
    .to_owned()
}

/// What to write onto the span: attributes, outputs, and an error for ERROR status.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Attributes to set.
    pub attributes: Vec<(String, AttrValue)>,
    /// Inputs: valid JSON text (the request when it parsed, else the request as a JSON string).
    pub inputs: Option<String>,
    /// Outputs: valid JSON text, as for `inputs`.
    pub outputs: Option<String>,
    /// When set, the span's status becomes ERROR with this message.
    pub error: Option<String>,
    /// With `error`, an `exception` event of this type carrying it (the API's error, named as the
    /// official SDKs name it: MLflow's UI marks and filters spans by their exception events).
    pub exception: Option<&'static str>,
    /// How many of `inputs` and `outputs` were cut to the span's value limit
    /// ([`fit::fit_json`]): the core, which sees them within it, counts each as truncated.
    pub truncated: u32,
}

impl Outcome {
    /// Writes the outcome as commands for span `h` (see [`crate::commands`]): the JS layer
    /// hands them to the core, which applies them as the tracer did when it ran the parsers.
    pub fn write(&self, h: u32, w: &mut crate::commands::Writer) {
        for (k, v) in &self.attributes {
            w.attr(h, k, v);
        }
        if let Some(i) = &self.inputs {
            w.inputs(h, i);
        }
        if let Some(o) = &self.outputs {
            w.outputs(h, o);
        }
        if let Some(e) = &self.error {
            // The event first: it sets the status too (`kind: message`), which the API's own
            // message then replaces.
            if let Some(kind) = self.exception {
                w.exception(h, kind, e);
            }
            w.status(h, crate::span::StatusCode::Error, e);
        }
        if self.truncated > 0 {
            w.truncated(self.truncated);
        }
    }

    /// Sets the outputs: `v`, written as `text`, fitted to `max` bytes.
    fn fit_outputs(&mut self, v: &Value, text: String, max: usize) {
        let (text, cut) = fit::fit_json(v, text, max);
        self.outputs = Some(text);
        self.truncated += u32::from(cut);
    }
}

#[derive(Debug)]
enum Stream {
    Chat(openai::ChatStream),
    Responses(openai::ResponsesStream),
    Anthropic(anthropic::MessagesStream),
    Gemini(gemini::GeminiStream),
    Ollama(ollama::OllamaStream),
    Converse(bedrock::ConverseStream),
    Invoke(bedrock::InvokeStream),
    WorkersAi(workers_ai::WorkersAiStream),
    None,
}

/// How a stream ended, as the JS side saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// The body was read to its end.
    Completed,
    /// Reading failed (network error, abort).
    Errored,
    /// The reader cancelled it.
    Cancelled,
    /// The app let it go: its request aborted (an SDK's `break`) or the body collected unread.
    /// Cancelled, even where what the parsers were handed ahead of the app held the final event
    /// (a whole answer that came in one network read).
    Abandoned,
}

/// Streams bigger than this stop being parsed (their bytes still reach the caller). A model's
/// longest answer (128k tokens, each its own chunk of about 250 bytes of SSE) stays under it, so
/// its usage, which comes last, is read.
pub const MAX_PARSED_STREAM_BYTES: u64 = 64 * 1024 * 1024;
const MAX_PARSE_ERRORS_KEPT: usize = 8;

/// What a call's parser could not read: the first [`MAX_PARSE_ERRORS_KEPT`] problems, and how many
/// there were ([`LlmCall`]'s and [`mcp::McpCall`]'s).
#[derive(Debug, Default)]
pub(crate) struct ParseErrors {
    kept: Vec<String>,
    count: u64,
}

impl ParseErrors {
    pub(crate) fn add(&mut self, e: String) {
        self.count += 1;
        if self.kept.len() < MAX_PARSE_ERRORS_KEPT {
            self.kept.push(e);
        }
    }

    /// Writes them onto `out` as `{prefix}.parse_error_count` and `{prefix}.parse_errors` (a JSON
    /// list), where there were any.
    pub(crate) fn write(&self, out: &mut Outcome, prefix: &str) {
        if self.count > 0 {
            out.attributes.push((
                format!("{prefix}.parse_error_count"),
                AttrValue::Int((self.count as i64).into()),
            ));
            out.attributes.push((
                format!("{prefix}.parse_errors"),
                AttrValue::Json(json!(self.kept).to_string().into()),
            ));
        }
    }
}

/// `host` (a URL's, port included) as its name and its port (empty for none); an IPv6 address is
/// in brackets.
pub(crate) fn split_port(host: &str) -> (&str, &str) {
    match host.rfind(':') {
        Some(i) if !host[i + 1..].contains(']') => (&host[..i], &host[i + 1..]),
        _ => (host, ""),
    }
}

/// One model API call in flight.
#[derive(Debug)]
pub struct LlmCall {
    format: Format,
    model: Option<String>,
    /// The model the request named, where the response named another: prices set for it (a
    /// router's or gateway's alias) still price the call when the served model has none.
    asked_model: Option<String>,
    streaming: bool,
    sse: SseParser,
    /// Bedrock's streams come in the AWS event stream framing, not SSE.
    frames: Option<bedrock::EventStream>,
    /// The error an event stream's exception message carried, and the class the SDK throws it as.
    stream_exception: Option<(String, &'static str)>,
    /// The call was made by the AWS SDK, which names a failed status's exception by its
    /// `x-amzn-errortype` header: the name it gave, if it is one of Bedrock's.
    aws_sdk: Option<Option<&'static str>>,
    /// An InvokeModel body with a `prompt` and no `messages` (a text completion).
    completion: bool,
    /// Usage from the response's headers (Bedrock's InvokeModel counts the tokens there, for
    /// model families whose bodies do not: Mistral's, Cohere's): used where the body has none.
    header_usage: Usage,
    /// The request holds a conversation (`messages`, or a Responses `input` list).
    chat: bool,
    /// The request's messages, where the call's format is none MLflow's UI reads (Workers AI's,
    /// Ollama's): with the answer's, they make `mlflow.chat.messages` ([`chat::conversation`]).
    messages: Option<Vec<Value>>,
    stream: Stream,
    start_ns: u64,
    /// When the first event carrying generated content was read.
    first_token_ns: Option<u64>,
    /// When the last network chunk arrived: the time of an event still unterminated then,
    /// which is read only when the stream ends.
    last_chunk_ns: u64,
    chunks: u64,
    parse_errors: ParseErrors,
    /// The first event that could not be read (not JSON): the official SDKs throw on one.
    bad_event: Option<String>,
    gave_up: bool,
    /// The span's limit on a value (`maxValueBytes`): inputs and outputs longer than this are cut
    /// with their structure kept ([`fit::fit_json`]).
    max_value: usize,
}

fn model_from_gemini_path(path: &str) -> Option<String> {
    let after = path.split("/models/").nth(1)?;
    Some(percent_decoded(after.split(':').next()?))
}

/// The model a Bedrock path names, `/model/{modelId}/{operation}`, its escapes decoded
/// (`anthropic.claude-3-haiku-20240307-v1:0`, an inference profile's `us.anthropic.…`, or an ARN).
fn model_from_bedrock_path(path: &str) -> Option<String> {
    let after = path.split_once("/model/")?.1;
    let id = after.split('/').next().filter(|m| !m.is_empty())?;
    Some(percent_decoded(id))
}

/// The deployment an Azure OpenAI path names (`/openai/deployments/{deployment}/…`, or behind a
/// Cloudflare AI Gateway `…/azure-openai/{resource}/{deployment}/…`), its escapes decoded. It
/// stands for the model, whatever the body's `model` says (Azure does not read it).
fn azure_deployment(path: &str) -> Option<String> {
    let name = match path.split_once("/openai/deployments/") {
        Some((_, rest)) => rest.split('/').next(),
        None => path.split_once("/azure-openai/")?.1.split('/').nth(1),
    }
    .filter(|d| !d.is_empty())?;
    Some(percent_decoded(name))
}

/// `s` with its `%XX` escapes decoded (a malformed one is kept as it is).
fn percent_decoded(name: &str) -> String {
    let b = name.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let mut byte = [0];
        let escape = b[i] == b'%'
            && name
                .get(i + 1..i + 3)
                .and_then(|h| crate::id::decode_hex(h, &mut byte))
                .is_some();
        if escape {
            out.push(byte[0]);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl LlmCall {
    /// Starts following a call: reads the request body (JSON text) and returns the call with the
    /// attributes to set at once (model, provider, message format, tools, inputs).
    pub fn start(
        format: Format,
        host: &str,
        path: &str,
        body: &str,
        start_ns: u64,
    ) -> (LlmCall, Outcome) {
        Self::start_within(format, host, path, body, start_ns, usize::MAX)
    }

    /// [`LlmCall::start`] for a span whose values are at most `max_value` bytes: inputs and
    /// outputs longer than that are cut with their structure kept ([`fit::fit_json`]), so MLflow
    /// still reads their messages.
    pub fn start_within(
        format: Format,
        host: &str,
        path: &str,
        body: &str,
        start_ns: u64,
        max_value: usize,
    ) -> (LlmCall, Outcome) {
        let mut call = LlmCall {
            format,
            model: None,
            asked_model: None,
            // The stream some APIs ask for by their path.
            streaming: [
                ":streamGenerateContent",
                ":streamRawPredict",
                "/converse-stream",
                "/invoke-with-response-stream",
            ]
            .iter()
            .any(|op| path.contains(op)),
            sse: SseParser::default(),
            frames: None,
            stream_exception: None,
            aws_sdk: None,
            completion: false,
            header_usage: Usage::default(),
            chat: false,
            messages: None,
            stream: Stream::None,
            start_ns,
            first_token_ns: None,
            last_chunk_ns: start_ns,
            chunks: 0,
            parse_errors: ParseErrors::default(),
            bad_event: None,
            gave_up: false,
            max_value,
        };
        let mut out = Outcome::default();
        let req: Option<Value> = if body.trim().is_empty() {
            None
        } else {
            match parse_json(body) {
                Ok(v) => Some(v),
                Err(e) => {
                    call.parse_error(format!("request body is not JSON: {e}"));
                    None
                }
            }
        };
        if !body.trim().is_empty() {
            out.inputs = Some(match &req {
                Some(v) => {
                    // Gemini's parts as MLflow's UI reads them (gemini::for_mlflow); an Ollama
                    // generation's `context` sent back as its count (ollama::for_mlflow).
                    let shown = match format {
                        Format::Gemini => gemini::for_mlflow(v),
                        Format::Ollama => ollama::for_mlflow(v),
                        _ => None,
                    };
                    let (text, cut) = match shown {
                        Some(s) => fit::fit_json(&s, s.to_string(), max_value),
                        None => fit::fit_json(v, body.to_owned(), max_value),
                    };
                    out.truncated += u32::from(cut);
                    text
                }
                None => Value::String(body.to_owned()).to_string(),
            });
        }
        if let Some(r) = &req {
            call.model = r
                .get("model")
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
                .map(str::to_owned);
            // Anthropic's models on Bedrock take its Messages (with `anthropic_version`), and
            // answer in them.
            if format == Format::BedrockInvoke && r.get("anthropic_version").is_some() {
                call.format = Format::Anthropic;
            }
            call.completion = r.get("prompt").is_some() && r.get("messages").is_none();
            call.chat = r.get("messages").is_some() || r.get("input").is_some_and(Value::is_array);
            if matches!(format, Format::WorkersAi | Format::Ollama) {
                call.messages = r.get("messages").and_then(Value::as_array).cloned();
            }
            // Ollama streams unless asked not to.
            let default = format == Format::Ollama;
            call.streaming |= r.get("stream").and_then(Value::as_bool).unwrap_or(default);
            if let Some(tools) = tool_definitions(call.format, r) {
                out.attributes.push((
                    "mlflow.chat.tools".into(),
                    AttrValue::Json(tools.to_string().into()),
                ));
            }
            // Converse's sampling parameters are in its `inferenceConfig`.
            let params: serde_json::Map<String, Value> = r
                .as_object()
                .into_iter()
                .chain(r.get("inferenceConfig").and_then(Value::as_object))
                .flatten()
                .filter(|(k, v)| {
                    !matches!(
                        k.as_str(),
                        "messages"
                            | "input"
                            | "tools"
                            | "system"
                            | "contents"
                            | "model"
                            | "prompt"
                            | "text"
                            | "image"
                            | "audio"
                            | "anthropic_version"
                    ) && (v.is_number() || v.is_boolean() || v.is_string())
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !params.is_empty() {
                out.attributes.push((
                    "edgetrace.llm.request_params".into(),
                    AttrValue::Json(Value::Object(params).to_string().into()),
                ));
            }
        }
        if matches!(format, Format::BedrockConverse | Format::BedrockInvoke) {
            // The path names the model; Bedrock's bodies do not. Its streams are event streams.
            call.model = model_from_bedrock_path(path);
            call.frames = Some(bedrock::EventStream::default());
        } else if format == Format::WorkersAi {
            call.model = workers_ai::model_from_path(path);
        } else if format == Format::Gemini || path.contains("/publishers/") {
            // Gemini's and Vertex AI's `models/{model}:…`, where the body names none.
            if call.model.is_none() {
                call.model = model_from_gemini_path(path);
            }
        } else if let Some(d) = azure_deployment(path) {
            call.model = Some(d);
        }
        out.outputs = None;
        if let Some(f) = call.format.message_format() {
            out.attributes
                .push(("mlflow.message.format".into(), AttrValue::Str(f.into())));
        }
        let provider = provider_name(host, path, format, call.model.as_deref());
        out.attributes.push((
            "mlflow.llm.provider".into(),
            AttrValue::Str(provider.into()),
        ));
        if let Some(m) = &call.model {
            out.attributes
                .push(("mlflow.llm.model".into(), AttrValue::Str(m.clone().into())));
        }
        out.attributes.push((
            "edgetrace.llm.stream".into(),
            AttrValue::Bool(call.streaming),
        ));
        (call, out)
    }

    /// The MLflow span type of the call: `EMBEDDING` for embeddings, and for a Bedrock model
    /// whose id says it embeds (Titan's and Cohere's embedding models); `LLM` for an InvokeModel
    /// text completion (a `prompt`, no `messages`); else `CHAT_MODEL`.
    pub fn span_type(&self) -> &'static str {
        match self.format {
            Format::BedrockInvoke if self.model.as_deref().is_some_and(|m| m.contains("embed")) => {
                "EMBEDDING"
            }
            // A text completion (Llama's, Mistral's `prompt`), as MLflow's autolog types it.
            Format::BedrockInvoke if self.completion => "LLM",
            // Workers AI runs every kind of model: a conversation is a chat, an embedding model's
            // call an embedding, anything else (a prompt, a translation, an image) a model's.
            Format::WorkersAi if self.model.as_deref().is_some_and(workers_ai::embeds) => {
                "EMBEDDING"
            }
            Format::WorkersAi if !self.chat => "LLM",
            f => f.span_type(),
        }
    }

    /// Says the call was made by the AWS SDK, with the response's `x-amzn-errortype` header
    /// (empty when it had none): a failed status's exception is named as that SDK throws it, by
    /// the header (`ExpiredTokenException`, `UnrecognizedClientException`, …), else by status.
    pub fn aws_sdk(&mut self, error_type: &str) {
        self.aws_sdk = Some(bedrock::error_type(error_type));
    }

    /// Token counts the response's headers carry (Bedrock's `x-amzn-bedrock-input-token-count`
    /// and `-output-token-count`): the call's usage where its body reports none.
    pub fn header_usage(&mut self, input: Option<u64>, output: Option<u64>) {
        self.header_usage = Usage {
            input,
            output,
            ..Usage::default()
        };
    }

    /// The model named in the request.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// Whether the request asked for a stream.
    pub fn streaming(&self) -> bool {
        self.streaming
    }

    fn parse_error(&mut self, e: String) {
        self.parse_errors.add(e);
    }

    /// Feeds bytes of a streamed (SSE) response body as they reach the caller.
    pub fn on_chunk(&mut self, bytes: &[u8], now_ns: u64) {
        self.last_chunk_ns = now_ns;
        if self.gave_up {
            return;
        }
        if self.sse.bytes + bytes.len() as u64 > MAX_PARSED_STREAM_BYTES {
            self.gave_up = true;
            self.parse_error(format!(
                "stream larger than {MAX_PARSED_STREAM_BYTES} bytes; the rest was not parsed"
            ));
            return;
        }
        if matches!(self.stream, Stream::None) {
            self.stream = match self.format {
                Format::OpenAiChat | Format::OpenAiEmbeddings => Stream::Chat(Default::default()),
                Format::OpenAiResponses => Stream::Responses(Default::default()),
                Format::Anthropic => Stream::Anthropic(Default::default()),
                Format::Gemini => Stream::Gemini(Default::default()),
                Format::Ollama => Stream::Ollama(Default::default()),
                Format::BedrockConverse => Stream::Converse(Default::default()),
                Format::BedrockInvoke => Stream::Invoke(Default::default()),
                Format::WorkersAi => Stream::WorkersAi(Default::default()),
            };
        }
        if let Some(frames) = &mut self.frames {
            // Bedrock's event stream. After the API's error nothing is the answer (below).
            for ev in frames.feed(&mut self.sse, bytes) {
                if self.failed() {
                    break;
                }
                match ev {
                    Ok(ev) => self.on_event(ev),
                    // The AWS SDK throws on a message it cannot read (its checksum failed): the
                    // app got what came before it, and the call failed there.
                    Err(e) => {
                        self.parse_error(e.clone());
                        self.stream_exception.get_or_insert((e, "Error"));
                    }
                }
            }
            return;
        }
        let events = match &mut self.stream {
            // Gemini streams without `alt=sse` as one JSON array.
            Stream::Gemini(s) => s.feed(&mut self.sse, bytes),
            // Ollama streams newline-delimited JSON.
            Stream::Ollama(s) => s.feed(&mut self.sse, bytes),
            _ => self.sse.feed(bytes),
        };
        // After the API's error nothing is the answer: the SDKs throw there (review s49d: events
        // that came after it in the same network read were read as the answer and its usage).
        // Its bytes still go through the framing, which counts what it reads (lines that are not
        // UTF-8) the same however the network split them (the llm_response fuzz target found
        // the count differing when later reads were skipped).
        for ev in events {
            if self.failed() {
                break;
            }
            self.on_event(ev);
        }
    }

    /// Whether the stream has carried the API's error: an error event or chunk, a Bedrock
    /// exception message, or a message that failed its checksum. Nothing after it is the answer.
    pub fn failed(&self) -> bool {
        self.stream_exception.is_some() || self.stream_error().is_some()
    }

    /// The API's error the stream's own events carried (Bedrock's come as exception messages,
    /// kept in `stream_exception`).
    fn stream_error(&self) -> Option<&str> {
        match &self.stream {
            Stream::Chat(s) => s.error.as_deref(),
            Stream::Responses(s) => s.error.as_deref(),
            Stream::Anthropic(s) => s.error.as_deref(),
            Stream::Gemini(s) => s.error.as_deref(),
            Stream::Ollama(s) => s.error.as_deref(),
            Stream::WorkersAi(s) => s.error.as_deref(),
            Stream::Converse(_) | Stream::Invoke(_) | Stream::None => None,
        }
    }

    /// Whether the stream has carried generated content yet.
    fn stream_has_content(&self) -> bool {
        match &self.stream {
            Stream::Chat(s) => s.has_content,
            Stream::Responses(s) => s.has_content,
            Stream::Anthropic(s) => s.has_content,
            Stream::Gemini(s) => s.has_content,
            Stream::Ollama(s) => s.has_content,
            Stream::Converse(s) => s.has_content,
            Stream::Invoke(s) => s.has_content,
            Stream::WorkersAi(s) => s.has_content,
            Stream::None => false,
        }
    }

    fn on_event(&mut self, mut ev: sse::SseEvent) {
        // The stream's events (`edgetrace.llm.chunks`), as MLflow's autolog logs one span event
        // per chunk: not the network reads that carried them, which one read may hold all of.
        self.chunks += 1;
        if self.frames.is_some() {
            let kind = ev.event.as_deref().unwrap_or("");
            // An exception (or error) message in a Bedrock stream ends it: the AWS SDK throws it.
            if let Some(name) = kind
                .strip_prefix("exception:")
                .or(kind.strip_prefix("error:"))
            {
                let v: Option<Value> = serde_json::from_str(&ev.data).ok();
                let message = v
                    .as_ref()
                    .and_then(error_message)
                    .unwrap_or_else(|| ev.data.clone());
                let (shown, class) = match bedrock::exception_class(name) {
                    Some(c) => (c, c),
                    None => (name, "BedrockRuntimeServiceException"),
                };
                self.stream_exception
                    .get_or_insert((format!("{shown}: {message}"), class));
                return;
            }
            // InvokeModel's chunks hold the model's own event, in base64.
            if kind == "chunk" && !matches!(self.stream, Stream::Converse(_)) {
                match bedrock::unwrap_chunk(&ev.data) {
                    Ok(data) => ev = sse::SseEvent { event: None, data },
                    Err(e) => {
                        self.bad_event.get_or_insert_with(|| e.clone());
                        self.parse_error(e);
                        return;
                    }
                }
            }
        }
        let r = match &mut self.stream {
            Stream::Chat(s) => s.on_data(&ev.data),
            Stream::Responses(s) => s.on_event(ev.event.as_deref(), &ev.data),
            Stream::Anthropic(s) => s.on_event(ev.event.as_deref(), &ev.data),
            Stream::Gemini(s) => s.on_data(&ev.data),
            Stream::Ollama(s) => s.on_data(&ev.data),
            Stream::Converse(s) => s.on_event(ev.event.as_deref(), &ev.data),
            Stream::Invoke(s) => s.on_data(&ev.data),
            Stream::WorkersAi(s) => s.on_data(&ev.data),
            Stream::None => Ok(()),
        };
        if let Err(e) = r {
            if self.bad_event.is_none() {
                self.bad_event = Some(e.clone());
            }
            self.parse_error(e);
        }
        // Time to first token is the time of the first generated token, not of the first bytes:
        // streams open with events that carry none (OpenAI's role-only chunk, Anthropic's
        // `message_start` and `ping`, Responses' `response.created`). An event is read when the
        // chunk that completes it arrives.
        if self.first_token_ns.is_none() && self.stream_has_content() {
            self.first_token_ns = Some(self.last_chunk_ns);
        }
    }

    /// Ends a streamed call. Returns what to write onto the span.
    pub fn finish_stream(
        &mut self,
        end: StreamEnd,
        status: u16,
        now_ns: u64,
        prices: &PriceTable,
    ) -> Outcome {
        // Cancelled by its reader, or abandoned by the app (which is never read as complete).
        let cancelled = matches!(end, StreamEnd::Cancelled | StreamEnd::Abandoned);
        // A body read to its end may close on its last event without the blank line: that event
        // is read. A stream cancelled or failed stopped where its reader or the network stopped
        // it, often inside an event: what is pending is dropped, not read as a broken event.
        let tail = match (end, &mut self.stream) {
            // An event stream's message is read only whole (its length comes first).
            (StreamEnd::Completed, _) if self.frames.is_some() => None,
            (StreamEnd::Completed, Stream::Ollama(s)) => s.finish(&mut self.sse),
            (StreamEnd::Completed, _) => self.sse.finish(),
            (StreamEnd::Errored | StreamEnd::Cancelled | StreamEnd::Abandoned, stream) => {
                if let Stream::Ollama(s) = stream {
                    s.abandon();
                }
                if let Some(f) = &mut self.frames {
                    f.abandon();
                }
                self.sse.abandon();
                None
            }
        };
        if let Some(ev) = tail.filter(|_| !self.gave_up && !self.failed()) {
            self.on_event(ev);
        }
        if self.sse.invalid_utf8_lines > 0 {
            let n = self.sse.invalid_utf8_lines;
            self.parse_error(format!("{n} SSE line(s) were not valid UTF-8"));
        }
        let stream_error = self.stream_error().map(str::to_owned);
        let (output, usage, finish, complete) = match &mut self.stream {
            Stream::Chat(s) => (s.output(), s.usage, s.finish_reason(), s.done),
            Stream::Responses(s) => (s.output(), s.usage, s.finish_reason(), s.done),
            Stream::Anthropic(s) => (s.output(), s.usage, s.finish_reason(), s.done),
            Stream::Gemini(s) => (s.output(), s.usage, s.finish_reason(), s.done),
            Stream::Ollama(s) => (s.output(), s.usage, s.finish_reason(), s.done),
            Stream::Converse(s) => (s.output(), s.usage, s.finish_reason(), s.done),
            Stream::Invoke(s) => (s.output(), s.usage, s.finish_reason(), s.done),
            Stream::WorkersAi(s) => (s.output(), s.usage, s.finish_reason(), s.done),
            Stream::None => (Value::Null, Usage::default(), None, false),
        };
        // A Bedrock stream's exception message is the stream's error, thrown as its own class.
        let exception = self.stream_exception.take();
        let stream_error = stream_error.or(exception.as_ref().map(|e| e.0.clone()));
        self.served_model(&output);
        let mut out = self.common(status, usage, finish, now_ns, prices);
        out.attributes.push((
            "edgetrace.llm.chunks".into(),
            AttrValue::Int((self.chunks as i64).into()),
        ));
        if let Some(t) = self.first_token_ns {
            let ms = (t.saturating_sub(self.start_ns)) as f64 / 1e6;
            out.attributes.push((
                "edgetrace.llm.time_to_first_token_ms".into(),
                AttrValue::Double(ms.into()),
            ));
        }
        let how = match end {
            // The API's own error event ended it, whatever the reader did next (the SDKs throw on
            // it and cancel the body): not the app's cancellation, nor a stream read to its end.
            _ if stream_error.is_some() => "errored",
            // The reader stopped after an event it could not read: the official SDKs throw on
            // such an event (a SyntaxError) and cancel the body, so the call failed there.
            _ if cancelled && self.bad_event.is_some() => "errored",
            // Its final event arrived before the reader let go: the SDKs made by Speakeasy
            // (Mistral's, OpenRouter's) cancel the body once they read `[DONE]`.
            StreamEnd::Cancelled if complete => "completed",
            StreamEnd::Completed if complete || self.gave_up => "completed",
            StreamEnd::Completed => {
                self.parse_error("the stream ended before its final event".into());
                "truncated"
            }
            StreamEnd::Errored => "errored",
            StreamEnd::Cancelled | StreamEnd::Abandoned => "cancelled",
        };
        out.attributes.push((
            "edgetrace.llm.stream_end".into(),
            AttrValue::Str(how.into()),
        ));
        if !output.is_null() {
            self.chat_messages(&mut out, &output);
            out.fit_outputs(&output, output.to_string(), self.max_value);
        }
        if stream_error.is_some() {
            // An error the API sent in the middle of the stream (an error chunk or event), which
            // the SDKs throw as their base class: `APIError`, `ApiError` for @google/genai; the
            // AWS SDK throws a Bedrock stream's exception as the class it names.
            out.exception = Some(exception.map_or_else(|| sdk_error_base(self.format), |e| e.1));
        }
        // (An errored read brings its own error, which the JS layer records.)
        let bad_event = self
            .bad_event
            .as_ref()
            .filter(|_| end != StreamEnd::Completed);
        if stream_error.is_none() && bad_event.is_some() && cancelled {
            out.exception = Some("SyntaxError");
        }
        out.error = out.error.take().or(stream_error).or(match how {
            "errored" => Some(bad_event.map_or_else(
                || "the response stream failed".into(),
                |e| format!("the reader stopped after an event it could not read ({e}), as the official SDKs do when they throw on one"),
            )),
            "truncated" => Some("the response stream ended before its final event".into()),
            _ => None,
        });
        self.push_parse_errors(&mut out);
        out
    }

    /// Ends a non-streamed call with its whole body.
    pub fn finish_body(
        &mut self,
        status: u16,
        body: &[u8],
        now_ns: u64,
        prices: &PriceTable,
    ) -> Outcome {
        let text = String::from_utf8_lossy(body);
        if matches!(text, std::borrow::Cow::Owned(_)) {
            self.parse_error("response body was not valid UTF-8".into());
        }
        let parsed: Option<Value> = match parse_json(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                if !text.trim().is_empty() {
                    self.parse_error(format!("response body is not JSON: {e}"));
                }
                None
            }
        };
        let (mut usage, finish) = match &parsed {
            Some(v) => self.read_response(v),
            None => (Usage::default(), None),
        };
        if usage.is_empty() {
            usage = self.header_usage;
        }
        let mut out = self.common(status, usage, finish, now_ns, prices);
        if status >= 400 {
            let msg = parsed
                .as_ref()
                .and_then(error_message)
                .unwrap_or_else(|| format!("HTTP {status}"));
            out.error = Some(format!("HTTP {status}: {msg}"));
            out.exception = Some(match self.aws_sdk {
                Some(named) => named.unwrap_or_else(|| bedrock::error_class(status)),
                None => api_error_class(self.format, status),
            });
        }
        // The body as the API sent it when it is JSON (already checked above), else as a string.
        // Embeddings the API sent in base64 (the official SDKs ask for it and decode it) are shown
        // as the numbers the app got.
        let decoded = match (&parsed, self.format) {
            (Some(v), Format::OpenAiEmbeddings) => openai::decode_embeddings(v),
            (Some(v), Format::Gemini) => gemini::for_mlflow(v),
            (Some(v), Format::Ollama) => ollama::for_mlflow(v),
            _ => None,
        };
        if let Some(v) = parsed.as_ref().filter(|_| status < 400) {
            self.chat_messages(&mut out, v);
        }
        match (decoded, &parsed) {
            (Some(d), _) => out.fit_outputs(&d, d.to_string(), self.max_value),
            (None, Some(v)) => out.fit_outputs(v, text.into_owned(), self.max_value),
            (None, None) => out.outputs = Some(Value::String(text.into_owned()).to_string()),
        }
        self.push_parse_errors(&mut out);
        out
    }

    /// Sets `mlflow.chat.messages`, the conversation with `answer`'s message last, for a call whose
    /// messages MLflow's UI cannot read from its inputs and outputs ([`chat`]).
    fn chat_messages(&self, out: &mut Outcome, answer: &Value) {
        let Some(msgs) = &self.messages else {
            return;
        };
        let answer = match self.format {
            Format::WorkersAi => workers_ai::result(answer),
            _ => answer,
        };
        if let Some(c) = chat::conversation(msgs, chat::answer_message(answer)) {
            let (text, cut) = fit::fit_json(&c, c.to_string(), self.max_value);
            out.truncated += u32::from(cut);
            out.attributes
                .push(("mlflow.chat.messages".into(), AttrValue::Json(text.into())));
        }
    }

    /// The model that answered, where the answer names it: a dated snapshot for an alias
    /// (`gpt-4o-mini-2024-07-18` for `gpt-4o-mini`), as MLflow's autolog records it and as it is
    /// billed; Gemini's `modelVersion` (`gemini-2.5-flash` for `gemini-flash-latest`). Otherwise
    /// the request's (for Azure, the deployment its path names).
    fn served_model(&mut self, v: &Value) {
        // Bedrock's model id (a cross-region profile's `us.anthropic.…`, an ARN) is what the app
        // chose and what AWS bills; Claude's answer there names it as Anthropic does.
        if self.frames.is_some() {
            return;
        }
        let key = if self.format == Format::Gemini {
            "modelVersion"
        } else {
            "model"
        };
        if let Some(m) = v.get(key).and_then(Value::as_str).filter(|m| !m.is_empty()) {
            if self.model.as_deref() != Some(m) {
                self.asked_model = self.model.replace(m.to_owned());
            }
        }
    }

    fn read_response(&mut self, v: &Value) -> (Usage, Option<String>) {
        self.served_model(v);
        match self.format {
            Format::OpenAiChat => (
                v.get("usage").map(openai::chat_usage).unwrap_or_default(),
                openai::chat_finish_reason(v),
            ),
            Format::OpenAiEmbeddings => (
                v.get("usage").map(openai::chat_usage).unwrap_or_default(),
                None,
            ),
            Format::OpenAiResponses => (
                v.get("usage")
                    .map(openai::responses_usage)
                    .unwrap_or_default(),
                v.get("status").and_then(Value::as_str).map(str::to_owned),
            ),
            Format::Anthropic => (
                v.get("usage").map(anthropic::usage).unwrap_or_default(),
                v.get("stop_reason")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            ),
            Format::Gemini => (
                v.get("usageMetadata")
                    .map(gemini::usage)
                    .unwrap_or_default(),
                gemini::finish_reason(v),
            ),
            Format::Ollama => (ollama::usage(v), ollama::finish_reason(v)),
            Format::BedrockConverse => (
                v.get("usage").map(bedrock::usage).unwrap_or_default(),
                v.get("stopReason")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            ),
            Format::BedrockInvoke => (bedrock::invoke_usage(v), bedrock::invoke_finish_reason(v)),
            Format::WorkersAi => (workers_ai::usage(v), workers_ai::finish_reason(v)),
        }
    }

    fn common(
        &self,
        status: u16,
        usage: Usage,
        finish: Option<String>,
        now_ns: u64,
        prices: &PriceTable,
    ) -> Outcome {
        let mut out = Outcome::default();
        out.attributes.push((
            "http.response.status_code".into(),
            AttrValue::Int(i64::from(status).into()),
        ));
        let ms = (now_ns.saturating_sub(self.start_ns)) as f64 / 1e6;
        out.attributes.push((
            "edgetrace.llm.latency_ms".into(),
            AttrValue::Double(ms.into()),
        ));
        if let Some(m) = &self.model {
            out.attributes
                .push(("mlflow.llm.model".into(), AttrValue::Str(m.clone().into())));
        }
        if let Some(f) = finish {
            out.attributes.push((
                "edgetrace.llm.finish_reason".into(),
                AttrValue::Str(f.into()),
            ));
        }
        if !usage.is_empty() {
            // MLflow's own Anthropic autolog counts cache reads and writes in `input_tokens` (and
            // so in the total), as OpenAI and Gemini report them; Anthropic reports them apart.
            let mut shown = usage;
            if self.format.cache_apart() {
                let cache = usage
                    .cached
                    .unwrap_or(0)
                    .saturating_add(usage.cache_creation.unwrap_or(0));
                if cache > 0 {
                    shown.input = Some(usage.input.unwrap_or(0).saturating_add(cache));
                }
            }
            out.attributes.push((
                "mlflow.chat.tokenUsage".into(),
                AttrValue::Json(shown.to_mlflow().to_string().into()),
            ));
            if let Some(r) = usage.reasoning {
                out.attributes.push((
                    "edgetrace.llm.reasoning_tokens".into(),
                    AttrValue::Int((r as i64).into()),
                ));
            }
            let cached_in_input = !self.format.cache_apart();
            // Gemini reports thinking tokens apart from `candidatesTokenCount` (MLflow's
            // `output_tokens`, as its Gemini autolog records it), and bills them as output.
            // OpenAI's reasoning tokens are already part of its completion tokens.
            let mut billed = usage;
            if self.format == Format::Gemini {
                if let Some(r) = usage.reasoning {
                    billed.output = Some(usage.output.unwrap_or(0).saturating_add(r));
                }
            }
            let cost = |m: &Option<String>| {
                m.as_deref()
                    .and_then(|m| prices.cost(m, &billed, cached_in_input))
            };
            // The served model's price, or the asked one's; a price the app set for the model
            // it asked for (a gateway's alias) before a shipped one for the model that answered.
            let app_priced =
                |m: &Option<String>| m.as_deref().is_some_and(|m| prices.set_by_app(m));
            let (first, then) = if app_priced(&self.asked_model) && !app_priced(&self.model) {
                (&self.asked_model, &self.model)
            } else {
                (&self.model, &self.asked_model)
            };
            if let Some(c) = cost(first).or_else(|| cost(then)) {
                out.attributes.push((
                    "mlflow.llm.cost".into(),
                    AttrValue::Json(c.to_string().into()),
                ));
            }
        }
        out
    }

    fn push_parse_errors(&self, out: &mut Outcome) {
        self.parse_errors.write(out, "edgetrace.llm");
    }
}

/// `text` parsed as JSON, a lone UTF-16 surrogate escape read as U+FFFD: JavaScript's
/// `JSON.stringify` writes one (`"\ud83d"`) for a string cut inside a character, which JavaScript
/// (and so the SDKs) reads back, and serde_json refuses. Only a text that fails is looked at again.
pub fn parse_json(text: &str) -> serde_json::Result<Value> {
    match serde_json::from_str(text) {
        Err(e) if text.contains("\\u") => match without_lone_surrogates(text) {
            Some(fixed) => serde_json::from_str(&fixed).map_err(|_| e),
            None => Err(e),
        },
        r => r,
    }
}

/// `text` with each `\uXXXX` escape of a surrogate that is not half of a pair replaced by
/// `\ufffd`; `None` when it has none.
fn without_lone_surrogates(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let unit = |at: usize| -> Option<u16> {
        let h = text.get(at + 2..at + 6)?;
        (b.get(at) == Some(&b'\\')
            && b.get(at + 1) == Some(&b'u')
            && h.bytes().all(|c| c.is_ascii_hexdigit()))
        .then(|| u16::from_str_radix(h, 16).ok())
        .flatten()
    };
    let (mut out, mut last, mut i) = (String::new(), 0, 0);
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(u) = unit(i) else {
            // Another escape: its character is never a `\` that starts one.
            i += 2;
            continue;
        };
        let high = (0xD800..0xDC00).contains(&u);
        if high && unit(i + 6).is_some_and(|l| (0xDC00..0xE000).contains(&l)) {
            i += 12;
        } else if high || (0xDC00..0xE000).contains(&u) {
            out.push_str(&text[last..i]);
            out.push_str("\\ufffd");
            i += 6;
            last = i;
        } else {
            i += 6;
        }
    }
    if last == 0 {
        return None;
    }
    out.push_str(&text[last..]);
    Some(out)
}

/// The API's own error message, from the error body shapes model APIs send:
/// - `error.message`: OpenAI (and most compatible services), Anthropic, Gemini;
/// - `error` as a string: Hugging Face TGI and others;
/// - `errors[].message`: Cloudflare's API v4 envelope (Workers AI), and `error[].message`, as
///   Cloudflare AI Gateway sends it (several messages are joined with `; `);
/// - a top-level `message`: vLLM's older `{"object": "error", "message": …}`, and AWS's
///   (Bedrock's), which sends `Message` for its signature and permission errors;
/// - `detail`, a string or a list of `{msg}`: FastAPI servers.
pub fn error_message(v: &Value) -> Option<String> {
    ["error", "errors"]
        .iter()
        .find_map(|k| v.get(*k).and_then(message_in))
        .or_else(|| v.get("message").and_then(Value::as_str).map(str::to_owned))
        // AWS's IAM and signature errors.
        .or_else(|| v.get("Message").and_then(Value::as_str).map(str::to_owned))
        .or_else(|| v.get("detail").and_then(message_in))
}

/// The message a string, an object (`message`, or FastAPI's `msg`) or a list of them holds.
fn message_in(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        // Joined by hand: `[String]::join` would be ~0.8 KB of the parsers' wasm for this alone.
        Value::Array(items) => items.iter().filter_map(message_in).reduce(|mut all, m| {
            all.push_str("; ");
            all.push_str(&m);
            all
        }),
        _ => ["message", "msg"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str))
            .map(str::to_owned),
    }
}

/// Tool definitions in OpenAI's shape (`[{type: "function", function: {name, description,
/// parameters}}]`), which MLflow's UI shows, from any format's request.
fn tool_definitions(format: Format, req: &Value) -> Option<Value> {
    match format {
        Format::Anthropic => {
            let tools = req.get("tools")?.as_array()?;
            Some(Value::Array(
                tools
                    .iter()
                    .map(|t| {
                        json!({"type": "function", "function": {"name": t.get("name"), "description": t.get("description"),
                               "parameters": t.get("input_schema")}})
                    })
                    .collect(),
            ))
        }
        Format::Gemini => {
            let decls: Vec<Value> = req
                .get("tools")?
                .as_array()?
                .iter()
                .filter_map(|t| {
                    t.get("functionDeclarations")
                        .or_else(|| t.get("function_declarations"))
                        .and_then(Value::as_array)
                })
                .flatten()
                .map(|d| {
                    // A JSON Schema as given (`parametersJsonSchema`), or Gemini's own Schema
                    // (`parameters`), whose type names (`OBJECT`, `STRING`) MLflow shows in
                    // JSON Schema's lower case, as its autolog records them.
                    let parameters = ["parametersJsonSchema", "parameters_json_schema"]
                        .iter()
                        .find_map(|k| d.get(*k).filter(|p| !p.is_null()).cloned())
                        .or_else(|| d.get("parameters").cloned().map(lower_schema_types));
                    json!({"type": "function", "function": {"name": d.get("name"), "description": d.get("description"), "parameters": parameters}})
                })
                .collect();
            Some(Value::Array(decls))
        }
        Format::BedrockConverse => bedrock::tools(req),
        Format::WorkersAi => workers_ai::tools(req),
        Format::OpenAiResponses => {
            let tools = req.get("tools")?.as_array()?;
            Some(Value::Array(tools.iter().map(responses_tool).collect()))
        }
        _ => req.get("tools").filter(|t| t.is_array()).cloned(),
    }
}

/// Gemini's Schema with its type names (`OBJECT`, `STRING`, …) in JSON Schema's lower case, at
/// every depth (`properties`, `items`, `anyOf`).
fn lower_schema_types(mut schema: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(o) => {
                for (k, v) in o.iter_mut() {
                    match v {
                        Value::String(t) if k == "type" => *t = t.to_ascii_lowercase(),
                        _ => walk(v),
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut schema);
    schema
}

/// One Responses API tool in OpenAI's chat shape, as MLflow's own OpenAI autolog writes it
/// (mlflow/openai/utils/chat_schema.py, `_parse_tools`): a function tool with the fields its
/// request gave, and a built-in tool (`web_search_preview`, `file_search`, …), which has no name,
/// named by its type. MLflow records no tools at all for a request with a tool type it does not
/// know; such a tool is named here by its own name when it has one (`custom`), else by its type.
fn responses_tool(t: &Value) -> Value {
    if t.get("function").is_some() {
        return t.clone();
    }
    let kind = t.get("type").and_then(Value::as_str).unwrap_or("function");
    let name = t.get("name").filter(|n| n.is_string()).cloned();
    let mut function = serde_json::Map::new();
    function.insert("name".into(), name.unwrap_or_else(|| json!(kind)));
    for k in ["description", "parameters", "strict"] {
        if let Some(v) = t.get(k) {
            function.insert(k.into(), v.clone());
        }
    }
    json!({"type": "function", "function": function})
}

/// The class the official JS SDK of the call's API raises for an HTTP error status, so a failed
/// call's exception reads as MLflow's autologged ones do. The openai SDK (`core/error.ts`) names
/// seven statuses and every 5xx; the Anthropic SDK (`core/error.ts`, `STATUS_ERROR_CLASSES`) names
/// more, its 529 (Anthropic's "overloaded") among them. The Python SDKs raise the same classes,
/// except that the Python `anthropic` calls its 501 `HTTPNotImplementedError`; edgetrace is a JS
/// package, so it takes the JS name. The Anthropic SDK names some errors more finely still, by
/// the body's `error.details.error_code`: each such class extends its status's class named
/// here. The Gemini JS SDK (`@google/genai`) throws one class, `ApiError`, for every status (the
/// status is on the error). Other formats (OpenAI and compatible services) get the openai SDK's
/// names.
fn api_error_class(format: Format, status: u16) -> &'static str {
    let anthropic = format == Format::Anthropic;
    match status {
        _ if format == Format::Gemini => sdk_error_base(format),
        _ if matches!(format, Format::BedrockConverse | Format::BedrockInvoke) => {
            bedrock::error_class(status)
        }
        // The `ollama` package throws `ResponseError` for every status.
        _ if format == Format::Ollama => "ResponseError",
        400 => "BadRequestError",
        401 => "AuthenticationError",
        403 => "PermissionDeniedError",
        404 => "NotFoundError",
        409 => "ConflictError",
        422 => "UnprocessableEntityError",
        429 => "RateLimitError",
        402 if anthropic => "PaymentRequiredError",
        408 if anthropic => "RequestTimeoutError",
        412 if anthropic => "PreconditionFailedError",
        413 if anthropic => "ContentTooLargeError",
        431 if anthropic => "RequestHeaderFieldsTooLargeError",
        499 if anthropic => "ClientClosedRequestError",
        501 if anthropic => "NotImplementedError",
        503 if anthropic => "ServiceUnavailableError",
        504 if anthropic => "GatewayTimeoutError",
        529 if anthropic => "OverloadedError",
        500.. => "InternalServerError",
        _ => sdk_error_base(format),
    }
}

/// The base class of the call's API's JS SDK errors: what it throws for a status it names no
/// class for, and for an error sent in the middle of a stream (`ApiError` for @google/genai,
/// `APIError` for the openai and Anthropic SDKs).
fn sdk_error_base(format: Format) -> &'static str {
    match format {
        Format::Gemini => "ApiError",
        // The `ollama` package throws a stream's `error` object as a plain `Error`.
        Format::Ollama => "Error",
        _ => "APIError",
    }
}
