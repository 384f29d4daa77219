package kernel

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestClaimWorkDir(t *testing.T) {
	root := t.TempDir()
	nb := filepath.Join(t.TempDir(), "my notebooks")
	other := filepath.Join(t.TempDir(), "my notebooks") // same name, another folder

	a, releaseA, err := ClaimWorkDir(root, nb)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(a), "my-notebooks-") {
		t.Errorf("work folder %s does not name its notebook folder", a)
	}
	// What a kernel leaves: its module and host stay, its cells and plugins go.
	for _, f := range []string{"go.mod", "hostbin/host", "cells/c1/cell.go", "bin/c1.so"} {
		p := filepath.Join(a, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// While the first kernel runs, a second one in the same folder gets its own.
	b, releaseB, err := ClaimWorkDir(root, nb)
	if err != nil {
		t.Fatal(err)
	}
	if b == a {
		t.Fatalf("two running kernels share %s", a)
	}
	// Another notebook folder with the same name is another module.
	c, releaseC, err := ClaimWorkDir(root, other)
	if err != nil {
		t.Fatal(err)
	}
	if c == a || c == b {
		t.Fatalf("notebook folders %s and %s share %s", nb, other, c)
	}
	releaseB()
	releaseC()

	// The next kernel in nb gets the first folder again, as it was left
	// but for the cells and plugins.
	releaseA()
	again, release, err := ClaimWorkDir(root, nb)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if again != a {
		t.Fatalf("the next kernel got %s, want %s again", again, a)
	}
	for f, want := range map[string]bool{"go.mod": true, "hostbin/host": true, "cells": false, "bin": false} {
		_, err := os.Stat(filepath.Join(a, filepath.FromSlash(f)))
		if got := err == nil; got != want {
			t.Errorf("%s kept = %v, want %v", f, got, want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(a, "notebook-folder")); strings.TrimSpace(string(b)) != nb {
		t.Errorf("notebook-folder = %q, want %q", b, nb)
	}
}

func TestClaimWorkDirLimit(t *testing.T) {
	root, nb := t.TempDir(), t.TempDir()
	var held []func()
	defer func() {
		for _, r := range held {
			r()
		}
	}()
	for i := 0; i < maxSlots; i++ {
		_, r, err := ClaimWorkDir(root, nb)
		if err != nil {
			t.Fatalf("kernel %d: %v", i+1, err)
		}
		held = append(held, r)
	}
	if _, _, err := ClaimWorkDir(root, nb); err == nil || !strings.Contains(err.Error(), "FAIR_KERNEL_WORKDIR") {
		t.Fatalf("kernel %d: err = %v, want one line naming FAIR_KERNEL_WORKDIR", maxSlots+1, err)
	}
}

// The shared folder keeps the hosts of the most recently used modules,
// and never the one in use.
func TestPruneKeptModules(t *testing.T) {
	root := filepath.Join(t.TempDir(), "modules")
	now := time.Now()
	var dirs []string
	for i := 0; i < keptModules+4; i++ {
		d := filepath.Join(root, fmt.Sprintf("m%02d", i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		at := now.Add(time.Duration(i) * time.Minute) // m00 is the oldest
		if err := os.Chtimes(d, at, at); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	moduleCache(dirs[1]).prune() // in use, and among the oldest
	for i, d := range dirs {
		_, err := os.Stat(d)
		gone := os.IsNotExist(err)
		if want := i < 4 && i != 1; gone != want {
			t.Errorf("%s: gone %v, want %v", filepath.Base(d), gone, want)
		}
	}
}
