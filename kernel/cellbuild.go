package kernel

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/fair-go/fair"
)

// Cell plugins built without the go command. `go build -buildmode=plugin`
// of a one-line cell spends about 0.3 s in the go command itself (loading
// the module, checking what is stale) around 30 ms of compiling and the
// link. The kernel runs the compiler and the linker itself, with the flags
// go build gives them, so the objects are the same as go build's but for
// the build ID and the two kinds of build mix freely. The export files of
// the packages cells import come from `go list -export`, once per go.mod.
// Anything out of the ordinary (an import not seen yet that go list cannot
// provide, import "C", GOFLAGS, a compile error) goes through go build,
// which says what is wrong in its own words and adds missing modules.
//
// The external link also gets faster: the Go linker asks the C compiler
// whether it supports three flags before each link (~0.2 s of compiling
// and linking a trivial C file); cc-probe answers those from what the C
// compiler said the first time, and gold or mold links the plugin when the
// machine has one. docs/bench/kernel.md has the figures.
type directBuild struct {
	mu      sync.Mutex
	off     bool              // go build only (GOFLAGS set, no tools)
	tools   string            // GOTOOLDIR
	goVer   string            // GOVERSION, for -goversion
	lang    string            // -lang, from go.mod
	cc      string            // the C compiler wrapper the linker calls
	env     []string          // what the tools run with
	altLD   string            // -fuse-ld value, "" for the C compiler's own
	mod     []byte            // go.mod when exports were listed
	exports map[string]string // import path → export data file
	built   int               // plugins built this way (tests)
	listed  int               // go list runs (tests)
}

// ccProbe is the C compiler the Go linker calls for cell plugins: gcc (or
// $CC), except that the linker's flag probes (cc ... -o DIR/a.out FLAG
// DIR/trivial.c) are answered from what the compiler answered the first
// time, kept next to this script.
const ccProbe = `#!/bin/sh
last= prev=
for a; do prev=$last; last=$a; done
case $last in
*/trivial.c)
	f=${0%/*}/probe.$(printf %s "${FAIR_CC:-gcc} $prev" | tr -c 'A-Za-z0-9' _)
	[ -f "$f.yes" ] && exit 0
	[ -f "$f.no" ] && { cat "$f.no"; exit 1; }
	if out=$(${FAIR_CC:-gcc} "$@" 2>&1) && ! printf %s "$out" | grep -q -e unrecognized -e unknown; then
		: >"$f.yes"
		exit 0
	fi
	printf 'unrecognized: %s\n' "$out" >"$f.no"
	cat "$f.no"
	exit 1
esac
exec ${FAIR_CC:-gcc} "$@"
`

// setup finds the tools once; it turns the direct build off when it
// cannot mirror go build exactly.
func (d *directBuild) setup(ctx context.Context, e *Executor) {
	if d.tools != "" || d.off {
		return
	}
	// Flags go build would pass on (GOFLAGS, CGO_LDFLAGS to the external
	// link) are its business; FAIR_KERNEL_GOBUILD=1 asks for go build.
	if os.Getenv("GOFLAGS") != "" || os.Getenv("CGO_LDFLAGS") != "" || os.Getenv("FAIR_KERNEL_GOBUILD") != "" {
		d.off = true
		return
	}
	out, err := e.goCmd(ctx, "env", "GOTOOLDIR", "GOVERSION", "CC")
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err != nil || len(lines) != 3 {
		d.off = true
		return
	}
	d.tools, d.goVer = lines[0], lines[1]
	// Next to go.mod, not in bin: Reset empties bin, the answers stay
	// true. In the shared folder when there is one: the host's -extld names
	// it, and a host linked in another work folder is up to date here only
	// with the same flags.
	cc := filepath.Join(orDir(e.shared, e.dir), "cc", "cc-probe")
	err = writeIfChanged(cc, []byte(ccProbe), 0o755)
	if err != nil && e.shared != "" { // a shared folder it cannot write
		cc = filepath.Join(e.dir, "cc", "cc-probe")
		err = writeIfChanged(cc, []byte(ccProbe), 0o755)
	}
	if err != nil {
		d.off = true
		return
	}
	d.cc = cc
	d.env = append(os.Environ(), "GOROOT="+filepath.Dir(filepath.Dir(filepath.Dir(d.tools))))
	if lines[2] != "" {
		d.env = append(d.env, "FAIR_CC="+lines[2]) // the C compiler go build would use
	}
	lds := []string{"mold", "gold"}
	if ld := os.Getenv("FAIR_KERNEL_LD"); ld != "" {
		lds = []string{ld} // a benchmark's choice; "default" for the C compiler's own
	}
	for _, ld := range lds {
		if _, err := exec.LookPath("ld." + ld); err == nil {
			d.altLD = ld
			break
		}
	}
}

// hostLDFlags are the host build's -ldflags: the same C compiler wrapper
// and linker as the cells' (the host link is ~1.2 s of a cold kernel
// start).
func (d *directBuild) hostLDFlags(ctx context.Context, e *Executor) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.setup(ctx, e)
	if d.off || strings.ContainsAny(d.cc, " \t'\"") { // -ldflags splits on spaces
		return ""
	}
	// No symbol table or DWARF (as the cells' links): the host's panics
	// come from the runtime's own tables, and the link is ~0.1 s shorter.
	f := "-s -w -extld=" + d.cc
	if d.altLD != "" {
		f += " -extldflags=-fuse-ld=" + d.altLD
	}
	return f
}

// reset forgets the cells' archives (Reset removes them).
func (d *directBuild) reset() {
	d.mu.Lock()
	d.exports = nil
	d.mu.Unlock()
}

// ready sets the tools up and forgets the export files when go.mod
// changed (a module added or upgraded).
func (d *directBuild) ready(ctx context.Context, e *Executor) bool {
	d.setup(ctx, e)
	if d.off {
		return false
	}
	mod, err := os.ReadFile(filepath.Join(e.dir, "go.mod"))
	if err != nil {
		return false
	}
	if !bytes.Equal(mod, d.mod) {
		d.exports, d.mod, d.lang = nil, mod, goLang(mod)
	}
	if d.exports == nil {
		d.exports = d.loadExports(e)
	}
	return true
}

// exportsFile keeps the export files go list found, for the next kernel
// of the work folder: listing fmt and the cell runtime takes ~0.2 s of a
// first cell. Only for a module whose packages all come from the module
// cache (immutable) or the SDK (in the key): a replace by a local folder
// could change without go.mod changing.
func (d *directBuild) exportsKey(e *Executor) string {
	sum, err := os.ReadFile(filepath.Join(e.dir, "go.sum"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if bytes.Count(d.mod, []byte("=>")) != 1 { // the SDK's replace only
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n-trimpath\n%d\n", d.goVer, fair.SDKHash(), len(d.mod)) // go list's flags are in it too
	h.Write(d.mod)
	h.Write(sum)
	return hex.EncodeToString(h.Sum(nil))
}

type savedExports struct {
	Key     string            `json:"key"`
	Exports map[string]string `json:"exports"`
}

// loadExports returns the saved export files when they were listed for
// this module and toolchain and are all still in the build cache.
func (d *directBuild) loadExports(e *Executor) map[string]string {
	key := d.exportsKey(e)
	b, err := os.ReadFile(filepath.Join(e.dir, "exports.json"))
	var saved savedExports
	if key == "" || err != nil || json.Unmarshal(b, &saved) != nil || saved.Key != key {
		return map[string]string{}
	}
	for _, f := range saved.Exports {
		if _, err := os.Stat(f); err != nil { // trimmed from the build cache
			return map[string]string{}
		}
	}
	return saved.Exports
}

// saveExports writes what go list found, not the cells' own archives.
func (d *directBuild) saveExports(e *Executor) {
	key := d.exportsKey(e)
	if key == "" {
		return
	}
	keep := map[string]string{}
	for p, f := range d.exports {
		if !strings.HasPrefix(f, e.dir+string(filepath.Separator)) {
			keep[p] = f
		}
	}
	b, err := json.Marshal(savedExports{Key: key, Exports: keep})
	if err != nil {
		return
	}
	file := filepath.Join(e.dir, "exports.json")
	if writeIfChanged(file, b, 0o644) == nil {
		keepFile(e.moduleCache().exports(), file, 0o644)
	}
}

// prefetch lists the export files of pkgs ahead of the first cell.
func (d *directBuild) prefetch(ctx context.Context, e *Executor, pkgs ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.ready(ctx, e) {
		return
	}
	var missing []string
	for _, p := range pkgs {
		if _, ok := d.exports[p]; !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		d.list(ctx, e, missing)
	}
}

// build compiles and links cell u into so. done false means "use go
// build": nothing the user needs to hear went wrong. A cell that does not
// compile is done, with the compiler's error.
func (d *directBuild) build(ctx context.Context, e *Executor, dir, pkg, so string) (done bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.ready(ctx, e) {
		return false, nil
	}
	src := filepath.Join(dir, "cell.go")
	imports, err := fileImports(src)
	if err != nil {
		return false, nil
	}
	var unknown []string
	for _, p := range imports {
		if p == "C" || p == "embed" { // cgo; //go:embed wants go build's embed configuration
			return false, nil
		}
		if _, ok := d.exports[p]; !ok {
			unknown = append(unknown, p)
		}
	}
	if len(unknown) > 0 {
		ok := d.list(ctx, e, unknown)
		e.laps.lap("go-list")
		if !ok {
			return false, nil
		}
	}
	obj := filepath.Join(e.dir, "bin", "obj")
	if err := os.MkdirAll(obj, 0o755); err != nil {
		return false, nil
	}
	name := filepath.Base(dir)
	archive := filepath.Join(obj, name+".a")
	if out, err := d.compile(ctx, e, pkg, archive, filepath.Join(obj, name+".importcfg"), imports, src); err != nil {
		if len(out) > 0 && ctx.Err() == nil {
			e.laps.lap("compile")
			return true, compileError(strings.Split(string(out), "\n"))
		}
		return false, nil
	}
	d.exports[pkg] = archive
	e.laps.lap("compile")
	main := filepath.Join(obj, name+".main.a")
	if _, err := d.compile(ctx, e, pkg+"/plugin", main, filepath.Join(obj, name+".main.importcfg"), []string{pkg}, filepath.Join(dir, "plugin", "main.go")); err != nil {
		return false, nil
	}
	e.laps.lap("compile-main")
	ok := d.link(ctx, e, pkg+"/plugin", main, filepath.Join(obj, name+".link.importcfg"), so)
	e.laps.lap("link")
	if ok {
		d.built++
	}
	return ok, nil
}

// list adds the export files of pkgs and of everything they import.
func (d *directBuild) list(ctx context.Context, e *Executor, pkgs []string) bool {
	args := append([]string{"list", "-trimpath", "-buildmode=plugin", "-export", "-deps", "-f", "{{if .Export}}{{.ImportPath}}\t{{.Export}}{{end}}"}, pkgs...)
	d.listed++
	out, err := e.goCmd(ctx, args...)
	if err != nil {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		path, file, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			continue
		}
		if _, have := d.exports[path]; !have {
			d.exports[path] = file
		}
	}
	for _, p := range pkgs {
		if _, ok := d.exports[p]; !ok {
			return false
		}
	}
	d.saveExports(e)
	return true
}

// compile runs the compiler as go build -trimpath does for a plugin's
// package. The output is the compiler's when it ran and failed. file is
// absolute, as go build gives it (its -x output shortens it): from Go 1.27
// a //line file name is taken relative to the source's folder as given,
// and a relative one would make the package differ from go build's. The
// folder becomes the import path in the object (-trimpath), so a package
// is the same whichever work folder compiled it.
func (d *directBuild) compile(ctx context.Context, e *Executor, pkg, out, cfg string, imports []string, file string) ([]byte, error) {
	var b strings.Builder
	b.WriteString("# import config\n")
	for _, p := range imports {
		fmt.Fprintf(&b, "packagefile %s=%s\n", p, d.exports[p])
	}
	if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	args := []string{"-o", out, "-trimpath", filepath.Dir(file) + "=>" + pkg, "-p", pkg, "-complete", "-installsuffix", "dynlink",
		"-goversion", d.goVer, "-c=" + strconv.Itoa(min(4, runtime.GOMAXPROCS(0))), "-dynlink", "-nolocalimports", "-importcfg", cfg, "-pack", file}
	if d.lang != "" {
		args = append([]string{"-lang=" + d.lang}, args...)
	}
	return d.tool(ctx, e.dir, "compile", args...)
}

// link links a plugin from its main package, with every package the
// kernel knows in the import config (the linker loads only those used).
func (d *directBuild) link(ctx context.Context, e *Executor, pluginPath, main, cfg, so string) bool {
	paths := make([]string, 0, len(d.exports))
	for p := range d.exports {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var b strings.Builder
	b.WriteString("# import config\n")
	for _, p := range paths {
		fmt.Fprintf(&b, "packagefile %s=%s\n", p, d.exports[p])
	}
	if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
		return false
	}
	tmp := so + ".tmp"
	args := []string{"-o", tmp, "-importcfg", cfg, "-installsuffix", "dynlink", "-pluginpath", pluginPath,
		"-buildmode=plugin", "-s", "-w", "-extld=" + d.cc}
	err := error(nil)
	if d.altLD != "" {
		if _, err = d.tool(ctx, e.dir, "link", append(args, "-extldflags=-fuse-ld="+d.altLD, main)...); err != nil && ctx.Err() == nil {
			d.altLD = "" // this linker cannot link plugins here: the C compiler's own from now on
		}
	}
	if d.altLD == "" {
		_, err = d.tool(ctx, e.dir, "link", append(args, main)...)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return false
	}
	return os.Rename(tmp, so) == nil
}

// tool runs a Go tool (compile, link). Its output comes back when it ran
// and failed, none when it could not run at all (not the cell's fault).
func (d *directBuild) tool(ctx context.Context, dir, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(d.tools, name), args...)
	cmd.Dir, cmd.Env = dir, d.env
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		out = nil
	}
	return out, err
}

// fileImports lists the import paths of a Go file.
func fileImports(file string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, s := range f.Imports {
		p, err := strconv.Unquote(s.Path.Value)
		if err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// goLang is go.mod's go version as the compiler's -lang ("go1.26").
func goLang(mod []byte) string {
	for _, l := range strings.Split(string(mod), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "go" {
			v := f[1]
			if parts := strings.Split(v, "."); len(parts) > 2 {
				v = parts[0] + "." + parts[1]
			}
			return "go" + v
		}
	}
	return ""
}
