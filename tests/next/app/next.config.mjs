// The app is copied into tests/next/<version>/work, beside the node_modules of its Next.js: that
// folder is its root (the repository's own lockfile would be taken for it otherwise).
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

// serverExternalPackages: the Node runtime's routes read the package's .wasm files from node_modules.
export default { outputFileTracingRoot: root, turbopack: { root }, serverExternalPackages: ['edgetrace'] };
