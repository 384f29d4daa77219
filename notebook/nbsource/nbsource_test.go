package nbsource

import (
	"archive/tar"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/notebook"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// notebookJSON makes an .ipynb with one code cell per source.
func notebookJSON(t *testing.T, cells ...string) string {
	t.Helper()
	nb := map[string]any{"nbformat": 4, "nbformat_minor": 5,
		"metadata": map[string]any{"kernelspec": map[string]any{"name": "fair", "language": "go"}}}
	var cs []any
	for _, c := range cells {
		cs = append(cs, map[string]any{"cell_type": "code", "metadata": map[string]any{}, "outputs": []any{}, "execution_count": nil, "source": c})
	}
	nb["cells"] = cs
	b, err := json.Marshal(nb)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// buildImage builds src for linux/amd64 with the static base.
func buildImage(t *testing.T, src builder.Source) v1.Image {
	t.Helper()
	b, err := builder.New(builder.WithCacheDir(t.TempDir()), builder.WithPlatforms(v1.Platform{OS: "linux", Architecture: "amd64"}))
	if err != nil {
		t.Fatal(err)
	}
	a, err := b.Build(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	return a.(v1.Image)
}

// extract writes the image's files into dir.
func extract(t *testing.T, img v1.Image, dir string) {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Typeflag != tar.TypeReg {
				continue
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, h.Name), string(b))
			if err := os.Chmod(filepath.Join(dir, h.Name), os.FileMode(h.Mode)); err != nil {
				t.Fatal(err)
			}
		}
		rc.Close()
	}
}

// runImage runs the image's entrypoint from its working directory, as a
// container would (the files come from the image, not from the test).
func runImage(t *testing.T, img v1.Image) string {
	t.Helper()
	root := t.TempDir()
	extract(t, img, root)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, cf.Config.Entrypoint[0]))
	cmd.Dir = filepath.Join(root, cf.Config.WorkingDir)
	if err := os.MkdirAll(cmd.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run %s: %v\n%s", cf.Config.Entrypoint[0], err, out)
	}
	return string(out)
}

func TestNotebookWithDataAndProjectPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a program")
	}
	dir := t.TempDir()
	// A project next to the notebook: its go.mod and a package of its own.
	write(t, filepath.Join(dir, "go.mod"), "module example.com/proj\n\ngo 1.26\n")
	write(t, filepath.Join(dir, "stats", "stats.go"), "package stats\n\nfunc Sum(xs []int) int {\n\tt := 0\n\tfor _, x := range xs {\n\t\tt += x\n\t}\n\treturn t\n}\n")
	write(t, filepath.Join(dir, "data", "points.txt"), "1 2 3 4\n")
	write(t, filepath.Join(dir, "data", ".env"), "TOKEN=secret\n")
	write(t, filepath.Join(dir, "analysis.ipynb"), notebookJSON(t,
		"import (\n\t\"fmt\"\n\t\"os\"\n\t\"strconv\"\n\t\"strings\"\n\n\t\"example.com/proj/stats\"\n)\n\nraw, err := os.ReadFile(\"data/points.txt\")\nif err != nil {\n\tpanic(err)\n}",
		"var xs []int\nfor _, f := range strings.Fields(string(raw)) {\n\tn, _ := strconv.Atoi(f)\n\txs = append(xs, n)\n}\nlen(xs)",
		"%%kf train --gpus 1\nfmt.Println(\"sum\", stats.Sum(xs))",
	))
	src, err := FromFile(filepath.Join(dir, "analysis.ipynb"), "train", WithInclude("data"))
	if err != nil {
		t.Fatal(err)
	}
	if src.Name() != "analysis" || src.Selection().Args != "--gpus 1" {
		t.Errorf("name %q args %q", src.Name(), src.Selection().Args)
	}
	img := buildImage(t, src)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.WorkingDir != WorkDir || strings.Join(cf.Config.Entrypoint, " ") != "/usr/local/bin/notebook" {
		t.Errorf("config: workdir %q entrypoint %q", cf.Config.WorkingDir, cf.Config.Entrypoint)
	}
	root := t.TempDir()
	extract(t, img, root)
	if _, err := os.Stat(filepath.Join(root, "workspace", "data", ".env")); err == nil {
		t.Error("an included folder shipped its .env")
	}
	if out := runImage(t, img); out != "sum 10\n" {
		t.Errorf("program printed %q, want %q", out, "sum 10\n")
	}
}

func TestSecretFileInclude(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "id_rsa"), "key")
	write(t, filepath.Join(dir, "n.ipynb"), notebookJSON(t, "x := 1\n_ = x"))
	src, err := FromFile(filepath.Join(dir, "n.ipynb"), "", WithInclude("id_rsa"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := builder.New(builder.WithCacheDir(t.TempDir()), builder.WithPlatforms(v1.Platform{OS: "linux", Architecture: "amd64"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Build(context.Background(), src); err == nil || !strings.Contains(err.Error(), "looks like a credentials file") {
		t.Errorf("including id_rsa: got %v", err)
	}
	// A folder where credentials live is refused whole, not filtered:
	// the defaults only look below the folder given.
	kube := filepath.Join(dir, "home", ".kube")
	write(t, filepath.Join(kube, "config"), "apiVersion: v1")
	for _, inc := range []string{filepath.Join("home", ".kube"), filepath.Join("home", ".kube", "config")} {
		src, err := FromFile(filepath.Join(dir, "n.ipynb"), "", WithInclude(inc))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Build(context.Background(), src); err == nil || !strings.Contains(err.Error(), "where credentials live") {
			t.Errorf("including %s: got %v", inc, err)
		}
	}
}

func TestGoModFromKernelWorkFolder(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), "module fairnb\n\ngo 1.26\n\nrequire (\n\tgithub.com/fair-go/fair v0.0.0\n\tgonum.org/v1/gonum v0.16.0 // indirect\n)\n\nreplace github.com/fair-go/fair => ./_fair\n\nreplace example.com/local => ../local\n")
	write(t, filepath.Join(dir, "go.sum"), "gonum.org/v1/gonum v0.16.0 h1:x\n")
	s := &Source{modDir: dir}
	mod, sum, err := s.goMod()
	if err != nil {
		t.Fatal(err)
	}
	want := "module fairnb\n\ngo 1.26\n\nrequire (\n\tgithub.com/fair-go/fair v0.0.0\n\tgonum.org/v1/gonum v0.16.0\n)\n\nreplace (\n\texample.com/local => " + filepath.Join(filepath.Dir(dir), "local") + "\n\tgithub.com/fair-go/fair => ./_fair\n)\n"
	if string(mod) != want {
		t.Errorf("go.mod:\n%s\nwant:\n%s", mod, want)
	}
	if string(sum) != "gonum.org/v1/gonum v0.16.0 h1:x\n" {
		t.Errorf("go.sum %q", sum)
	}
	// No go.mod: the one a new kernel writes, so both give the same program.
	empty, _, err := (&Source{modDir: t.TempDir()}).goMod()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(empty), "github.com/fair-go/fair => ./_fair") {
		t.Errorf("default go.mod:\n%s", empty)
	}
}

func TestServeCell(t *testing.T) {
	code, err := serveCell(codeOf("%%kf serve", "func predict(rows [][]float32) ([]float32, error) { return nil, nil }\nfunc vec(r [][]float32) ([][]float32, error) { return nil, nil }\nfunc helper(x int) int { return x }\nfunc more() []serving.Model { return nil }"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`fairserving.Func("predict", predict)`, `fairserving.VecFunc("vec", vec)`, "more()...", "fairserving.Serve(fairModels...)"} {
		if !strings.Contains(code.Source, want) {
			t.Errorf("serve code lacks %q:\n%s", want, code.Source)
		}
	}
	if strings.Contains(code.Source, "helper") {
		t.Errorf("helper served:\n%s", code.Source)
	}
	if _, err := serveCell(codeOf("%%kf serve", "func helper(x int) int { return x }")); err == nil || !strings.Contains(err.Error(), "defines no model") {
		t.Errorf("no model: %v", err)
	}
}

func codeOf(label, src string) notebook.Code { return notebook.Code{Label: label, Source: src} }
