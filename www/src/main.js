// The demo chat: each turn is one trace. The page's AGENT span `turn` retrieves through the
// Worker (RETRIEVER), calls a weather tool through the Worker (TOOL), and streams the model's
// answer through traceFetch (CHAT_MODEL); the Worker's own spans join the trace through the
// traceparent header. Traces go to the ingest service with the page's public key. Span names are
// and inputs are given explicitly: a minifier renames functions and parameters, so
// `trace(function turn(question)…)` alone would record "anonymous" with an input named "e" in a
// production bundle.
import { flush, getCurrentActiveSpan, getLastActiveTraceId, getTraceHeaders, init, SpanType, trace, traceFetch, updateCurrentTrace } from 'edgetrace';

const $ = (id) => document.getElementById(id);
const cfg = await (await fetch('/config.json')).json();
const session = `session-${Math.random().toString(16).slice(2, 10)}`;
const traceLink = (id) => `${cfg.mlflowUrl}/#/experiments/${cfg.experimentId}/traces?selectedEvaluationId=${id}`;

// The side panel: spans of this page as they end, grouped by trace.
let lastTrace = '';
function showSpan(s) {
  const li = document.createElement('li');
  if (s.mlflowTraceId !== lastTrace) {
    lastTrace = s.mlflowTraceId;
    const head = document.createElement('li');
    head.className = 'trace';
    head.textContent = s.mlflowTraceId;
    $('spans').append(head);
  }
  li.innerHTML = `<span class="type"></span><span class="name"></span>`;
  li.querySelector('.type').textContent = s.spanType;
  li.querySelector('.name').textContent = s.name;
  li.dataset.trace = s.mlflowTraceId;
  $('spans').append(li);
}

init({
  endpoint: cfg.ingestUrl,
  ingestKey: cfg.ingestKey,
  experimentId: cfg.experimentId,
  serviceName: 'edgetrace-demo-page',
  flushIntervalMs: 300,
  onSpanEnd: showSpan,
});
const llm = traceFetch(undefined, { includeUsage: true });

const retrieve = trace(async function retrieve(question) {
  getCurrentActiveSpan()?.setInputs({ question });
  const res = await fetch(`${cfg.workerUrl}/retrieve?q=${encodeURIComponent(question)}`, { headers: getTraceHeaders() });
  return res.json();
}, { name: 'retrieve', spanType: SpanType.RETRIEVER });

const getWeather = trace(async function get_weather(city) {
  getCurrentActiveSpan()?.setInputs({ city });
  const res = await fetch(`${cfg.workerUrl}/tool/weather?city=${encodeURIComponent(city)}`, { headers: getTraceHeaders() });
  return res.json();
}, { name: 'get_weather', spanType: SpanType.TOOL });

let onText = () => {};
const turn = trace(async function turn(question) {
  getCurrentActiveSpan()?.setInputs({ question });
  updateCurrentTrace({ sessionId: session, tags: { app: 'edgetrace-demo' } });
  const docs = await retrieve(question);
  const weather = await getWeather('Paris');
  const res = await llm(`${cfg.workerUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...getTraceHeaders() },
    body: JSON.stringify({
      model: cfg.model,
      stream: true,
      messages: [
        { role: 'system', content: `Answer from these notes: ${docs.map((d) => d.text).join(' ')} Weather in ${weather.city}: ${weather.forecast}, ${weather.tempC} °C.` },
        { role: 'user', content: question },
      ],
    }),
  });
  if (!res.ok) throw new Error(`the model answered ${res.status}`);
  let text = '';
  let buffer = '';
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    const lines = buffer.split('\n');
    buffer = lines.pop();
    for (const line of lines) {
      const data = line.startsWith('data:') ? line.slice(5).trim() : '';
      if (!data || data === '[DONE]') continue;
      const piece = JSON.parse(data).choices?.[0]?.delta?.content;
      if (piece) {
        text += piece;
        onText(text);
      }
    }
  }
  return text;
}, { name: 'turn', spanType: SpanType.AGENT });

$('ask').addEventListener('submit', async (e) => {
  e.preventDefault();
  const question = $('question').value.trim();
  if (!question) return;
  $('question').value = '';
  $('send').disabled = true;
  const li = document.createElement('li');
  li.className = 'turn';
  li.innerHTML = '<div class="question"></div><div class="answer"></div><div class="meta">thinking…</div>';
  li.querySelector('.question').textContent = question;
  $('turns').append(li);
  const answer = li.querySelector('.answer');
  try {
    onText = (t) => (answer.textContent = t);
    await turn(question);
    li.dataset.state = 'done';
  } catch (err) {
    answer.textContent = `Error: ${err.message}`;
    li.dataset.state = 'error';
  }
  const id = getLastActiveTraceId();
  li.dataset.traceId = id;
  li.querySelector('.meta').innerHTML = `trace <a target="_blank" rel="noopener"></a>`;
  const a = li.querySelector('.meta a');
  a.href = traceLink(id);
  a.textContent = `${id} in MLflow`;
  // The user's verdict on the answer, logged on the turn's trace (MLflow's feedback).
  const rate = document.createElement('span');
  rate.className = 'rate';
  rate.innerHTML = 'rate this answer <button type="button" data-value="true">good</button><button type="button" data-value="false">bad</button>';
  rate.addEventListener('click', async (ev) => {
    const value = ev.target.closest('button')?.dataset.value;
    if (!value) return;
    for (const b of rate.querySelectorAll('button')) b.disabled = true;
    // Loaded on the first click: the feedback module is not part of the page's up-front bundle.
    const { logFeedback } = await import('edgetrace/feedback');
    const r = await logFeedback({ traceId: id, name: 'user_feedback', value: value === 'true', source: { type: 'HUMAN', id: session } });
    li.dataset.feedback = r.assessmentId ? 'logged' : 'failed';
    rate.textContent = r.assessmentId ? `rated ${value === 'true' ? 'good' : 'bad'}, in MLflow with the trace` : `feedback not saved: ${r.error}`;
  });
  li.querySelector('.meta').append(' ', rate);
  $('send').disabled = false;
  flush();
});
window.demoReady = true;
