// The chat handler of /api/chat (Edge runtime) and /api/node (Node runtime), as a Next.js app
// writes one: init() at the module's top level, a traced function whose retrieval step and model
// call nest under it across awaits, and the flush left to after(). Each route names its runtime.
import { after } from 'next/server';
import { init, trace, traceFetch, flush, getLastActiveTraceId, getStats, SpanType } from 'edgetrace';

init({ endpoint: process.env.EDGETRACE_ENDPOINT, experimentId: process.env.EDGETRACE_EXPERIMENT_ID });

const tracedFetch = traceFetch(fetch);

// Names given: the production build minifies function names away.
const retrieve = trace(
  async (query) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return [`A document about ${query}.`];
  },
  { name: 'retrieve', spanType: SpanType.RETRIEVER },
);

const answer = trace(
  async (question) => {
    const docs = await retrieve(question);
    const res = await tracedFetch(`${process.env.MODEL_URL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.MODEL_KEY}` },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: docs.join('\n') },
          { role: 'user', content: question },
        ],
      }),
    });
    const body = await res.json();
    return body.choices[0].message.content;
  },
  { name: 'answer', spanType: SpanType.AGENT },
);

export async function GET(request) {
  const question = new URL(request.url).searchParams.get('q') ?? 'hello';
  const text = await answer(question);
  after(() => flush());
  return Response.json({ text, traceId: getLastActiveTraceId(), stats: getStats() });
}
