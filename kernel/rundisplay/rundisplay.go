// Package rundisplay shows a run started from a notebook cell (%kf train,
// %kf serve) as one display updated in place: while building, the latest
// progress line; once submitted, its phase, replicas, GPUs, elapsed time,
// image digest and how to follow it.
package rundisplay

import (
	"fmt"
	"html"
	"strings"
	"sync"
	"time"

	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/kernel"
)

// Display is the live status of a run, updated in place in the cell as
// events arrive and once a second for the elapsed time.
type Display struct {
	env   *kernel.MagicEnv
	id    string
	mu    sync.Mutex
	shown bool
	start time.Time
	run   string
	kind  deployer.Kind
	st    *deployer.Status
	note  string
	done  chan struct{}
	once  sync.Once
}

// New starts a display in env's cell; it shows once the first event or
// progress line arrives.
func New(env *kernel.MagicEnv) *Display {
	d := &Display{env: env, id: fmt.Sprintf("fair-status-%d-%d", env.Count, time.Now().UnixNano()), done: make(chan struct{})}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-d.done:
				return
			case <-t.C:
				d.mu.Lock()
				if d.shown && (d.st == nil || !d.st.Phase.Done()) {
					d.show()
				}
				d.mu.Unlock()
			}
		}
	}()
	return d
}

// Stop ends the display's clock.
func (d *Display) Stop() { d.once.Do(func() { close(d.done) }) }

// Progress shows a line of the command's progress (building, pushing,
// submitting) as the display's latest event.
func (d *Display) Progress(line string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.start.IsZero() {
		d.start = time.Now()
	}
	d.note = line
	d.show()
}

// IsWarning reports a progress line that is a warning for the user.
func IsWarning(line string) bool {
	l := strings.ToLower(line)
	return strings.HasPrefix(l, "warning") || strings.Contains(l, ": warning:")
}

// Lines is a writer that hands what is written to it to Each a line at a
// time; a carriage return (a terminal's redraw) ends a line too.
type Lines struct {
	Each func(string)
	mu   sync.Mutex
	buf  []byte
}

func (l *Lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := strings.IndexAny(string(l.buf), "\r\n")
		if i < 0 {
			break
		}
		line := string(l.buf[:i])
		l.buf = l.buf[i+1:]
		if strings.TrimSpace(line) != "" {
			l.Each(line)
		}
	}
	return len(p), nil
}

// Flush hands on a last line that had no newline.
func (l *Lines) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if strings.TrimSpace(string(l.buf)) != "" {
		l.Each(string(l.buf))
	}
	l.buf = nil
}

// Observe is a deployer.Observer: it shows the run's events.
func (d *Display) Observe(e deployer.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.start.IsZero() {
		d.start = time.Now()
	}
	d.run, d.kind = e.Run, e.Kind
	if e.Status != nil {
		st := *e.Status
		d.st = &st
	}
	if e.Message != "" {
		d.note = e.Message
		if e.Replica != "" {
			d.note = e.Replica + ": " + e.Message
		}
	}
	d.show()
}

// show publishes the display; the caller holds d.mu.
func (d *Display) show() {
	text, h := render(d.run, d.kind, d.st, d.note, time.Since(d.start).Round(time.Second))
	b := map[string]any{"text/plain": text, "text/html": h}
	if d.shown {
		d.env.Update(d.id, b)
		return
	}
	d.shown = true
	d.env.Display(d.id, b)
}

// render is the display's text and HTML for run (its name and kind, once
// submitted), its last status and event.
func render(run string, runKind deployer.Kind, status *deployer.Status, note string, elapsed time.Duration) (text, h string) {
	kind, name, ns := string(runKind), run, ""
	phase, ready, total, gpus, image := "Pending", 0, 0, 0, ""
	state := "ready"
	if st := status; st != nil {
		kind, name, ns = string(st.Kind), st.Name, st.Namespace
		phase, ready, total, gpus, image = string(st.Phase), st.Ready, st.Total, st.GPUs, st.Image
		if st.Phase.Done() && st.Kind.Training() {
			// A finished run counts the replicas whose program ran.
			state, ready = "ran", st.Total-st.NotStarted
		}
	}
	if i := strings.LastIndex(image, "@"); i >= 0 {
		image = image[i+1:]
	}
	cell := func(k, v string) string {
		return "<tr><th style=\"text-align:left\">" + k + "</th><td style=\"text-align:left\">" + html.EscapeString(v) + "</td></tr>"
	}
	if name == "" {
		// Not submitted yet: building and pushing.
		text = fmt.Sprintf("%s  %s", note, elapsed)
		h = "<table>" + cell("progress", note) + cell("elapsed", elapsed.String()) + "</table>"
	} else {
		reach := fmt.Sprintf("%%kf logs %s -f", name)
		if ns != "" {
			reach += fmt.Sprintf("  |  kubectl -n %s get %s %s", ns, kind, name)
		}
		// Before the first status, only the name and kind are known.
		ref, replicas, gpuText := name, "-", "-"
		if kind != "" {
			ref = kind + "/" + name
		}
		if status != nil {
			replicas, gpuText = fmt.Sprintf("%d/%d", ready, total), fmt.Sprint(gpus)
		}
		text = fmt.Sprintf("%s  %s  replicas %s %s  GPUs %s  %s  image %s\n%s", ref, phase, replicas, state, gpuText, elapsed, image, reach)
		if note != "" {
			text += "\n" + note
		}
		h = "<table>" + cell("run", ref) + cell("phase", phase) +
			cell("replicas "+state, replicas) + cell("GPUs", gpuText) +
			cell("elapsed", elapsed.String()) + cell("image", image) + cell("follow", reach)
		if note != "" {
			h += cell("last event", note)
		}
		h += "</table>"
	}
	return text, h
}
