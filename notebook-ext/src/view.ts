// The panel's DOM, shared by every packaging: plain elements, text set with
// textContent only (run names and messages come from the cluster).
import { age, done, Form, Message, PanelModel, Request } from './model';

export interface Channel {
  send(req: Request): void;
}

export class PanelView {
  readonly node: HTMLElement;
  private form: Record<keyof Form, HTMLInputElement | HTMLSelectElement>;
  private body: HTMLTableSectionElement;
  private errorLine: HTMLElement;
  private statusLine: HTMLElement;
  private logHead: HTMLElement;
  private logBox: HTMLElement;
  private empty: HTMLElement;
  private prefilled = false;

  constructor(
    readonly model: PanelModel,
    private channel: Channel,
    private now: () => number = () => Date.now(),
  ) {
    const n = el('div', 'fair-panel');
    n.setAttribute('data-fair-panel', '');
    n.append(el('h3', 'fair-title', 'fair'));

    const f = el('form', 'fair-form') as HTMLFormElement;
    const gpus = input('gpus', 'number', 'GPUs');
    const workers = input('workers', 'number', 'Workers');
    const kind = el('select', 'fair-input') as HTMLSelectElement;
    kind.name = 'kind';
    const name = input('name', 'text', 'name (optional)');
    this.form = { gpus, workers, kind, name };
    for (const [label, field] of [['GPUs', gpus], ['Workers', workers], ['Kind', kind], ['Name', name]] as const) {
      const l = el('label', 'fair-field');
      l.append(el('span', '', label), field);
      f.append(l);
    }
    const buttons = el('div', 'fair-buttons');
    buttons.append(button('Train', 'fair-train', () => this.act('train')), button('Serve', 'fair-serve', () => this.act('serve')));
    f.append(buttons);
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      this.act('train');
    });

    this.statusLine = el('div', 'fair-status');
    this.errorLine = el('div', 'fair-error');
    this.errorLine.setAttribute('role', 'alert');

    const table = el('table', 'fair-runs');
    const head = el('thead');
    const hr = el('tr');
    // Three columns, details on a second line: the panel lives in a narrow sidebar.
    for (const h of ['Run', 'Status', 'GPUs']) hr.append(el('th', '', h));
    head.append(hr);
    this.body = el('tbody') as HTMLTableSectionElement;
    table.append(head, this.body);
    this.empty = el('div', 'fair-empty', 'No runs in this namespace yet.');

    this.logHead = el('div', 'fair-log-head');
    this.logBox = el('pre', 'fair-log');
    // The table scrolls on its own in a narrow sidebar; the form stays put.
    const wrap = el('div', 'fair-table');
    wrap.append(table);
    n.append(f, this.statusLine, this.errorLine, wrap, this.empty, this.logHead, this.logBox);
    this.node = n;
    this.render();
  }

  /** Applies a kernel message and redraws. */
  handle(msg: Message) {
    if (this.model.handle(msg)) this.render();
  }

  render() {
    const m = this.model;
    const d = m.formDefaults();
    const kinds = m.defaults.kinds ?? [];
    const select = this.form.kind as HTMLSelectElement;
    if (select.options.length !== kinds.length + 1) {
      select.replaceChildren(option('', 'default'), ...kinds.map((k) => option(k, k)));
    }
    if (!this.prefilled && m.version) {
      this.prefilled = true;
      this.form.gpus.value = d.gpus;
      this.form.workers.value = d.workers;
      select.value = d.kind;
    }
    this.statusLine.textContent = m.status;
    const err = [m.clusterError && `cluster: ${m.clusterError}`, m.error].filter(Boolean).join(' | ');
    this.errorLine.textContent = err;
    this.errorLine.style.display = err ? '' : 'none';

    const rows: HTMLElement[] = [];
    for (const r of m.list()) {
      const tr = el('tr', r.mine ? 'fair-mine' : '');
      tr.setAttribute('data-run', r.name);
      tr.setAttribute('data-phase', r.phase);
      tr.title = [r.image, r.message].filter(Boolean).join('\n');
      const name = el('td', 'fair-name');
      const acts = el('div', 'fair-actions');
      if (r.kind !== 'pipeline') {
        acts.append(button('Logs', 'fair-follow', () => this.follow(r.name)));
      }
      acts.append(button('Delete', 'fair-delete', () => this.channel.send(m.delete(r.name))));
      name.append(el('div', 'fair-run', r.name), el('div', 'fair-sub', `${r.kind} · ${age(r.created, this.now())}`), acts);
      const phase = el('td', `fair-phase fair-${r.phase.toLowerCase()}`);
      phase.append(el('div', '', r.phase), el('div', 'fair-sub fair-ready', `${r.ready}/${r.total} ready`));
      tr.append(name, phase, el('td', 'fair-gpus', String(r.gpus)));
      rows.push(tr);
    }
    this.body.replaceChildren(...rows);
    this.empty.style.display = rows.length ? 'none' : '';

    this.logHead.textContent = m.following ? `logs of ${m.following}` : '';
    this.logBox.textContent = m.log.join('\n');
    this.logBox.style.display = m.following ? '' : 'none';
    this.logBox.scrollTop = this.logBox.scrollHeight;
  }

  /** A one-line summary for a status bar: this notebook's active run. */
  summary(): string {
    const r = this.model.active();
    if (!r) return '';
    return `fair: ${r.name} ${r.phase}${done(r.phase) ? '' : ` (${r.ready}/${r.total})`}`;
  }

  private act(action: 'train' | 'serve') {
    const form: Form = {
      gpus: this.form.gpus.value,
      workers: this.form.workers.value,
      kind: this.form.kind.value,
      name: this.form.name.value,
    };
    const req = this.model.action(action, form);
    if (typeof req === 'string') {
      this.model.error = req;
      this.render();
      return;
    }
    this.channel.send(req);
    this.render();
  }

  private follow(run: string) {
    if (this.model.following && this.model.following !== run) {
      this.channel.send({ request: 'unfollow', run: this.model.following });
    }
    this.channel.send(this.model.follow(run));
    this.render();
  }
}

function el(tag: string, cls = '', text?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function input(name: string, type: string, placeholder: string): HTMLInputElement {
  const i = document.createElement('input');
  i.name = name;
  i.type = type;
  i.placeholder = placeholder;
  i.className = 'fair-input';
  if (type === 'number') {
    i.min = '0';
    i.max = '999';
  }
  return i;
}

function option(value: string, text: string): HTMLOptionElement {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  return o;
}

function button(text: string, cls: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `fair-button ${cls}`;
  b.textContent = text;
  b.addEventListener('click', onClick);
  return b;
}

export const CSS = `
.fair-panel { font: 13px sans-serif; padding: 8px; box-sizing: border-box; max-width: 100%; }
.fair-table { overflow-x: auto; max-width: 100%; }
.fair-actions { white-space: nowrap; margin-top: 2px; }
.fair-actions button { margin: 0 4px 2px 0; padding: 1px 6px; font-size: 11px; }
.fair-run { overflow-wrap: anywhere; }
.fair-sub { font-size: 11px; color: #666; }
.fair-panel h3 { margin: 0 0 8px; }
.fair-form { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 8px; }
.fair-field span { display: block; font-size: 11px; color: #555; }
.fair-input { width: 100%; box-sizing: border-box; }
.fair-buttons { grid-column: 1 / 3; display: flex; gap: 6px; margin-top: 4px; }
.fair-status { margin: 6px 0; color: #333; min-height: 1em; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.fair-error { margin: 6px 0; color: #b00020; }
.fair-runs { width: 100%; border-collapse: collapse; margin-top: 6px; }
.fair-runs { font-size: 12px; }
.fair-runs th, .fair-runs td { text-align: left; padding: 2px 3px; border-bottom: 1px solid #eee; vertical-align: top; }
.fair-mine .fair-run { font-weight: bold; }
.fair-succeeded { color: #1b5e20; } .fair-failed, .fair-error { color: #b00020; } .fair-running, .fair-ready { color: #0d47a1; }
.fair-empty { color: #777; margin: 6px 0; }
.fair-log-head { margin-top: 8px; font-weight: bold; }
.fair-log { max-height: 240px; overflow: auto; box-sizing: border-box; max-width: 100%; background: #f6f6f6; padding: 4px; font-size: 12px; white-space: pre-wrap; }
`;
