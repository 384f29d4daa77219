package sweep

import (
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Summary is one line: the sweep's phase, trial counts and best trial.
func (s *Status) Summary() string {
	b := &strings.Builder{}
	if n := len(s.Trials); n > s.MaxTrials && s.MaxTrials > 0 {
		// Katib starts another trial for one that ended without a metric.
		fmt.Fprintf(b, "sweep %s: %s, %d trials for %d asked, as Katib runs another for each that reports no metric (%d running, %d succeeded, %d failed)", s.Name, s.Phase, n, s.MaxTrials, s.Running, s.Succeeded, s.FailedCount)
	} else {
		fmt.Fprintf(b, "sweep %s: %s, %d/%d trials (%d running, %d succeeded, %d failed)", s.Name, s.Phase, n, s.MaxTrials, s.Running, s.Succeeded, s.FailedCount)
	}
	if s.Best != nil && s.Best.Objective != nil {
		fmt.Fprintf(b, ", best %s=%s (%s)", s.Objective, num(*s.Best.Objective), s.Best.Name)
	}
	return b.String()
}

// WriteTable writes the trials as a table, the best one marked with *.
func (s *Status) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := []string{"TRIAL", "STATUS"}
	head = append(head, s.ParamNames...)
	head = append(head, strings.ToUpper(s.Objective), "DURATION")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, t := range s.Trials {
		mark := " "
		if s.Best != nil && s.Best.Name == t.Name {
			mark = "*"
		}
		row := []string{t.Name + mark, t.Phase}
		vals := map[string]string{}
		for _, a := range t.Params {
			vals[a.Name] = a.Value
		}
		for _, n := range s.ParamNames {
			row = append(row, orDash(vals[n]))
		}
		obj := "-"
		if t.Objective != nil {
			obj = num(*t.Objective)
		}
		row = append(row, obj, t.Duration())
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// Duration is how long the trial ran, so far or in all ("-" before it
// started).
func (t Trial) Duration() string {
	start := t.Started
	if start.IsZero() {
		start = t.Created
	}
	if start.IsZero() {
		return "-"
	}
	end := t.Ended
	if end.IsZero() {
		if t.Done() {
			return "-"
		}
		end = time.Now()
	}
	return end.Sub(start).Round(time.Second).String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }

// BestCommand is the command line that trains once with the best
// trial's parameters (as environment variables, and arguments when the
// sweep passed them so), for source (a path) or image; with neither, the
// notebook's own: %%kf train.
// flags are more of the sweep's own (--workers 2, --gpus 1), kept as given.
func (s *Status) BestCommand(source, image string, args bool, flags ...string) string {
	if s.Best == nil {
		return ""
	}
	parts := []string{"fair train"}
	if source == "" && image == "" {
		parts[0] = "%%kf train"
	}
	if s.Kind != "" && s.Kind != "job" {
		parts = append(parts, "--kind", s.Kind)
	}
	for _, f := range flags {
		parts = append(parts, quote(f))
	}
	for _, a := range s.Best.Params {
		parts = append(parts, "-e", quote(Param{Name: a.Name}.EnvName()+"="+a.Value))
	}
	if image != "" {
		parts = append(parts, "--image", quote(image))
	} else if source != "" {
		parts = append(parts, quote(source))
	}
	if args {
		parts = append(parts, "--")
		for _, a := range s.Best.Params {
			parts = append(parts, quote("--"+a.Name+"="+a.Value))
		}
	}
	return strings.Join(parts, " ")
}

// quote makes s one shell word.
func quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_=.,/:+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// SVG draws the objective of each trial in creation order (a dot per
// trial that reported it, red when the trial failed) and the best value
// so far (a step line): convergence at a glance, with no script.
func (s *Status) SVG() string {
	const w, h, left, right, top, bottom = 480.0, 220.0, 56.0, 12.0, 24.0, 32.0
	b := &strings.Builder{}
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="sans-serif" font-size="11">`, w, h, w, h)
	fmt.Fprintf(b, `<title>%s per trial, sweep %s</title>`, html.EscapeString(s.Objective), html.EscapeString(s.Name))
	fmt.Fprintf(b, `<rect x="0" y="0" width="%g" height="%g" fill="white"/>`, w, h)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range s.Trials {
		if t.Objective != nil {
			lo, hi = math.Min(lo, *t.Objective), math.Max(hi, *t.Objective)
		}
	}
	fmt.Fprintf(b, `<text x="%g" y="14">%s (%s) per trial</text>`, left, html.EscapeString(s.Objective), html.EscapeString(s.Goal))
	fmt.Fprintf(b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#888"/>`, left, h-bottom, w-right, h-bottom)
	fmt.Fprintf(b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#888"/>`, left, top, left, h-bottom)
	n := max(len(s.Trials), s.MaxTrials, 1)
	fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="end">trial %d</text>`, w-right, h-8, n)
	if math.IsInf(lo, 1) {
		fmt.Fprintf(b, `<text x="%g" y="%g" fill="#888">no trial has reported %s yet</text>`, left+8, (h-bottom+top)/2, html.EscapeString(s.Objective))
		b.WriteString(`</svg>`)
		return b.String()
	}
	if hi == lo {
		lo, hi = lo-0.5, hi+0.5
	}
	x := func(i int) float64 { return left + (w-left-right)*(float64(i)+0.5)/float64(n) }
	y := func(v float64) float64 { return top + (h-top-bottom)*(1-(v-lo)/(hi-lo)) }
	fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="end">%s</text>`, left-4, top+4, num(hi))
	fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="end">%s</text>`, left-4, h-bottom, num(lo))
	best, path := math.NaN(), ""
	for i, t := range s.Trials {
		if t.Objective == nil {
			continue
		}
		v := *t.Objective
		if math.IsNaN(best) || (s.Goal == "maximize" && v > best) || (s.Goal != "maximize" && v < best) {
			if path == "" {
				path = fmt.Sprintf("M%.1f %.1f", x(i), y(v))
			} else {
				path += fmt.Sprintf(" H%.1f V%.1f", x(i), y(v))
			}
			best = v
		}
	}
	if path != "" {
		path += fmt.Sprintf(" H%.1f", x(len(s.Trials)-1))
		fmt.Fprintf(b, `<path d="%s" fill="none" stroke="#2a7" stroke-width="2"><title>best so far</title></path>`, path)
	}
	for i, t := range s.Trials {
		if t.Objective == nil {
			continue
		}
		color := "#36c"
		if t.Phase != PhaseSucceeded {
			color = "#c33"
		}
		r := 4.0
		if s.Best != nil && s.Best.Name == t.Name {
			r = 6
		}
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="%g" fill="%s"><title>%s: %s=%s</title></circle>`, x(i), y(*t.Objective), r, color, html.EscapeString(t.Name), html.EscapeString(s.Objective), num(*t.Objective))
	}
	b.WriteString(`</svg>`)
	return b.String()
}
