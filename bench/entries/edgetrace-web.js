// A browser entry that traces a function and exports: edgetrace.
import { flush, init, trace } from 'edgetrace';

init({ endpoint: 'https://ingest.example.com', ingestKey: 'pk_example', experimentId: '1' });
const answer = trace(async function answer(q) {
  return `you asked ${q}`;
}, { name: 'answer' });
window.ask = async (q) => {
  const a = await answer(q);
  await flush();
  return a;
};
