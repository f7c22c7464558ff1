// init() with no options: the endpoint and experiment come from MLFLOW_TRACKING_URI and
// MLFLOW_EXPERIMENT_ID, which Next.js's Edge runtime has on process.env.
import { after } from 'next/server';
import { init, trace, flush, getLastActiveTraceId } from 'edgetrace';

export const runtime = 'edge';

init();

const greet = trace(async (name) => `hello ${name}`, { name: 'greet' });

export async function GET() {
  const text = await greet('env');
  after(() => flush());
  return Response.json({ text, traceId: getLastActiveTraceId() });
}
