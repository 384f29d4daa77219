package kernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// SpecPlace says where a kernelspec goes, as jupyter kernelspec install
// names it: the user's Jupyter data folder (the default), the Python
// environment's prefix, or PREFIX/share/jupyter.
type SpecPlace struct {
	User, SysPrefix bool
	Prefix          string
	Name            string // kernelspec name, default "fair"
}

// Dir is the kernelspec's folder.
func (p SpecPlace) Dir() (string, error) {
	n := 0
	for _, b := range []bool{p.User, p.SysPrefix, p.Prefix != ""} {
		if b {
			n++
		}
	}
	if n > 1 {
		return "", errors.New("choose one of --user, --sys-prefix and --prefix")
	}
	name := p.Name
	if name == "" {
		name = "fair"
	}
	if strings.ContainsAny(name, `/\ `) || name == "." || name == ".." {
		return "", fmt.Errorf("invalid kernelspec name %q", name)
	}
	base, _, err := p.Jupyter()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "kernels", name), nil
}

// Jupyter returns the place's Jupyter data folder (kernels, nbextensions)
// and configuration folder (nbconfig), as Jupyter finds them.
func (p SpecPlace) Jupyter() (data, config string, err error) {
	switch {
	case p.Prefix != "":
		return filepath.Join(p.Prefix, "share", "jupyter"), filepath.Join(p.Prefix, "etc", "jupyter"), nil
	case p.SysPrefix:
		out, err := exec.Command("python3", "-c", "import sys; print(sys.prefix)").Output()
		if err != nil {
			return "", "", fmt.Errorf("find sys.prefix with python3: %v", err)
		}
		prefix := strings.TrimSpace(string(out))
		return filepath.Join(prefix, "share", "jupyter"), filepath.Join(prefix, "etc", "jupyter"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", "", err
	}
	data = filepath.Join(home, ".local", "share", "jupyter")
	if v := os.Getenv("JUPYTER_DATA_DIR"); v != "" {
		data = v
	} else if v := os.Getenv("XDG_DATA_HOME"); v != "" {
		data = filepath.Join(v, "jupyter")
	}
	config = filepath.Join(home, ".jupyter")
	if v := os.Getenv("JUPYTER_CONFIG_DIR"); v != "" {
		config = v
	}
	return data, config, nil
}

// InstallSpec writes the kernelspec (kernel.json and logos) that starts
// the kernel as `EXE kernel run --connection-file FILE`, and returns its
// folder.
func InstallSpec(p SpecPlace, exe, displayName string) (string, error) {
	dir, err := p.Dir()
	if err != nil {
		return "", err
	}
	spec := map[string]any{
		"argv":           []string{exe, "kernel", "run", "--connection-file", "{connection_file}"},
		"display_name":   displayName,
		"language":       "go",
		"interrupt_mode": "message",
		"metadata":       map[string]any{"debugger": false},
	}
	b, _ := json.MarshalIndent(spec, "", "  ")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kernel.json"), append(b, '\n'), 0o644); err != nil {
		return "", err
	}
	for _, size := range []int{32, 64} {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("logo-%dx%d.png", size, size)), logo(size), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// UninstallSpec removes the kernelspec and returns the folder it was in.
func UninstallSpec(p SpecPlace) (string, error) {
	dir, err := p.Dir()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "kernel.json")); err != nil {
		return "", fmt.Errorf("no kernelspec %s in %s", filepath.Base(dir), filepath.Dir(dir))
	}
	return dir, os.RemoveAll(dir)
}

// logo draws the kernel's logo: a gopher-blue disc.
func logo(size int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	c := float64(size) / 2
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			dx, dy := float64(x)+0.5-c, float64(y)+0.5-c
			if dx*dx+dy*dy <= c*c {
				img.Set(x, y, color.NRGBA{0x00, 0xAD, 0xD8, 0xFF})
			}
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}
