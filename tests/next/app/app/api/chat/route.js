// The chat handler (lib/chat.js) on the Edge runtime.
export { GET } from '../../../lib/chat.js';

export const runtime = 'edge';
