// End to end in a real browser: Debian's Chromium, driven by playwright-core,
// on a classic Notebook server with the fair kernel and the panel installed
// (started by test/notebookext). It runs the notebook's cells, trains it from
// the panel with one GPU, follows the logs, deletes the run, removes a run
// deleted from outside, and checks a bad form value gets a one-line error.
// Any uncaught exception or console error in the page fails it.
//
// Environment: FAIR_E2E_URL (the notebook's URL with its token),
// FAIR_E2E_RUN (the run's name), FAIR_E2E_LOG (a line the program prints),
// FAIR_E2E_SCREENSHOT (a PNG path), CHROMIUM. Lines "e2e-ask: WHAT" ask
// the harness to act on the cluster; it answers "ok" on stdin. It prints
// one JSON line of measurements last.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';

const mode = process.env.FAIR_E2E_MODE ?? 'journey';
// FAIR_E2E_FRONTEND: classic (Notebook 6) or lab (the JupyterLab 4 front end
// of notebook-ext/lab-app, the notebook FAIR_E2E_NOTEBOOK opened in it).
const lab = process.env.FAIR_E2E_FRONTEND === 'lab';
const panelRoot = lab ? '#fair-panel' : '#fair-side';
const env = (k, d) => process.env[k] ?? d ?? (() => { throw new Error(`${k} is not set`); })();
const url = env('FAIR_E2E_URL');
const run = env('FAIR_E2E_RUN', 'unused');
const logLine = env('FAIR_E2E_LOG', 'unused');
const shot = env('FAIR_E2E_SCREENSHOT', '');
// ask has the test harness do something on the cluster and waits for it.
const answers = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const ask = async (what) => {
  console.log(`e2e-ask: ${what}`);
  const a = await answers.next();
  if (a.done || a.value.trim() !== 'ok') throw new Error(`the harness could not ${what}: ${a.value}`);
};

const step = (s) => console.log(`e2e: ${s}`);
const problems = [];
const browser = await chromium.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let ok = false;
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => problems.push(`uncaught exception: ${e.message}`));
  page.on('console', (m) => {
    // The Notebook asks for its optional parts (custom.js, custom.css, the
    // ipywidgets extension); a missing one is the server's 404 and the
    // browser's refusal of the 404 page, not an error of the panel.
    const optional = /Failed to load resource.*404|Refused to execute script from '[^']*\/nbextensions\/widgets\//;
    if (m.type() === 'error' && !optional.test(m.text())) problems.push(`console error: ${m.text()}`);
  });
  // The browser's clock when each run's phase first showed in the panel.
  await page.exposeFunction('fairSeen', (name, phase, at) => seen.push({ name, phase, at }));
  const seen = [];

  step('open the notebook');
  await page.goto(url);
  if (lab) await openInLab(page, env('FAIR_E2E_NOTEBOOK'));
  await page.waitForSelector('[data-fair-panel]', { timeout: 60000 });
  if (!lab) await page.waitForFunction(() => window.Jupyter?.notebook?.kernel?.is_connected(), null, { timeout: 60000 });
  await page.evaluate((panelRoot) => {
    new MutationObserver(() => {
      for (const tr of document.querySelectorAll('tr[data-run]')) {
        const key = `${tr.dataset.run}/${tr.dataset.phase}`;
        if (!window.__fairKeys?.has(key)) {
          (window.__fairKeys ??= new Set()).add(key);
          window.fairSeen(tr.dataset.run, tr.dataset.phase, Date.now());
        }
      }
    }).observe(document.querySelector(panelRoot), { subtree: true, childList: true, attributes: true });
    const bar = document.getElementById('fair-bar');
    new MutationObserver(() => { (window.__fairBar ??= []).push(bar.textContent); })
      .observe(bar, { subtree: true, childList: true, characterData: true });
  }, panelRoot);

  try {
    if (mode === 'unreachable') await unreachable(page);
    else await journey(page, seen);
  } catch (e) {
    // What the panel showed when it went wrong.
    const text = async (sel) => (await page.textContent(sel).catch(() => ''))?.trim();
    problems.push(`${e?.message ?? e}; the panel's status: "${await text('.fair-status')}", error: "${await text('.fair-error')}", runs: "${await text('.fair-runs tbody')}"`);
  }
  ok = problems.length === 0;
} catch (e) {
  problems.push(String(e?.stack ?? e));
} finally {
  await browser.close();
}
for (const p of problems) console.error(`e2e: ${p}`);
process.exit(ok ? 0 : 1);

// journey: run the cells, train from the panel, follow, delete.
async function journey(page, seen) {
  step('run the cells');
  if (lab) {
    await page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-all-cells'));
    await page.waitForFunction(() => {
      const nb = window.jupyterapp.shell.currentWidget;
      const cells = nb?.content?.widgets ?? [];
      return cells.length > 0 && nb.sessionContext.session?.kernel?.status === 'idle' &&
        cells.every((c) => c.model.type !== 'code' || (c.model.executionCount ?? null) !== null);
    }, null, { timeout: 240000 });
  } else {
    await page.evaluate(() => window.Jupyter.notebook.execute_all_cells());
    await page.waitForFunction(() => {
      const cells = window.Jupyter.notebook.get_cells();
      return cells.every((c) => c.cell_type !== 'code' || (c.input_prompt_number !== null && c.input_prompt_number !== '*'));
    }, null, { timeout: 240000 });
  }

  step('a bad value gets one line and the panel stays usable');
  await page.fill('.fair-panel input[name=name]', 'Bad_Name');
  await page.click('.fair-train');
  await page.waitForSelector('.fair-error:has-text("name: use lower-case letters")', { timeout: 5000 });

  step(`train ${run} with one GPU`);
  await page.fill('.fair-panel input[name=name]', run);
  await page.fill('.fair-panel input[name=gpus]', '1');
  const clicked = Date.now();
  await page.click('.fair-train');
  await page.waitForSelector(`tr[data-run="${run}"]`, { timeout: 180000 });
  const listed = Date.now();
  await page.waitForSelector(`tr[data-run="${run}"][data-phase="Succeeded"]`, { timeout: 240000 });
  const gpuCell = await page.textContent(`tr[data-run="${run}"] td.fair-gpus`);
  if (gpuCell?.trim() !== '1') problems.push(`the panel shows ${gpuCell} GPUs for ${run}, want 1`);
  const bar = await page.evaluate(() => window.__fairBar ?? []);
  if (!bar.some((t) => t.includes(run))) problems.push(`the notebook header never showed the run: ${JSON.stringify(bar)}`);

  step('follow its logs');
  await page.click(`tr[data-run="${run}"] .fair-follow`);
  await page.waitForFunction((l) => document.querySelector('.fair-log')?.textContent.includes(l), logLine, { timeout: 60000 });
  if (shot) await page.screenshot({ path: shot });

  step('a run deleted from outside leaves the list');
  await ask('create outside');
  await page.waitForSelector('tr[data-run="outside"]', { timeout: 30000 });
  await ask('delete outside');
  await page.waitForSelector('tr[data-run="outside"]', { state: 'detached', timeout: 30000 });

  step(`delete ${run} from the panel`);
  await page.click(`tr[data-run="${run}"] .fair-delete`);
  await page.waitForSelector(`tr[data-run="${run}"]`, { state: 'detached', timeout: 60000 });
  if ((await page.textContent('.fair-error')).trim() !== '') problems.push(`error line after delete: ${await page.textContent('.fair-error')}`);

  step(`serve the notebook as ${run}-api`);
  await page.fill('.fair-panel input[name=name]', `${run}-api`);
  await page.fill('.fair-panel input[name=gpus]', '0');
  await page.selectOption('.fair-panel select[name=kind]', 'deployment');
  await page.click('.fair-serve');
  await page.waitForSelector(`tr[data-run="${run}-api"][data-phase="Ready"]`, { timeout: 240000 });
  await page.click(`tr[data-run="${run}-api"] .fair-delete`);
  await page.waitForSelector(`tr[data-run="${run}-api"]`, { state: 'detached', timeout: 60000 });

  const phases = seen.filter((s) => s.name === run).map((s) => ({ phase: s.phase, at: s.at }));
  console.log(JSON.stringify({ clicked, listed, phases }));
}

// openInLab waits for the JupyterLab shell, opens the notebook with its
// kernel, and shows fair's panel in the left sidebar.
async function openInLab(page, path) {
  await page.waitForFunction(() => window.jupyterapp?.shell && document.querySelector('#jp-main-dock-panel'), null, { timeout: 60000 });
  await page.evaluate(() => window.jupyterapp.restored);
  await page.evaluate((path) => window.jupyterapp.commands.execute('docmanager:open', { path, factory: 'Notebook' }), path);
  await page.waitForFunction(() => window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle', null, { timeout: 60000 });
  await page.evaluate(() => window.jupyterapp.shell.activateById('fair-panel'));
}

// unreachable: the cluster cannot be reached; the panel says so in one
// line, an action fails with one line too, and the panel stays usable.
async function unreachable(page) {
  step('an unreachable cluster is one line');
  await page.waitForSelector('.fair-error:has-text("cluster: ")', { timeout: 30000 });
  await page.fill('.fair-panel input[name=gpus]', '1');
  await page.click('.fair-train');
  await page.waitForSelector('.fair-error:has-text("train: ")', { timeout: 120000 });
  const err = (await page.textContent('.fair-error')).trim();
  console.log(`e2e: error line: ${err}`);
  if (err.includes('\n')) problems.push(`the error is more than one line: ${err}`);
  await page.fill('.fair-panel input[name=name]', 'Bad_Name');
  await page.click('.fair-serve');
  await page.waitForSelector('.fair-error:has-text("name: use lower-case letters")', { timeout: 5000 });
}
