// Package render turns a cell's values into Jupyter MIME bundles and the
// cell runtime's messages into JSON lines. It lives apart from package nb,
// which every cell imports, so that a cell's plugin does not link
// encoding/json, image/png and compress/flate (a tenth of each cell's link):
// the kernel host installs it with nb.SetRenderer, and cells reach it
// through nb.
package render

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"

	"github.com/fair-go/fair/kernel/nb"
)

// Values with any of these methods are shown richly by Result and by
// display.Value.
type (
	htmler     interface{ HTML() string }
	markdowner interface{ Markdown() string }
	svger      interface{ SVG() string }
	pnger      interface{ PNG() []byte }
	jpeger     interface{ JPEG() []byte }
	latexer    interface{ Latex() string }
	jsoner     interface{ JSON() any }
	mimer      interface{ MIMEBundle() map[string]any }
)

// Renderer is what the kernel host installs with nb.SetRenderer.
type Renderer struct{}

// Encode is a message as the host's message pipe carries it.
func (Renderer) Encode(m nb.Message) ([]byte, error) { return json.Marshal(m) }

// Text is v as text/plain.
func (Renderer) Text(v any) string { return text(v) }

// Bundle renders v as a Jupyter MIME bundle: text/plain always, and the
// rich types v offers through HTML(), Markdown(), SVG(), PNG(), JPEG(),
// Latex(), JSON() or MIMEBundle() methods; an image.Image becomes a PNG.
func (Renderer) Bundle(v any) map[string]any { return Bundle(v) }

// Bundle is Renderer.Bundle.
func Bundle(v any) map[string]any {
	b := map[string]any{"text/plain": text(v)}
	if m, ok := v.(mimer); ok {
		for k, x := range m.MIMEBundle() {
			b[k] = x
		}
	}
	if m, ok := v.(htmler); ok {
		b["text/html"] = m.HTML()
	}
	if m, ok := v.(markdowner); ok {
		b["text/markdown"] = m.Markdown()
	}
	if m, ok := v.(svger); ok {
		b["image/svg+xml"] = m.SVG()
	}
	if m, ok := v.(pnger); ok {
		b["image/png"] = base64.StdEncoding.EncodeToString(m.PNG())
	}
	if m, ok := v.(jpeger); ok {
		b["image/jpeg"] = base64.StdEncoding.EncodeToString(m.JPEG())
	}
	if m, ok := v.(latexer); ok {
		b["text/latex"] = m.Latex()
	}
	if m, ok := v.(jsoner); ok {
		b["application/json"] = m.JSON()
	}
	if img, ok := v.(image.Image); ok {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err == nil {
			b["image/png"] = base64.StdEncoding.EncodeToString(buf.Bytes())
			r := img.Bounds()
			b["text/plain"] = fmt.Sprintf("[%dx%d image]", r.Dx(), r.Dy())
		}
	}
	return b
}

func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case error:
		return x.Error()
	case json.RawMessage: // before Stringer: Go 1.27 gave it a String method
		return string(x)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprintf("%v", v)
}
