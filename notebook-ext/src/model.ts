// The panel's state, kept from the messages of the kernel's "fair" comm
// (docs/notebook-ext.md, version 1). Pure logic: the view renders it, the
// tests drive it with messages.

export const PROTOCOL_VERSION = 1;

export interface Run {
  name: string;
  kind: string;
  phase: string;
  ready: number;
  total: number;
  gpus: number;
  created?: string;
  image?: string;
  message?: string;
  namespace?: string;
  mine: boolean;
}

export interface Defaults {
  gpus?: number;
  workers?: number;
  kind?: string;
  kinds?: string[];
  namespace?: string;
  registry?: string;
  model?: string;
}

export interface Form {
  gpus: string;
  workers: string;
  kind: string;
  name: string;
}

export type Request =
  | { request: 'runs' }
  | { request: 'action'; id: string; action: 'train' | 'serve'; flags: Record<string, string | number> }
  | { request: 'action'; id: string; action: 'delete'; run: string }
  | { request: 'follow'; run: string }
  | { request: 'unfollow'; run: string };

/** What the kernel sends; fields depend on the event. */
export interface Message {
  event: string;
  version?: number;
  runs?: Run[];
  run?: Run | string;
  previous?: string;
  defaults?: Defaults;
  id?: string;
  ok?: boolean;
  error?: string;
  text?: string;
  stream?: string;
  source?: string;
  command?: string;
}

const MAX_LOG = 200;
const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export class PanelModel {
  runs = new Map<string, Run>();
  defaults: Defaults = {};
  /** One line: the last thing that went wrong, shown until the next success. */
  error = '';
  /** The cluster's own error (unreachable, no rights), while it lasts. */
  clusterError = '';
  /** What the panel is doing: "train: building..." */
  status = '';
  following = '';
  log: string[] = [];
  /** Actions sent and not answered, by id. */
  pending = new Map<string, string>();
  /** When each run's phase last changed, as the panel saw it (ms). */
  seen = new Map<string, number>();
  version = 0;
  private nextID = 1;

  constructor(private now: () => number = () => Date.now()) {}

  /** Applies one message; returns whether anything shown changed. */
  handle(msg: Message): boolean {
    switch (msg.event) {
      case 'hello':
        this.version = msg.version ?? 0;
        if (this.version !== PROTOCOL_VERSION) {
          this.error = `the kernel speaks panel protocol ${this.version}, this panel ${PROTOCOL_VERSION}: update fair's notebook extension`;
        }
        this.defaults = msg.defaults ?? {};
        this.setRuns(msg.runs ?? []);
        this.clusterError = msg.error ?? '';
        return true;
      case 'runs':
        this.setRuns(msg.runs ?? []);
        this.clusterError = msg.error ?? '';
        return true;
      case 'run': {
        const r = msg.run as Run;
        if (!r || typeof r !== 'object' || !r.name) return false;
        const old = this.runs.get(r.name);
        if (!old || old.phase !== r.phase) this.seen.set(r.name, this.now());
        this.runs.set(r.name, r);
        return true;
      }
      case 'gone': {
        const name = msg.run as string;
        this.seen.delete(name);
        return this.runs.delete(name);
      }
      case 'started':
        this.status = `${msg.command ?? ''}: started`;
        return true;
      case 'output':
        if (msg.id && this.pending.has(msg.id)) {
          const line = lastLine(msg.text ?? '');
          if (line) this.status = `${this.pending.get(msg.id)}: ${line}`;
          return true;
        }
        return false;
      case 'result': {
        const what = (msg.id && this.pending.get(msg.id)) || 'action';
        if (msg.id) this.pending.delete(msg.id);
        if (msg.ok) {
          this.status = `${what}: done`;
          this.error = '';
        } else {
          this.status = '';
          this.error = `${what}: ${msg.error ?? 'failed'}`;
        }
        return true;
      }
      case 'log':
        if (msg.run !== this.following) return false;
        this.log.push(msg.text ?? '');
        if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
        return true;
      case 'unfollowed':
        return false;
      case 'error':
        if (msg.source === 'runs') {
          this.clusterError = msg.error ?? '';
        } else if (msg.error) {
          this.error = msg.error;
        }
        return true;
    }
    return false;
  }

  private setRuns(runs: Run[]) {
    const next = new Map<string, Run>();
    for (const r of runs) {
      const old = this.runs.get(r.name);
      if (!old || old.phase !== r.phase) this.seen.set(r.name, this.now());
      next.set(r.name, r);
    }
    this.runs = next;
  }

  /** Runs in display order: this notebook's first, then by name. */
  list(): Run[] {
    return [...this.runs.values()].sort((a, b) => Number(b.mine) - Number(a.mine) || a.name.localeCompare(b.name));
  }

  /** Whether a run this notebook started is still going (for a status bar). */
  active(): Run | undefined {
    return this.list().find((r) => r.mine && !done(r.phase));
  }

  formDefaults(): Form {
    return {
      gpus: String(this.defaults.gpus ?? 0),
      workers: String(this.defaults.workers ?? 0),
      kind: this.defaults.kind ?? '',
      name: '',
    };
  }

  /** The request of Train or Serve with the form, or an error to show. */
  action(action: 'train' | 'serve', form: Form): Request | string {
    const flags: Record<string, string | number> = {};
    for (const [k, v] of [['gpus', form.gpus], ['workers', form.workers]] as const) {
      const s = v.trim();
      if (s === '') continue;
      if (!/^\d{1,3}$/.test(s)) return `${k}: want a whole number, got "${v}"`;
      if (Number(s) > 0) flags[k] = Number(s);
    }
    const kind = form.kind.trim();
    if (kind) {
      const kinds = this.defaults.kinds ?? [];
      if (kinds.length && !kinds.includes(kind)) return `kind: want one of ${kinds.join(', ')}, got "${kind}"`;
      flags.kind = kind;
    }
    const name = form.name.trim();
    if (name) {
      if (!NAME.test(name)) return `name: use lower-case letters, digits and '-', got "${name}"`;
      flags.name = name;
    }
    const id = this.newID();
    this.pending.set(id, action);
    this.error = '';
    return { request: 'action', id, action, flags };
  }

  delete(run: string): Request {
    const id = this.newID();
    this.pending.set(id, `delete ${run}`);
    return { request: 'action', id, action: 'delete', run };
  }

  follow(run: string): Request {
    this.following = run;
    this.log = [];
    return { request: 'follow', run };
  }

  private newID(): string {
    return `a${this.nextID++}`;
  }
}

export function done(phase: string): boolean {
  return ['Succeeded', 'Failed', 'Error', 'Completed'].includes(phase);
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.length ? lines[lines.length - 1] : '';
}

/** How long ago an RFC 3339 time was, as kubectl prints ages. */
export function age(created: string | undefined, now: number): string {
  if (!created) return '-';
  const t = Date.parse(created);
  if (Number.isNaN(t)) return '-';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
