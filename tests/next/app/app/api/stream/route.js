// A streamed answer from an Edge route: the model's SSE stream, read through traceFetch, becomes
// the text the browser receives as it arrives. The model call's span ends when the stream does,
// after the route has returned its Response; after() flushes once the response has been sent.
import { after } from 'next/server';
import { init, trace, traceFetch, flush, getLastActiveTraceId, SpanType } from 'edgetrace';

export const runtime = 'edge';

init({ endpoint: process.env.EDGETRACE_ENDPOINT, experimentId: process.env.EDGETRACE_EXPERIMENT_ID });

const tracedFetch = traceFetch(fetch);

/** OpenAI's chat SSE events to their text deltas. */
function deltas() {
  let buffered = '';
  return new TransformStream({
    transform(chunk, controller) {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
        const text = JSON.parse(line.slice(6)).choices[0]?.delta?.content;
        if (text) controller.enqueue(text);
      }
    },
  });
}

const chat = trace(
  async (question) => {
    const res = await tracedFetch(`${process.env.MODEL_URL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.MODEL_KEY}` },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: question }],
      }),
    });
    return res.body.pipeThrough(new TextDecoderStream()).pipeThrough(deltas()).pipeThrough(new TextEncoderStream());
  },
  { name: 'chat', spanType: SpanType.CHAIN },
);

export async function GET(request) {
  const question = new URL(request.url).searchParams.get('q') ?? 'hello';
  const stream = await chat(question);
  const traceId = getLastActiveTraceId();
  after(() => flush());
  return new Response(stream, { headers: { 'content-type': 'text/plain; charset=utf-8', 'x-trace-id': traceId } });
}
