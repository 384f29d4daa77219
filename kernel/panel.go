package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The "fair" comm target is the notebook panel's API (notebook-ext/).
// docs/notebook-ext.md describes its messages; PanelVersion is theirs.
// The panel only asks: every action runs %kf, so it can do nothing the
// magics and the CLI cannot.
const PanelVersion = 1

// Run is one row of the panel's run list.
type Run struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Phase     string `json:"phase"`
	Ready     int    `json:"ready"`
	Total     int    `json:"total"`
	GPUs      int    `json:"gpus"`
	Created   string `json:"created,omitempty"` // RFC 3339
	Image     string `json:"image,omitempty"`
	Message   string `json:"message,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	// Mine marks the runs this kernel started.
	Mine bool `json:"mine"`
}

// RunSource lists the runs of the notebook's namespace (jobs of every
// kind, endpoints, pipelines). The %kf magic provides it.
type RunSource func(ctx context.Context) ([]Run, error)

// PanelDefaults are what the panel's form starts with: the kernel's
// configuration (fair.yaml, FAIR_*, %kf config).
type PanelDefaults func() map[string]any

// WithRunSource sets what the "fair" comm lists, and the form's defaults.
func WithRunSource(f RunSource, defaults PanelDefaults) Option {
	return func(k *Kernel) { k.runs, k.panelDefaults = f, defaults }
}

// PanelInterval is how often the kernel looks at the cluster while a
// panel is open, to push what changed.
var PanelInterval = 500 * time.Millisecond

// panelFlags are the flags a panel action may set, with their checks;
// anything else is refused before %kf runs.
var panelFlags = map[string]*regexp.Regexp{
	"gpus":    regexp.MustCompile(`^[0-9]{1,3}$`),
	"workers": regexp.MustCompile(`^[0-9]{1,3}$`),
	"kind":    regexp.MustCompile(`^[a-z0-9]{1,20}$`),
	"name":    regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`),
	"model":   regexp.MustCompile(`^[a-z0-9][-a-z0-9:.]{0,80}$`),
}

var runName = panelFlags["name"]

// fairTarget serves the panels of one kernel.
type fairTarget struct {
	k *Kernel

	mu      sync.Mutex
	comms   map[string]*panelComm
	watch   context.CancelFunc // the cluster watcher, while a panel is open
	mine    map[string]bool
	actions sync.WaitGroup
}

type panelComm struct {
	c       *Comm
	follows map[string]context.CancelFunc
}

type panelRequest struct {
	Request string         `json:"request"`
	ID      string         `json:"id"`
	Action  string         `json:"action"`
	Run     string         `json:"run"`
	Flags   map[string]any `json:"flags"`
}

func (f *fairTarget) Open(c *Comm, data json.RawMessage) {
	f.mu.Lock()
	if f.comms == nil {
		f.comms = map[string]*panelComm{}
		f.mine = map[string]bool{}
	}
	f.comms[c.ID] = &panelComm{c: c, follows: map[string]context.CancelFunc{}}
	start := f.watch == nil
	if start {
		ctx, cancel := context.WithCancel(context.Background())
		f.watch = cancel
		go f.watchRuns(ctx)
	}
	f.mu.Unlock()
	hello := map[string]any{"event": "hello", "version": PanelVersion, "defaults": f.defaults()}
	runs, err := f.list(context.Background())
	hello["runs"] = runs
	if err != nil {
		hello["error"] = oneLine(err)
	}
	c.Send(hello)
}

func (f *fairTarget) Close(c *Comm, data json.RawMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if pc := f.comms[c.ID]; pc != nil {
		for _, stop := range pc.follows {
			stop()
		}
	}
	delete(f.comms, c.ID)
	if len(f.comms) == 0 && f.watch != nil {
		f.watch()
		f.watch = nil
	}
}

func (f *fairTarget) Message(c *Comm, data json.RawMessage) {
	var req panelRequest
	if err := json.Unmarshal(data, &req); err != nil {
		c.Send(map[string]any{"event": "error", "error": "bad request: " + oneLine(err)})
		return
	}
	switch req.Request {
	case "runs":
		runs, err := f.list(context.Background())
		msg := map[string]any{"event": "runs", "runs": runs}
		if err != nil {
			msg["error"] = oneLine(err)
		}
		c.Send(msg)
	case "kernel":
		c.Send(map[string]any{"event": "kernel", "workdir": f.k.exec.Dir(), "cells": len(f.k.History())})
	case "action":
		f.action(c, req)
	case "follow":
		f.follow(c, req.Run)
	case "unfollow":
		f.mu.Lock()
		if pc := f.comms[c.ID]; pc != nil && pc.follows[req.Run] != nil {
			pc.follows[req.Run]()
			delete(pc.follows, req.Run)
		}
		f.mu.Unlock()
	default:
		c.Send(map[string]any{"event": "error", "id": req.ID, "error": fmt.Sprintf("unknown request %q", req.Request)})
	}
}

func (f *fairTarget) defaults() map[string]any {
	if f.k.panelDefaults == nil {
		return map[string]any{}
	}
	return f.k.panelDefaults()
}

func (f *fairTarget) list(ctx context.Context) ([]Run, error) {
	if f.k.runs == nil {
		return []Run{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	runs, err := f.k.runs(ctx)
	if runs == nil {
		runs = []Run{}
	}
	f.mu.Lock()
	for i := range runs {
		runs[i].Mine = f.mine[runs[i].Name]
	}
	f.mu.Unlock()
	sort.Slice(runs, func(i, j int) bool { return runs[i].Name < runs[j].Name })
	return runs, err
}

// panelArgs turns an action into %kf's arguments, refusing what the panel
// may not pass.
func panelArgs(req panelRequest) (string, error) {
	var args []string
	switch req.Action {
	case "train", "serve":
		args = append(args, req.Action)
		keys := make([]string, 0, len(req.Flags))
		for k := range req.Flags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			check, ok := panelFlags[k]
			if !ok {
				return "", fmt.Errorf("%s: unknown flag %q (the panel sets gpus, workers, kind, name and model)", req.Action, k)
			}
			v := flagValue(req.Flags[k])
			if v == "" {
				continue
			}
			if !check.MatchString(v) {
				return "", fmt.Errorf("%s: --%s %q is not valid", req.Action, k, v)
			}
			args = append(args, "--"+k, v)
		}
	case "delete", "logs":
		if !runName.MatchString(req.Run) {
			return "", fmt.Errorf("%s: run name %q is not valid", req.Action, req.Run)
		}
		args = append(args, req.Action, req.Run)
	default:
		return "", fmt.Errorf("unknown action %q (train, serve, delete, logs)", req.Action)
	}
	return strings.Join(args, " "), nil
}

func flagValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	case float64:
		if x != float64(int64(x)) {
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
		return strconv.FormatInt(int64(x), 10)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// action runs %kf for the panel in the background, streaming its output
// and ending with a result.
func (f *fairTarget) action(c *Comm, req panelRequest) {
	args, err := panelArgs(req)
	if err != nil {
		c.Send(map[string]any{"event": "result", "id": req.ID, "ok": false, "error": oneLine(err)})
		return
	}
	name, _ := req.Flags["name"].(string)
	if req.Action == "train" || req.Action == "serve" {
		if name == "" {
			// The run gets a name now, so the panel can show it at once.
			name = f.newName(req.Action)
			args += " --name " + name
		}
		f.mu.Lock()
		f.mine[name] = true
		f.mu.Unlock()
	} else {
		name = req.Run
	}
	c.Send(map[string]any{"event": "started", "id": req.ID, "run": name, "command": "%kf " + args})
	f.actions.Add(1)
	go func() {
		defer f.actions.Done()
		ctx := context.Background()
		var tail lastLines
		err := f.k.RunMagic(ctx, "kf", args, func(stream, text string) {
			tail.add(text)
			c.Send(map[string]any{"event": "output", "id": req.ID, "stream": stream, "text": text})
		})
		res := map[string]any{"event": "result", "id": req.ID, "ok": err == nil, "run": name}
		if err != nil {
			res["error"] = oneLine(magicError(err, tail.last()))
		}
		c.Send(res)
	}()
}

func (f *fairTarget) newName(verb string) string {
	return fmt.Sprintf("nb-%s-%s", verb, time.Now().UTC().Format("150405"))
}

// follow streams a run's logs (%kf logs NAME -f) to one panel.
func (f *fairTarget) follow(c *Comm, run string) {
	if !runName.MatchString(run) {
		c.Send(map[string]any{"event": "error", "error": fmt.Sprintf("follow: run name %q is not valid", run)})
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.mu.Lock()
	pc := f.comms[c.ID]
	if pc == nil {
		f.mu.Unlock()
		cancel()
		return
	}
	if stop := pc.follows[run]; stop != nil {
		stop()
	}
	pc.follows[run] = cancel
	f.mu.Unlock()
	go func() {
		var partial string
		var tail lastLines
		err := f.k.RunMagic(ctx, "kf", "logs "+run+" -f", func(stream, text string) {
			tail.add(text)
			text = partial + text
			lines := strings.Split(text, "\n")
			partial = lines[len(lines)-1]
			for _, l := range lines[:len(lines)-1] {
				c.Send(map[string]any{"event": "log", "run": run, "stream": stream, "text": l})
			}
		})
		if partial != "" {
			c.Send(map[string]any{"event": "log", "run": run, "text": partial})
		}
		if err != nil && ctx.Err() == nil {
			c.Send(map[string]any{"event": "error", "run": run, "error": oneLine(magicError(err, tail.last()))})
		}
		c.Send(map[string]any{"event": "unfollowed", "run": run})
	}()
}

// watchRuns pushes what changed in the run list to every open panel,
// until the last one closes: the browser never polls.
func (f *fairTarget) watchRuns(ctx context.Context) {
	last := map[string]Run{}
	lastErr := ""
	tick := time.NewTicker(PanelInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		runs, err := f.list(ctx)
		if ctx.Err() != nil {
			return
		}
		errText := ""
		if err != nil {
			errText = oneLine(err)
		}
		if errText != lastErr {
			f.broadcast(map[string]any{"event": "error", "error": errText, "source": "runs"})
			lastErr = errText
		}
		if err != nil {
			continue
		}
		now := map[string]Run{}
		for _, r := range runs {
			now[r.Name] = r
			if old, ok := last[r.Name]; !ok || !reflect.DeepEqual(old, r) {
				f.broadcast(map[string]any{"event": "run", "run": r, "previous": old.Phase})
			}
		}
		for name := range last {
			if _, ok := now[name]; !ok {
				f.broadcast(map[string]any{"event": "gone", "run": name})
			}
		}
		last = now
	}
}

func (f *fairTarget) broadcast(msg map[string]any) {
	f.mu.Lock()
	var cs []*Comm
	for _, pc := range f.comms {
		cs = append(cs, pc.c)
	}
	f.mu.Unlock()
	for _, c := range cs {
		c.Send(msg)
	}
}

// magicError is the error a panel shows: a magic's cell error carries its
// message in Value; a failed command's last line says more than "exit 1".
func magicError(err error, last string) error {
	var ce *CellError
	if errors.As(err, &ce) && ce.Value != "" {
		return fmt.Errorf("%s", ce.Value)
	}
	if last != "" {
		return fmt.Errorf("%s", last)
	}
	return err
}

func oneLine(err error) string {
	s := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// lastLines keeps the last non-empty line written.
type lastLines struct {
	mu   sync.Mutex
	line string
}

func (l *lastLines) add(text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range strings.Split(text, "\n") {
		if s = strings.TrimSpace(s); s != "" {
			l.line = s
		}
	}
}

func (l *lastLines) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.line
}
