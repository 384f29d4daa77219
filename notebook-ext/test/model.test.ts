import { describe, expect, it } from 'vitest';
import { age, PanelModel, PROTOCOL_VERSION, Run } from '../src/model';

const run = (name: string, phase: string, mine = false): Run => ({ name, kind: 'job', phase, ready: 0, total: 1, gpus: 1, mine });

describe('PanelModel', () => {
  it('takes the run list and defaults from hello', () => {
    const m = new PanelModel();
    m.handle({ event: 'hello', version: PROTOCOL_VERSION, defaults: { gpus: 2, kind: 'pytorchjob', kinds: ['job', 'pytorchjob'] }, runs: [run('b', 'Running'), run('a', 'Succeeded', true)] });
    expect(m.list().map((r) => r.name)).toEqual(['a', 'b']);
    expect(m.formDefaults()).toEqual({ gpus: '2', workers: '0', kind: 'pytorchjob', name: '' });
    expect(m.error).toBe('');
  });

  it('refuses a kernel speaking another protocol version, in one line', () => {
    const m = new PanelModel();
    m.handle({ event: 'hello', version: 99, runs: [] });
    expect(m.error).toMatch(/protocol 99/);
  });

  it('updates and removes runs from events, timing phase changes', () => {
    let now = 1000;
    const m = new PanelModel(() => now);
    m.handle({ event: 'hello', version: 1, runs: [run('x', 'Pending', true)] });
    expect(m.active()?.name).toBe('x');
    now = 5000;
    m.handle({ event: 'run', run: run('x', 'Succeeded', true) });
    expect(m.runs.get('x')?.phase).toBe('Succeeded');
    expect(m.seen.get('x')).toBe(5000);
    expect(m.active()).toBeUndefined();
    now = 9000;
    m.handle({ event: 'run', run: { ...run('x', 'Succeeded', true), ready: 1 } });
    expect(m.seen.get('x')).toBe(5000); // same phase: not a change
    expect(m.handle({ event: 'gone', run: 'x' })).toBe(true);
    expect(m.list()).toEqual([]);
  });

  it('validates the form before anything is sent', () => {
    const m = new PanelModel();
    m.handle({ event: 'hello', version: 1, defaults: { kinds: ['job', 'pytorchjob'] }, runs: [] });
    expect(m.action('train', { gpus: 'two', workers: '', kind: '', name: '' })).toMatch(/gpus: want a whole number/);
    expect(m.action('train', { gpus: '1', workers: '', kind: 'sparkjob', name: '' })).toMatch(/kind: want one of job, pytorchjob/);
    expect(m.action('train', { gpus: '1', workers: '', kind: '', name: 'Bad_Name' })).toMatch(/name: use lower-case/);
    const req = m.action('train', { gpus: '1', workers: '2', kind: 'pytorchjob', name: 'fit-1' });
    expect(req).toEqual({ request: 'action', id: 'a1', action: 'train', flags: { gpus: 1, workers: 2, kind: 'pytorchjob', name: 'fit-1' } });
    expect(m.pending.get('a1')).toBe('train');
  });

  it('shows an action failure as one line and clears it on success', () => {
    const m = new PanelModel();
    const req = m.action('serve', { gpus: '', workers: '', kind: '', name: '' });
    const id = typeof req === 'string' ? '' : (req as { id: string }).id;
    m.handle({ event: 'output', id, text: 'building\ncompiling In[3]\n' });
    expect(m.status).toBe('serve: compiling In[3]');
    m.handle({ event: 'result', id, ok: false, error: 'no predict function in the cells' });
    expect(m.error).toBe('serve: no predict function in the cells');
    expect(m.pending.size).toBe(0);
    const again = m.action('serve', { gpus: '', workers: '', kind: '', name: '' }) as { id: string };
    m.handle({ event: 'result', id: again.id, ok: true, run: 'nb-serve' });
    expect(m.error).toBe('');
    expect(m.status).toBe('serve: done');
  });

  it('keeps a bounded log tail of the followed run only', () => {
    const m = new PanelModel();
    m.follow('fit');
    m.handle({ event: 'log', run: 'other', text: 'nope' });
    for (let i = 0; i < 250; i++) m.handle({ event: 'log', run: 'fit', text: `line ${i}` });
    expect(m.log.length).toBe(200);
    expect(m.log[199]).toBe('line 249');
  });

  it('tells cluster errors from action errors', () => {
    const m = new PanelModel();
    m.handle({ event: 'error', source: 'runs', error: 'cluster unreachable' });
    expect(m.clusterError).toBe('cluster unreachable');
    m.handle({ event: 'error', source: 'runs', error: '' });
    expect(m.clusterError).toBe('');
    expect(m.handle({ event: 'bogus' })).toBe(false);
  });
});

describe('age', () => {
  it('prints ages as kubectl does', () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    expect(age('2026-11-30T11:59:15Z', now)).toBe('45s');
    expect(age('2026-11-30T11:30:00Z', now)).toBe('30m');
    expect(age('2026-11-29T12:00:00Z', now)).toBe('24h');
    expect(age(undefined, now)).toBe('-');
    expect(age('garbage', now)).toBe('-');
  });
});
