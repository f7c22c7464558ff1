// The demo page is bundled the way a user's app would be: `import … from 'edgetrace'` resolves to
// the package (www/package.json depends on file:../pkg; scripts/demo-stack.mjs links
// www/node_modules/edgetrace to pkg/ as `npm install` would), through its `browser` export.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, reportCompressedSize: false },
});
