// The JupyterLab 4 packaging: the panel in the left sidebar and a status
// bar item, connected to the kernel of the notebook in focus over the same
// "fair" comm as the classic Notebook's.
import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IStatusBar } from '@jupyterlab/statusbar';
import { Kernel } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';
import { Message, PanelModel, Request } from './model';
import { CSS, PanelView } from './view';

export const plugin: JupyterFrontEndPlugin<void> = {
  id: 'fair-notebook-ext:panel',
  description: "fair's panel: the namespace's runs; Train, Serve, Logs and Delete through %kf",
  autoStart: true,
  requires: [ILabShell, INotebookTracker],
  optional: [IStatusBar],
  activate: (_app: JupyterFrontEnd, shell: ILabShell, tracker: INotebookTracker, statusBar: IStatusBar | null) => {
    const style = document.createElement('style');
    style.textContent = CSS + '.fair-lab { overflow-y: auto; overflow-x: hidden; background: var(--jp-layout-color1, #fff); }';
    document.head.append(style);

    const widget = new Widget();
    widget.id = 'fair-panel';
    widget.title.label = 'fair';
    widget.title.caption = 'fair: runs on the cluster';
    widget.addClass('fair-lab');
    const bar = new Widget();
    bar.node.id = 'fair-bar';
    statusBar?.registerStatusItem('fair-notebook-ext:status', { item: bar, align: 'left', rank: 100 });

    let comm: Kernel.IComm | undefined;
    let kernel: Kernel.IKernelConnection | null = null;
    const channel = {
      send: (req: Request) =>
        comm ? comm.send(req as never) : view.handle({ event: 'error', error: 'no fair kernel connected: open a notebook with the Go (fair) kernel' }),
    };
    let view = new PanelView(new PanelModel(), channel);
    widget.node.append(view.node);

    // connect opens the comm on k (again after a restart), with a fresh panel.
    const connect = (k: Kernel.IKernelConnection | null) => {
      if (comm) {
        const old = comm;
        comm = undefined;
        if (!old.isDisposed) old.close();
      }
      kernel = k;
      view = new PanelView(new PanelModel(), channel);
      widget.node.replaceChildren(view.node);
      bar.node.textContent = '';
      if (!k) return;
      const c = k.createComm('fair');
      comm = c;
      c.onMsg = (msg) => {
        view.handle(msg.content.data as unknown as Message);
        bar.node.textContent = view.summary();
      };
      c.onClose = () => {
        if (comm !== c) return;
        comm = undefined;
        view.handle({ event: 'error', error: `this kernel (${k.name}) has no fair panel: use the Go (fair) kernel` });
      };
      c.open({});
    };

    let current: NotebookPanel | null = null;
    const onKernel = () => connect(current?.sessionContext.session?.kernel ?? null);
    const onStatus = (_: unknown, status: Kernel.Status) => {
      // A restart keeps the kernel's id and drops its comms.
      if (status === 'restarting' || status === 'autorestarting') comm = undefined;
      else if (status === 'idle' && !comm && current?.sessionContext.session?.kernel) onKernel();
    };
    const follow = (panel: NotebookPanel | null) => {
      if (current) {
        current.sessionContext.kernelChanged.disconnect(onKernel);
        current.sessionContext.statusChanged.disconnect(onStatus);
      }
      current = panel;
      if (!panel) return;
      panel.sessionContext.kernelChanged.connect(onKernel);
      panel.sessionContext.statusChanged.connect(onStatus);
      void panel.sessionContext.ready.then(() => {
        if (current === panel && panel.sessionContext.session?.kernel !== kernel) onKernel();
      });
    };
    tracker.currentChanged.connect((_, panel) => follow(panel));
    follow(tracker.currentWidget);
    shell.add(widget, 'left', { rank: 1000 });
  },
};

export default plugin;
