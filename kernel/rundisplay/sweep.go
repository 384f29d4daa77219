package rundisplay

import (
	"fmt"
	"html"
	"strings"
	"sync"
	"time"

	"github.com/fair-go/fair/kernel"
	"github.com/fair-go/fair/sweep"
)

// SweepDisplay is a sweep started from a cell (%kf sweep): its progress
// while building, then the trials' table and a chart of the objective per
// trial (SVG, no script), updated in place as trials end. The last update
// stays in the saved notebook.
type SweepDisplay struct {
	env   *kernel.MagicEnv
	id    string
	mu    sync.Mutex
	shown bool
	note  string
	st    *sweep.Status
}

// NewSweep starts a sweep display in env's cell.
func NewSweep(env *kernel.MagicEnv) *SweepDisplay {
	return &SweepDisplay{env: env, id: fmt.Sprintf("fair-sweep-%d-%d", env.Count, time.Now().UnixNano())}
}

// Progress shows a progress line (building, pushing, submitting).
func (d *SweepDisplay) Progress(line string) {
	if line = strings.TrimSpace(line); line == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.note = line
	d.show()
}

// Observe shows the sweep's status.
func (d *SweepDisplay) Observe(st *sweep.Status) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.st = st
	d.show()
}

// show publishes the display; the caller holds d.mu.
func (d *SweepDisplay) show() {
	var text strings.Builder
	var h strings.Builder
	h.WriteString(`<div class="fair-sweep">`)
	if st := d.st; st != nil {
		text.WriteString(st.Summary() + "\n")
		_ = st.WriteTable(&text)
		h.WriteString("<p><b>" + html.EscapeString(st.Summary()) + "</b></p>")
		h.WriteString(`<table><tr><th style="text-align:left">trial</th><th style="text-align:left">status</th>`)
		for _, n := range st.ParamNames {
			h.WriteString(`<th style="text-align:left">` + html.EscapeString(n) + "</th>")
		}
		h.WriteString(`<th style="text-align:left">` + html.EscapeString(st.Objective) + `</th><th style="text-align:left">duration</th></tr>`)
		for _, t := range st.Trials {
			name := html.EscapeString(t.Name)
			if st.Best != nil && st.Best.Name == t.Name {
				name = "<b>" + name + " ★</b>"
			}
			vals := map[string]string{}
			for _, a := range t.Params {
				vals[a.Name] = a.Value
			}
			h.WriteString("<tr><td style=\"text-align:left\">" + name + "</td><td style=\"text-align:left\">" + html.EscapeString(t.Phase) + "</td>")
			for _, n := range st.ParamNames {
				h.WriteString(`<td style="text-align:left">` + html.EscapeString(vals[n]) + "</td>")
			}
			obj := "-"
			if t.Objective != nil {
				obj = fmt.Sprintf("%g", *t.Objective)
			}
			h.WriteString(`<td style="text-align:left">` + obj + `</td><td style="text-align:left">` + html.EscapeString(t.Duration()) + "</td></tr>")
		}
		h.WriteString("</table>")
		h.WriteString(st.SVG())
	}
	if d.note != "" && (d.st == nil || !d.st.Done()) {
		text.WriteString(d.note + "\n")
		h.WriteString(`<p style="color:#666">` + html.EscapeString(d.note) + "</p>")
	}
	h.WriteString("</div>")
	bundle := map[string]any{"text/plain": text.String(), "text/html": h.String()}
	if !d.shown {
		d.env.Display(d.id, bundle)
		d.shown = true
		return
	}
	d.env.Update(d.id, bundle)
}
