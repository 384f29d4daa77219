package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/fair-go/fair/config"
)

// cfgValue is a flag that writes straight into a config key, so a flag and
// the fair.yaml key it overrides can never disagree, and help shows the
// effective value (from fair.yaml or FAIR_*) as the default.
type cfgValue struct {
	cfg       *config.Config
	key, flag string
	typ       string
	list      bool
	set       bool
}

func (v *cfgValue) String() string {
	s, _ := v.cfg.Get(v.key)
	return s
}

func (v *cfgValue) Set(s string) error {
	if v.list && v.set {
		// Repeated list flags append, as kubectl's do.
		old, _ := v.cfg.Get(v.key)
		if old != "" {
			s = old + "," + s
		}
	}
	v.set = true
	if err := v.cfg.Set(v.key, s, config.OriginFlag+" --"+v.flag); err != nil {
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), v.key+": "))
	}
	return nil
}

func (v *cfgValue) Type() string { return v.typ }

// cfgFlag registers --name bound to config key. typ is "string", "int" or
// "strings" (comma separated and repeatable).
func cfgFlag(fs *pflag.FlagSet, cfg *config.Config, key, name, shorthand, typ, usage string) {
	v := &cfgValue{cfg: cfg, key: key, flag: name, typ: typ, list: typ == "strings"}
	f := fs.VarPF(v, name, shorthand, usage)
	if typ == "int" {
		f.DefValue = v.String()
	}
	if strings.Contains(usage, "(default: ") {
		f.DefValue = "" // the usage says it; pflag would add a second "(default ...)"
	}
}
