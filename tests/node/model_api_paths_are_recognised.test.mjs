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
    ['/v1/users?next=/v1/messages', undefined],
    ['/v1/messages/count', undefined],
    ['/v1/chat/completions.json', undefined],
    ['/messages', undefined],
    ['/', undefined],
    ['', undefined],
  ];
  for (const [path, format] of cases) assert.equal(llmFormatOf(path), format, path);
});
