package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"mvdan.cc/sh/v3/interp"
)

// commands runs the external commands of KServe's modelcar scripts in
// this process; any other is not found (status 127), as in a shell
// without it on PATH.
func commands(ctx context.Context, args []string) error {
	hc := interp.HandlerCtx(ctx)
	fail := func(err error) error {
		fmt.Fprintf(hc.Stderr, "%s: %v\n", args[0], err)
		return interp.ExitStatus(1)
	}
	flags, operands := split(args[1:])
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(hc.Dir, p)
	}
	switch args[0] {
	case "ln":
		if len(operands) != 2 || !strings.Contains(flags, "s") {
			return fail(fmt.Errorf("usage: ln -s[f] TARGET LINK"))
		}
		link := abs(operands[1])
		if st, err := os.Stat(link); err == nil && st.IsDir() {
			link = filepath.Join(link, filepath.Base(operands[0]))
		}
		if strings.Contains(flags, "f") {
			if err := os.Remove(link); err != nil && !os.IsNotExist(err) {
				return fail(err)
			}
		}
		if err := os.Symlink(operands[0], link); err != nil {
			return fail(err)
		}
	case "mkdir":
		for _, d := range operands {
			var err error
			if strings.Contains(flags, "p") {
				err = os.MkdirAll(abs(d), 0o755)
			} else {
				err = os.Mkdir(abs(d), 0o755)
			}
			if err != nil {
				return fail(err)
			}
		}
	case "sleep":
		if len(operands) != 1 {
			return fail(fmt.Errorf("usage: sleep SECONDS|infinity"))
		}
		d, err := seconds(operands[0])
		if err != nil {
			return fail(err)
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	case "ls":
		if len(operands) == 0 {
			operands = []string{"."}
		}
		for _, d := range operands {
			entries, err := os.ReadDir(abs(d))
			if err != nil {
				return fail(err)
			}
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") && !strings.ContainsAny(flags, "aA") {
					continue
				}
				fmt.Fprintln(hc.Stdout, e.Name())
			}
		}
	default:
		fmt.Fprintf(hc.Stderr, "sh: %s: not found\n", args[0])
		return interp.ExitStatus(127)
	}
	return nil
}

// split separates single-letter flags ("-sf" gives "sf") from operands;
// "--" ends the flags.
func split(args []string) (flags string, operands []string) {
	for i, a := range args {
		switch {
		case a == "--":
			return flags, append(operands, args[i+1:]...)
		case len(a) > 1 && a[0] == '-':
			flags += a[1:]
		default:
			operands = append(operands, a)
		}
	}
	return flags, operands
}

// seconds reads sleep's operand: a number of seconds or "infinity".
func seconds(s string) (time.Duration, error) {
	if s == "infinity" {
		return math.MaxInt64, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("invalid time interval %q", s)
	}
	if f >= math.MaxInt64/float64(time.Second) {
		return math.MaxInt64, nil
	}
	return time.Duration(f * float64(time.Second)), nil
}
