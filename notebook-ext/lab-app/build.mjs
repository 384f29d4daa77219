// Builds the test front end (lab-app/index.ts) into lab-app/dist: lab.js,
// lab.css and the light theme. Run from notebook-ext: node lab-app/build.mjs
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);

const EXTENSIONS = ['application-extension', 'apputils-extension', 'codemirror-extension', 'docmanager-extension',
  'documentsearch-extension', 'filebrowser-extension', 'launcher-extension', 'notebook-extension', 'rendermime-extension',
  'statusbar-extension', 'theme-light-extension', 'translation-extension'].map((n) => '@jupyterlab/' + n);

// '~pkg/x.css' is 'pkg/x.css' (the webpack css-loader convention JupyterLab's CSS uses).
const tilde = {
  name: 'tilde',
  setup(b) {
    b.onResolve({ filter: /^~/ }, (a) => b.resolve(a.path.slice(1), { kind: a.kind, resolveDir: a.resolveDir }));
  },
};
// virtual:schemas is every settings schema of the bundled extensions, by plugin id.
const schemas = {
  name: 'schemas',
  setup(b) {
    b.onResolve({ filter: /^virtual:schemas$/ }, (a) => ({ path: a.path, namespace: 'schemas' }));
    b.onLoad({ filter: /.*/, namespace: 'schemas' }, () => {
      const out = {};
      for (const name of EXTENSIONS) {
        const pj = require.resolve(name + '/package.json');
        const dir = (JSON.parse(fs.readFileSync(pj)).jupyterlab || {}).schemaDir;
        if (!dir) continue;
        const sd = path.join(path.dirname(pj), dir);
        for (const f of fs.readdirSync(sd).filter((f) => f.endsWith('.json'))) {
          out[`${name}:${f.slice(0, -5)}`] = JSON.parse(fs.readFileSync(path.join(sd, f)));
        }
      }
      return { contents: JSON.stringify(out), loader: 'json' };
    });
  },
};
// virtual:shared is each package JupyterLab shares with prebuilt extensions
// (lab-ext/core), as { name: { version, module } }: the share scope's content.
const shared = {
  name: 'shared',
  setup(b) {
    b.onResolve({ filter: /^virtual:shared$/ }, (a) => ({ path: a.path, namespace: 'shared', pluginData: a.resolveDir }));
    b.onLoad({ filter: /.*/, namespace: 'shared' }, () => {
      const names = Object.keys(JSON.parse(fs.readFileSync('lab-ext/core/package.json')).dependencies);
      const lines = names.map((n, i) => `import * as m${i} from '${n}';`);
      const entries = names.map((n, i) =>
        `${JSON.stringify(n)}: { version: ${JSON.stringify(JSON.parse(fs.readFileSync(require.resolve(n + '/package.json'))).version)}, module: m${i} }`);
      return { contents: `${lines.join('\n')}\nexport default { ${entries.join(', ')} };`, loader: 'js', resolveDir: process.cwd() };
    });
  },
};
const common = {
  bundle: true, platform: 'browser', target: 'es2020', minify: true, logLevel: 'warning',
  plugins: [tilde, schemas, shared],
  loader: { '.svg': 'text', '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl', '.eot': 'dataurl',
    '.png': 'dataurl', '.gif': 'dataurl', '.jpg': 'dataurl', '.md': 'text', '.txt': 'text' },
  define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
};
const out = 'lab-app/dist';
await esbuild.build({ ...common, entryPoints: { lab: 'lab-app/index.ts' }, outdir: out, format: 'iife' });
await esbuild.build({ ...common, entryPoints: { index: require.resolve('@jupyterlab/theme-light-extension/style/theme.css') },
  outdir: `${out}/themes/@jupyterlab/theme-light-extension` });
console.log(`${out}/lab.js: ${fs.statSync(`${out}/lab.js`).size} bytes`);
