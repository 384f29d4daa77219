// Builds the classic Notebook extension into dist/classic/main.js: one
// requirejs module (what Notebook 6 loads) wrapping an esbuild bundle.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';

const out = await build({
  entryPoints: ['src/classic.ts'],
  bundle: true,
  format: 'iife',
  globalName: 'fairPanel',
  target: 'es2020',
  minify: true,
  legalComments: 'none',
  write: false,
});
const js = out.outputFiles[0].text;
mkdirSync('dist/classic', { recursive: true });
writeFileSync(
  'dist/classic/main.js',
  `// fair's panel for the classic Notebook. Built from notebook-ext/src by \`make notebook-ext\`; do not edit.\n` +
    `define(['base/js/namespace', 'base/js/events'], function (Jupyter, events) {\n${js}\n` +
    `return { load_ipython_extension: function () { fairPanel.loadClassic(Jupyter, events); } };\n});\n`,
);
console.log(`dist/classic/main.js: ${js.length} bytes`);
