// The chat handler (lib/chat.js) on Next.js's Node runtime (the default), with edgetrace kept out
// of the server bundle (serverExternalPackages in next.config.mjs, as the README says).
export { GET } from '../../../lib/chat.js';

export const runtime = 'nodejs';
