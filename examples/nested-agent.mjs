// A runnable example: an "agent" with nested retrieval, model and tool calls, traced with
// edgetrace in Node and delivered to MLflow. Used by scripts/demo.sh.
//   node examples/nested-agent.mjs http://127.0.0.1:5000 <experiment id>
import { flush, getLastActiveTraceId, getStats, init, SpanType, trace, updateCurrentTrace, withSpan } from '../pkg/node.js';

const [mlflowUrl = 'http://127.0.0.1:5000', experimentId = '0'] = process.argv.slice(2);
init({ endpoint: mlflowUrl, experimentId, serviceName: 'edgetrace-example' });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const retrieve = trace(async function retrieve(query, k = 2) {
  await sleep(30);
  return ['MLflow is an open source platform for the ML lifecycle.', 'MLflow Tracing records LLM calls.'].slice(0, k);
}, { spanType: SpanType.RETRIEVER });

const getWeather = trace(async function getWeather(city) {
  await sleep(15);
  return { city, forecast: 'sunny', tempC: 21 };
}, { spanType: SpanType.TOOL });

const answer = trace(async function answer(question) {
  updateCurrentTrace({ tags: { example: 'nested-agent' }, sessionId: 'example-session' });
  const docs = await retrieve(question);
  const weather = await getWeather('Paris');
  return withSpan(async (span) => {
    const messages = [
      { role: 'system', content: `Context: ${docs.join(' ')}` },
      { role: 'user', content: question },
    ];
    span.setInputs({ model: 'demo-model', messages });
    await sleep(50);
    span.setAttribute('mlflow.chat.tokenUsage', { input_tokens: 42, output_tokens: 17, total_tokens: 59 });
    return `MLflow is an open source ML platform; it is ${weather.forecast} in ${weather.city}.`;
  }, { name: 'chat', spanType: SpanType.CHAT_MODEL });
}, { spanType: SpanType.AGENT });

for (const q of ['What is MLflow?', 'What does MLflow Tracing record?']) {
  const reply = await answer(q);
  const id = getLastActiveTraceId();
  console.log(`[example] ${q} -> ${reply}`);
  console.log(`[example] trace ${id}: ${mlflowUrl}/#/experiments/${experimentId}/traces?selectedEvaluationId=${id}`);
}
await flush();
const s = getStats();
console.log(`[example] exported ${s.exported} spans, dropped ${s.dropped.total}, last export error: ${s.lastExportError ?? 'none'}`);
if (s.lastExportError) process.exit(1);
