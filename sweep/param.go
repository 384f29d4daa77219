// Package sweep turns a training run into a Katib hyperparameter sweep
// (an Experiment of kubeflow.org/v1beta1) and reads its trials back: the
// parameters' specs, the Experiment fair submits, the trials' table, the
// best trial and a chart of the objective per trial.
package sweep

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Parameter types, as Katib names them.
const (
	Double      = "double"
	Int         = "int"
	Discrete    = "discrete"
	Categorical = "categorical"
)

// Param is one parameter a sweep searches.
type Param struct {
	Name string
	Type string // Double, Int, Discrete or Categorical
	// Min, Max (and Step, optional) bound a Double or Int range.
	Min, Max, Step string
	// Log samples the range uniformly on a log scale (Katib's logUniform).
	Log bool
	// List holds the values of a Discrete (numbers) or Categorical one.
	List []string
}

var paramName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseParam reads NAME=SPEC, where SPEC is a range LO..HI (integers give
// an int parameter, else double), optionally followed by ":log" and/or
// ":step=S", or a list of two or more values a,b,c (numbers give a
// discrete parameter, else categorical).
func ParseParam(s string) (Param, error) {
	n, spec, ok := strings.Cut(s, "=")
	n = strings.TrimSpace(n)
	if !ok || n == "" {
		return Param{}, fmt.Errorf("parameter %q: want NAME=LO..HI or NAME=a,b,c", s)
	}
	if !paramName.MatchString(n) {
		return Param{}, fmt.Errorf("parameter %q: a name is letters, digits and _, not starting with a digit", n)
	}
	if env := strings.ToUpper(n); reservedEnv(env) {
		return Param{}, fmt.Errorf("parameter %s: a trial gets it as $%s, which the system, the cluster or fair sets for the program; choose another name", n, env)
	}
	p := Param{Name: n}
	spec = strings.TrimSpace(spec)
	if lo, hi, isRange := strings.Cut(spec, ".."); isRange {
		parts := strings.Split(hi, ":")
		hi = parts[0]
		for _, o := range parts[1:] {
			switch {
			case o == "log":
				p.Log = true
			case strings.HasPrefix(o, "step="):
				p.Step = strings.TrimPrefix(o, "step=")
			default:
				return Param{}, fmt.Errorf("parameter %s: unknown option %q (want :log or :step=S)", n, o)
			}
		}
		return p, p.setRange(strings.TrimSpace(lo), strings.TrimSpace(hi))
	}
	var list []string
	for _, v := range strings.Split(spec, ",") {
		if v = strings.TrimSpace(v); v != "" {
			list = append(list, v)
		}
	}
	if len(list) == 0 {
		return Param{}, fmt.Errorf("parameter %s: empty list (want NAME=LO..HI or NAME=a,b,c)", n)
	}
	if len(list) == 1 {
		// One value searches nothing: most likely a mistyped range.
		return Param{}, fmt.Errorf("parameter %s: %q is neither a range LO..HI nor a list of two or more values a,b", n, spec)
	}
	seen := map[string]bool{}
	for _, v := range list {
		if seen[v] {
			return Param{}, fmt.Errorf("parameter %s: %q twice in the list", n, v)
		}
		seen[v] = true
	}
	p.List, p.Type = list, Discrete
	for _, v := range list {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			p.Type = Categorical
		}
	}
	if p.Type == Discrete {
		for _, v := range list {
			if _, err := finite(v); err != nil {
				return Param{}, fmt.Errorf("parameter %s: %v", n, err)
			}
		}
	}
	return p, nil
}

// reservedEnv reports whether a trial's program needs the variable env
// as something else: a parameter named path would replace $PATH.
func reservedEnv(env string) bool {
	switch env {
	case "PATH", "HOME", "HOSTNAME", "PWD", "USER", "SHELL", "TERM", "TMPDIR", "LANG", "SSL_CERT_FILE",
		"PYTHONPATH", "PYTHONHOME", "WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT":
		return true
	}
	for _, p := range []string{"FAIR_", "KUBERNETES_", "LD_", "LC_", "NVIDIA_", "PET_"} {
		if strings.HasPrefix(env, p) {
			return true
		}
	}
	return false
}

// finite parses a number a sweep can search: NaN and ±Inf are none.
func finite(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is not a number", s)
	case math.IsNaN(f) || math.IsInf(f, 0):
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	return f, nil
}

func (p *Param) setRange(lo, hi string) error {
	li, errLo := strconv.ParseInt(lo, 10, 64)
	hiI, errHi := strconv.ParseInt(hi, 10, 64)
	if errLo == nil && errHi == nil && (p.Step == "" || isInt(p.Step)) {
		p.Type, p.Min, p.Max = Int, lo, hi
		if li >= hiI {
			return fmt.Errorf("parameter %s: range %s..%s is empty (want LO < HI)", p.Name, lo, hi)
		}
		if p.Log && li <= 0 {
			return fmt.Errorf("parameter %s: a :log range needs LO > 0", p.Name)
		}
		return p.checkStep(float64(hiI - li))
	}
	lf, err := finite(lo)
	if err != nil {
		return fmt.Errorf("parameter %s: %v (want LO..HI)", p.Name, err)
	}
	hf, err := finite(hi)
	if err != nil {
		return fmt.Errorf("parameter %s: %v (want LO..HI)", p.Name, err)
	}
	p.Type, p.Min, p.Max = Double, lo, hi
	if lf >= hf {
		return fmt.Errorf("parameter %s: range %s..%s is empty (want LO < HI)", p.Name, lo, hi)
	}
	if p.Log && lf <= 0 {
		return fmt.Errorf("parameter %s: a :log range needs LO > 0", p.Name)
	}
	return p.checkStep(hf - lf)
}

func (p *Param) checkStep(width float64) error {
	if p.Step == "" {
		return nil
	}
	s, err := strconv.ParseFloat(p.Step, 64)
	if err != nil || s <= 0 || s > width {
		return fmt.Errorf("parameter %s: step %q: want a number > 0 and at most HI-LO", p.Name, p.Step)
	}
	return nil
}

func isInt(s string) bool { _, err := strconv.ParseInt(s, 10, 64); return err == nil }

// String is the spec ParseParam reads.
func (p Param) String() string {
	if p.List != nil {
		return p.Name + "=" + strings.Join(p.List, ",")
	}
	s := p.Name + "=" + p.Min + ".." + p.Max
	if p.Log {
		s += ":log"
	}
	if p.Step != "" {
		s += ":step=" + p.Step
	}
	return s
}

// EnvName is the environment variable a trial's program reads the
// parameter from: its name in upper case (lr: LR).
func (p Param) EnvName() string { return strings.ToUpper(p.Name) }
