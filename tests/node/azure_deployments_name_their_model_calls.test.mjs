// Azure OpenAI's requests name no model: the deployment in the path stands for one. A call's span
// is named after it (`chat my-mini`, as `chat gpt-4o-mini` for OpenAI's own API), and
// `mlflow.llm.model` is the model the answer names. Through the openai SDK's AzureOpenAI client,
// plain and streamed, against the mock's Azure route (Azure's wire format: its content-filter
// results, and a stream whose first chunk has no id, model or creation time).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AzureOpenAI } from 'openai';
import { flush, init, traceFetch } from '../../pkg/node.js';
import { AZURE_MODEL, startMockLlm } from '../../mock-llm/server.mjs';
import { startCollector } from './helpers/collector.mjs';

let mock;
let col;
before(async () => {
  mock = await startMockLlm();
  col = await startCollector();
});
after(async () => {
  await mock?.close();
  await col?.close();
});

test('an Azure OpenAI call is named after its deployment, with the model that answered', async () => {
  init({ endpoint: col.url, format: 'json', logger: { warn() {} } });
  const azure = new AzureOpenAI({
    endpoint: mock.url, apiKey: 'azure-key', apiVersion: '2024-10-21', deployment: 'my-mini', fetch: traceFetch(), maxRetries: 0,
  });
  const plain = await azure.chat.completions.create({ model: '', messages: [{ role: 'user', content: 'Hi' }] });
  let streamed = '';
  const stream = await azure.chat.completions.create({ model: '', messages: [{ role: 'user', content: 'Hello' }], stream: true, stream_options: { include_usage: true } });
  for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? '';
  // A deployment name with a character the path escapes is named as written.
  const spaced = new AzureOpenAI({ endpoint: mock.url, apiKey: 'azure-key', apiVersion: '2024-10-21', deployment: 'mini eu', fetch: traceFetch(), maxRetries: 0 });
  await spaced.chat.completions.create({ model: '', messages: [{ role: 'user', content: 'Hey' }] });
  // The deployment stands for the model whatever the body names (Azure does not read it).
  await azure.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Yo' }] });
  await flush();
  const requests = mock.requests.filter((r) => r.path.startsWith('/openai/deployments/'));
  assert.equal(requests.length, 4, 'the SDK called the deployments');
  assert.equal(requests.filter((r) => !r.body.model).length, 3, 'three requests name no model');
  const spans = col.spans().filter((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');
  assert.deepEqual(spans.map((s) => s.name).sort(), ['chat mini eu', 'chat my-mini', 'chat my-mini', 'chat my-mini']);
  // The stream's first chunk (the prompt's content-filter results) has an empty id and model and
  // `created: 0`: the answer's come from the chunks after it, and the call is priced.
  for (const s of spans) {
    assert.equal(s.attributes['mlflow.llm.model'], AZURE_MODEL, s.name);
    const cost = JSON.parse(s.attributes['mlflow.llm.cost'] ?? 'null');
    assert.ok(cost?.total_cost > 0, `${s.name} is priced: ${s.attributes['mlflow.llm.cost']}`);
  }
  const answer = spans.map((s) => JSON.parse(s.attributes['mlflow.spanOutputs']));
  for (const out of answer) {
    assert.match(out.id, /^chatcmpl-/, 'the answer\'s id');
    assert.equal(out.created, 1700000000);
    assert.equal(out.model, AZURE_MODEL);
  }
  const outputs = spans.map((s) => s.attributes['mlflow.spanOutputs']).join('\n');
  assert.ok(outputs.includes(plain.choices[0].message.content), 'the plain answer is the span\'s outputs');
  assert.ok(streamed && outputs.includes(streamed), 'the streamed answer is reassembled');
});
