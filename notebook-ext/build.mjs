// Builds what fair embeds (make notebook-ext):
//   dist/classic/main.js  the classic Notebook extension: one requirejs
//                         module (what Notebook 6 loads) wrapping an esbuild bundle;
//   dist/lab/             the JupyterLab 4 prebuilt (federated) extension
//                         "jupyterlab-fair", built by JupyterLab's own
//                         @jupyterlab/builder from lab-ext/.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);

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

// The Lab extension's entry: src/lab.ts as one ES module whose imports of
// JupyterLab's packages stay imports (the builder turns them into shared
// singletons that JupyterLab provides at load time).
const core = JSON.parse(readFileSync('lab-ext/core/package.json', 'utf8'));
await build({
  entryPoints: ['src/lab.ts'],
  bundle: true,
  format: 'esm',
  target: 'es2020',
  legalComments: 'none',
  external: Object.keys(core.dependencies),
  outfile: 'lab-ext/lib/index.js',
});
// build-labextension: webpack module federation, as `jupyter labextension
// build` runs it; lab-ext/core says which packages JupyterLab shares.
try {
  execFileSync(
    process.execPath,
    [require.resolve('@jupyterlab/builder/lib/build-labextension.js'), '--core-path', 'core', '.'],
    { cwd: 'lab-ext', stdio: 'pipe' },
  );
} catch (e) {
  console.error(`build-labextension failed:\n${e.stdout}${e.stderr}`);
  process.exit(1);
}
const lab = JSON.parse(readFileSync('dist/lab/package.json', 'utf8'));
console.log(`dist/lab: ${lab.name} ${lab.version}, ${lab.jupyterlab._build.load}`);
