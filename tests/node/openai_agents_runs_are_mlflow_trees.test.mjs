// An OpenAI Agents SDK (@openai/agents) run, traced with edgetrace/openai-agents and the traced
// fetch, is one tree as MLflow's Python autolog of the SDK makes it: the app's root, each agent an
// AGENT span, the handoff between them a CHAIN span, the function tool a TOOL span with its
// arguments and result, and each model call a CHAT_MODEL span under the agent that made it. The
// model is the local mock, speaking the Responses API.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { Agent, getCurrentSpan, OpenAIProvider, run, Runner, setDefaultOpenAIClient, setTraceProcessors, tool } from '@openai/agents';
import { z } from 'zod';
import { flush, getLastActiveTraceId, init, SpanType, trace, traceFetch } from '../../pkg/node.js';
import { openAIAgentsProcessor } from '../../pkg/openai-agents.js';
import { mockAndCollector } from './helpers/harness.mjs';

const servers = mockAndCollector(init);
const processor = openAIAgentsProcessor({ getCurrentSpan });
// Only edgetrace's processor: nothing goes to OpenAI's own trace ingest.
setTraceProcessors([processor]);

const getWeather = tool({
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: z.object({ city: z.string() }),
  // The tool's own traced helper nests under the tool's span.
  execute: async ({ city }) => `Sunny, 21C in ${await forecast(city)}`,
});
const forecast = trace(async function forecast(city) {
  await new Promise((r) => setTimeout(r, 2));
  return city;
}, { spanType: SpanType.RETRIEVER });
const weather = new Agent({ name: 'weather_agent', instructions: 'Answer weather questions.', model: 'gpt-4.1-mini', tools: [getWeather] });
const triage = new Agent({ name: 'triage', instructions: 'Route the user.', model: 'gpt-4.1-mini', handoffs: [weather] });

async function tree(traceId) {
  await new Promise((r) => setTimeout(r, 50));
  await flush();
  const spans = servers.col.spans().filter((s) => s.traceId === traceId);
  const kids = (id) => spans.filter((s) => s.parentSpanId === id).sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
  const shape = (s) => [`${s.attributes['mlflow.spanType']} ${s.name}`, kids(s.spanId).map(shape)];
  return { spans, roots: spans.filter((s) => !s.parentSpanId).map(shape) };
}

test('a run with a handoff and a tool is one tree: agents, handoff, tool and model calls where they happened', async () => {
  setDefaultOpenAIClient(new OpenAI({ apiKey: 'sk-test', baseURL: `${servers.mock.url}/v1`, maxRetries: 0, fetch: traceFetch(fetch, { parent: processor.parent }) }));
  const handle = trace(async function handle_request(question) {
    return (await run(triage, question)).finalOutput;
  }, { spanType: SpanType.AGENT });
  const answer = await handle('What is the weather in Paris?');
  assert.equal(typeof answer, 'string');
  const { spans, roots } = await tree(getLastActiveTraceId().slice(3));
  // (The mock answers the weather agent in words: the conversation it is handed holds a tool
  // result already, the handoff's.)
  assert.deepEqual(roots, [['AGENT handle_request', [
    ['AGENT triage', [['CHAT_MODEL responses gpt-4.1-mini', []], ['CHAIN handoff', []]]],
    ['AGENT weather_agent', [['CHAT_MODEL responses gpt-4.1-mini', []]]],
  ]]], JSON.stringify(roots));
  const handoff = spans.find((s) => s.name === 'handoff');
  assert.deepEqual(JSON.parse(handoff.attributes['mlflow.spanInputs']), { from_agent: 'triage' });
  assert.deepEqual(JSON.parse(handoff.attributes['mlflow.spanOutputs']), { to_agent: 'weather_agent' });
  assert.equal(spans.find((s) => s.name === 'triage').attributes['openai_agents.handoffs'], 'weather_agent');
  // Each model call is parsed as the traced fetch parses any: the Responses API's usage.
  for (const call of spans.filter((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL')) assert.ok(JSON.parse(call.attributes['mlflow.chat.tokenUsage']).input_tokens > 0);
});

test('a run outside any traced function gets a root of its own, named as the SDK names the run, with its tool call', async () => {
  setDefaultOpenAIClient(new OpenAI({ apiKey: 'sk-test', baseURL: `${servers.mock.url}/v1`, maxRetries: 0, fetch: traceFetch(fetch, { parent: processor.parent }) }));
  await new Runner({ workflowName: 'weather desk' }).run(weather, 'Weather in Oslo?');
  await new Promise((r) => setTimeout(r, 50));
  await flush();
  const root = servers.col.spans().find((s) => !s.parentSpanId);
  assert.equal(root.name, 'weather desk');
  // The run's input and its answer, as MLflow's Request and Response.
  assert.deepEqual(JSON.parse(root.attributes['mlflow.spanInputs']), [{ type: 'message', role: 'user', content: 'Weather in Oslo?' }]);
  assert.equal(typeof JSON.parse(root.attributes['mlflow.spanOutputs']), 'string');
  assert.ok(JSON.parse(root.attributes['mlflow.spanOutputs']).length > 0);
  const { spans, roots } = await tree(root.traceId);
  assert.deepEqual(roots, [['AGENT weather desk', [['AGENT weather_agent', [['CHAT_MODEL responses gpt-4.1-mini', []], ['TOOL get_weather', [['RETRIEVER forecast', []]]], ['CHAT_MODEL responses gpt-4.1-mini', []]]]]]], JSON.stringify(roots));
  const toolSpan = spans.find((s) => s.name === 'get_weather');
  assert.equal(typeof JSON.parse(toolSpan.attributes['mlflow.spanInputs']).city, 'string', toolSpan.attributes['mlflow.spanInputs']);
  assert.match(toolSpan.attributes['mlflow.spanOutputs'], /Sunny, 21C in /);
  assert.equal(spans.find((s) => s.name === 'weather_agent').attributes['openai_agents.tools'], 'get_weather');
});

test("a run that throws outside any traced function still ends its root, failed, and a failing tool's error is recorded", async () => {
  // A model call that fails: the SDK throws from run() and never ends its trace.
  const failing = new OpenAI({ apiKey: 'sk-test', baseURL: `${servers.mock.url}/v1`, maxRetries: 0, defaultHeaders: { 'x-mock-status': '500' }, fetch: traceFetch(fetch, { parent: processor.parent }) });
  await assert.rejects(new Runner({ workflowName: 'doomed', modelProvider: new OpenAIProvider({ openAIClient: failing }) }).run(weather, 'Weather in Rome?'));
  await new Promise((r) => setTimeout(r, 50));
  await flush();
  const root = servers.col.spans().find((s) => s.name === 'doomed');
  assert.ok(root, 'the root was exported: it ended');
  assert.equal(root.status.code, 2, JSON.stringify(root.status));

  // A tool that throws: the run goes on (the SDK tells the model), and the tool's span says why.
  setDefaultOpenAIClient(new OpenAI({ apiKey: 'sk-test', baseURL: `${servers.mock.url}/v1`, maxRetries: 0, fetch: traceFetch(fetch, { parent: processor.parent }) }));
  const broken = tool({ name: 'get_weather', description: 'The weather', parameters: z.object({ city: z.string() }), execute: async ({ city }) => {
    throw new Error(`weather service down for ${city}`);
  } });
  await new Runner({ workflowName: 'broken tool' }).run(new Agent({ name: 'weather_agent', instructions: 'Weather.', model: 'gpt-4.1-mini', tools: [broken] }), 'Weather in Rome?');
  await new Promise((r) => setTimeout(r, 50));
  await flush();
  const toolSpan = servers.col.spans().find((s) => s.name === 'get_weather' && s.status?.code === 2);
  assert.ok(toolSpan, 'the failing tool span is ERROR');
  const event = toolSpan.events.find((e) => e.name === 'exception');
  const message = event.attributes.find((a) => a.key === 'exception.message').value.stringValue;
  // The SDK's error and the detail it gives (it redacts the tool's own message unless its run
  // includes sensitive data in traces).
  assert.match(message, /^Error running tool.*: (Tool execution failed|.*weather service down for )/, message);
});
