// The classic Notebook (6.x) packaging: a panel on the right of the page,
// a toolbar button to show it, and the comm reopened whenever the kernel
// restarts. Loaded by requirejs as nbextensions/fair/main.
import { Message, PanelModel, Request } from './model';
import { CSS, PanelView } from './view';

// The parts of the classic Notebook's API the panel uses.
interface Comm {
  send(data: unknown): void;
  on_msg(cb: (msg: { content: { data: Message } }) => void): void;
  on_close(cb: () => void): void;
}
interface Jupyter {
  notebook: { kernel?: { name?: string; comm_manager: { new_comm(target: string, data: unknown): Comm }; is_connected?(): boolean } };
  toolbar: { add_buttons_group(buttons: { label: string; icon: string; callback: () => void; id?: string }[]): void };
}
interface Events {
  on(event: string, cb: () => void): void;
}

export function loadClassic(Jupyter: Jupyter, events: Events) {
  const style = document.createElement('style');
  style.textContent =
    CSS +
    `#fair-side { position: fixed; top: 110px; right: 0; bottom: 0; width: 420px; overflow: auto; background: #fff;
       border-left: 1px solid #ccc; z-index: 100; box-shadow: -2px 0 4px rgba(0,0,0,.08); }
     #fair-side.fair-hidden { display: none; }
     body.fair-open #notebook { padding-right: 420px; box-sizing: border-box; }
     #fair-bar { margin-left: 8px; font-size: 12px; color: #0d47a1; }`;
  document.head.append(style);

  const side = document.createElement('div');
  side.id = 'fair-side';
  document.body.append(side);
  document.body.classList.add('fair-open');
  const bar = document.createElement('span');
  bar.id = 'fair-bar';
  document.getElementById('kernel_indicator')?.before(bar);

  let comm: Comm | undefined;
  const channel = { send: (req: Request) => (comm ? comm.send(req) : view.handle({ event: 'error', error: 'no fair kernel connected' })) };
  let model = new PanelModel();
  let view = new PanelView(model, channel);
  side.append(view.node);

  const open = () => {
    const kernel = Jupyter.notebook.kernel;
    if (!kernel) return;
    model = new PanelModel();
    view = new PanelView(model, channel);
    side.replaceChildren(view.node);
    const c = kernel.comm_manager.new_comm('fair', {});
    comm = c;
    c.on_msg((msg) => {
      view.handle(msg.content.data);
      bar.textContent = view.summary();
    });
    c.on_close(() => {
      if (comm !== c) return;
      comm = undefined;
      view.handle({ event: 'error', error: `this kernel (${kernel.name ?? 'unknown'}) has no fair panel: use the Go (fair) kernel` });
    });
  };
  events.on('kernel_ready.Kernel', open);
  if (Jupyter.notebook.kernel?.is_connected?.()) open();

  Jupyter.toolbar.add_buttons_group([
    { label: 'fair panel', icon: 'fa-rocket', id: 'fair-toggle', callback: () => document.body.classList.toggle('fair-open', !side.classList.toggle('fair-hidden')) },
  ]);
}
