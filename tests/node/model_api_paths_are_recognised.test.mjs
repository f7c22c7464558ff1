// traceFetch() knows a model API call by its path (fetch.js `llmFormatOf`), in JS so that the
// wasm core every page loads does not carry the check. The rule is the Rust one
// (src/llm/mod.rs `Format::detect`, whose doc test checks it on some of these paths): the ending of the path,
// after any query and trailing slashes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { llmFormatOf } from '../../pkg/fetch.js';

test('model API paths map to their formats; other paths to none', () => {
  const cases = [
    ['/v1/chat/completions', 'openai'],
    ['/openai/deployments/gpt/chat/completions', 'openai'],
    ['/v1/chat/completions/?stream=1', 'openai'],
    ['/v1/chat/completions///', 'openai'],
    ['/v1/responses', 'openai-responses'],
    ['/v1/embeddings', 'openai-embeddings'],
    ['/v1/messages', 'anthropic'],
    ['/v1/messages//', 'anthropic'],
    ['/v1beta/models/gemini-2.0-flash:generateContent', 'gemini'],
    ['/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse', 'gemini'],
    // Amazon Bedrock (the modelId escaped into one segment), and Vertex AI's partner models.
    ['/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse', 'bedrock-converse'],
    ['/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream', 'bedrock-converse'],
    ['/model/meta.llama3-8b-instruct-v1%3A0/invoke', 'bedrock-invoke'],
    ['/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.anthropic.x/invoke-with-response-stream', 'bedrock-invoke'],
    ['/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict', 'anthropic'],
    ['/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict', 'anthropic'],
    ['/v1/projects/p/locations/us-central1/publishers/mistralai/models/mistral-small-2503:rawPredict', 'openai'],
    ['/v1/projects/p/locations/l/endpoints/123:rawPredict', undefined],
    ['/client/v4/accounts/0123/ai/run/@cf/meta/llama-3.1-8b-instruct', 'workers-ai'],
    ['/client/v4/accounts/0123/ai/run/@hf/thebloke/mistral-7b-instruct-v0.1-awq/?x=1', 'workers-ai'],
    ['/v1/0123/my-gw/workers-ai/@cf/baai/bge-m3', 'workers-ai'],
    ['/v1/0123/my-gw/workers-ai/v1/chat/completions', 'openai'],
    ['/client/v4/accounts/0123/ai/v1/chat/completions', 'openai'],
    ['/client/v4/accounts/0123/ai/run/%40cf%2Fmeta%2Fllama-3.1-8b-instruct', 'workers-ai'],
    ['/v1/0123/my-gw/workers-ai/run/@cf/meta/llama-3.1-8b-instruct', 'workers-ai'],
    ['/client/v4/accounts/0123/ai/run/', undefined],
    ['/client/v4/accounts/0123/ai/models/search', undefined],
    ['/model/x/converse/extra', undefined],
    ['/v1/converse', undefined],
    ['/v1/users?next=/v1/messages', undefined],
    ['/v1/messages/count', undefined],
    ['/v1/chat/completions.json', undefined],
    ['/messages', undefined],
    ['/', undefined],
    ['', undefined],
  ];
  for (const [path, format] of cases) assert.equal(llmFormatOf(path), format, path);
});
