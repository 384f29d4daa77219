package main

import (
	goflag "flag"
	"strings"
	"testing"

	"github.com/fair-go/fair/kernel/nb"
)

// TestMainFlags: a cell's main sees the flags earlier cells defined, from
// their defaults; the flags main defines are its run's, so a later main
// defines them again; a cell run again redefines its package flags.
func TestMainFlags(t *testing.T) {
	saved := goflag.CommandLine
	t.Cleanup(func() { goflag.CommandLine = saved })
	goflag.CommandLine = goflag.NewFlagSet("In[0]", goflag.ContinueOnError)

	// In[1] declares a package flag, as `var top = flag.String(...)`, and
	// one of a kind of its own that adds to what it holds.
	done := newFlags(false)
	top := goflag.String("top", "x", "top-level flag")
	var tags listValue
	goflag.Var(&tags, "tag", "a tag (repeatable)")
	done()

	runMain := func(args ...string) (q bool, rest []string) {
		t.Helper()
		done := newFlags(true)
		defer done()
		nb.Main(func() {
			qf := goflag.Bool("q", false, "quiet") // panics if defined before
			if err := goflag.CommandLine.Parse(args); err != nil {
				t.Fatal(err)
			}
			q, rest = *qf, goflag.Args()
		})
		return q, rest
	}
	if q, rest := runMain("-top", "y", "-q", "-tag", "t1", "a"); *top != "y" || !q || len(rest) != 1 || rest[0] != "a" || len(tags) != 1 {
		t.Errorf("first main: top %q q %v rest %v tags %q", *top, q, rest, tags)
	}
	if q, _ := runMain(); *top != "x" || q {
		t.Errorf("second main: top %q (want the default x), q %v", *top, q)
	}
	if len(tags) != 1 {
		t.Errorf("a flag of the program's own kind was set to its default with Set: %q", tags)
	}
	if goflag.Lookup("q") != nil {
		t.Error("the flag main defined outlived its run")
	}
	if goflag.Lookup("top") == nil {
		t.Error("the package flag is gone after a main cell")
	}
	// In[1] run again: its flag is defined anew, not redefined.
	done = newFlags(false)
	top2 := goflag.String("top", "z", "top-level flag")
	done()
	if f := goflag.Lookup("top"); f == nil || f.DefValue != "z" || *top2 != "z" {
		t.Errorf("the cell run again: %+v", f)
	}
	if nb.MainHook != nil {
		t.Error("the main hook outlived its cell")
	}
}

// listValue is a flag kind of a program's own: Set adds.
type listValue []string

func (l *listValue) String() string     { return strings.Join(*l, ",") }
func (l *listValue) Set(v string) error { *l = append(*l, v); return nil }
