package main

import (
	"strings"
	"testing"
)

// TestPanicTrace: a cell's panic names cells, lines and functions as the
// cells wrote them; the cell's call of its main has no line of its own.
func TestPanicTrace(t *testing.T) {
	stack := `goroutine 7 [running]:
runtime/debug.Stack()
	/usr/lib/go/src/runtime/debug/stack.go:26 +0x5e
panic({0x7f, 0x8})
	/usr/lib/go/src/runtime/panic.go:783 +0x132
fairnb/cells/c1.Ξf(0x0)
	/tmp/k/cells/c1/In[1]:4 +0x3a
fairnb/cells/c1.(*Ξpoint).ΞArea(...)
	/tmp/k/cells/c1/In[1]:9
fairnb/cells/c2.Ξ0init1.func1()
	/tmp/k/cells/c2/In[2]:2 +0x1c
fairnb/cells/c2.Ξmain()
	/tmp/k/cells/c2/In[2]:3 +0x1c
fairnb/cells/c2.init()
	/tmp/k/cells/c2/In[2]:5 +0x25
fairnb/cells/c3.init.func1()
	/tmp/k/cells/c3/In[3]:2 +0x25
fairnb/cells/c3.init()
	/tmp/k/cells/c3/In[3]:2 +0x25
github.com/fair-go/fair/kernel/nb.Stmt(...)
	/work/kernel/nb/nb.go:167
plugin.open({0xc0, 0x20})
	/usr/lib/go/src/plugin/plugin_dlopen.go:94 +0x8d0
`
	got := strings.Join(panicError("boom", []byte(stack)).Traceback, "\n")
	want := `panic: boom

In[1] line 4, in f
In[1] line 9, in (*point).Area
In[2] line 2, in init.func1
In[2] line 3, in main
In[3] line 2`
	if got != want {
		t.Errorf("traceback:\n%s\nwant:\n%s", got, want)
	}
}
