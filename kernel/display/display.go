// Package display shows rich output in a Go notebook cell of the fair
// kernel: HTML, Markdown, PNG, SVG, JSON, images, and displays updated in
// place by id. It works offline and needs nothing beyond the standard
// library. Outside the kernel every call does nothing, so code that uses it
// also builds and runs as an ordinary program.
package display

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"sync/atomic"
	"time"

	"github.com/fair-go/fair/kernel/nb"
)

// Data shows a raw MIME bundle, e.g. {"text/html": "<b>hi</b>"}.
func Data(bundle map[string]any) { emit("display", "", bundle) }

// HTML shows an HTML fragment.
func HTML(s string) { Data(map[string]any{"text/html": s, "text/plain": s}) }

// Markdown shows Markdown text.
func Markdown(s string) { Data(map[string]any{"text/markdown": s, "text/plain": s}) }

// SVG shows an SVG image.
func SVG(s string) { Data(map[string]any{"image/svg+xml": s, "text/plain": "[svg image]"}) }

// PNG shows PNG-encoded bytes.
func PNG(b []byte) { Data(pngBundle(b)) }

// JSON shows v as JSON (v is encoded with encoding/json).
func JSON(v any) { Data(jsonBundle(v)) }

// Text shows plain text as a display (not as a stream).
func Text(s string) { Data(map[string]any{"text/plain": s}) }

// Image shows img as a PNG.
func Image(img image.Image) error {
	b, err := encodePNG(img)
	if err != nil {
		return err
	}
	PNG(b)
	return nil
}

// Value shows v the way a cell's result is shown: richly when v has
// HTML(), Markdown(), SVG(), PNG(), JPEG(), JSON() or MIMEBundle() methods
// or is an image.Image, as text otherwise.
func Value(v any) { Data(nb.Bundle(v)) }

// Display is an output area that can be replaced in place: the first call
// shows it, later calls update what is shown (Jupyter's
// update_display_data), e.g. for a progress or status line.
type Display struct {
	id    string
	shown atomic.Bool
}

var seq atomic.Int64

// New returns a Display with a fresh id.
func New() *Display {
	return &Display{id: fmt.Sprintf("fair-%d-%d", time.Now().UnixNano(), seq.Add(1))}
}

// ID returns a Display for a given id; displays with the same id, even in
// different cells, are updated together.
func ID(id string) *Display { return &Display{id: id} }

// ID returns the display id.
func (d *Display) ID() string { return d.id }

// Data shows or updates the display with a MIME bundle.
func (d *Display) Data(bundle map[string]any) {
	typ := "display"
	if d.shown.Swap(true) {
		typ = "update"
	}
	emit(typ, d.id, bundle)
}

// HTML shows or updates the display with HTML.
func (d *Display) HTML(s string) { d.Data(map[string]any{"text/html": s, "text/plain": s}) }

// Markdown shows or updates the display with Markdown.
func (d *Display) Markdown(s string) {
	d.Data(map[string]any{"text/markdown": s, "text/plain": s})
}

// Text shows or updates the display with plain text.
func (d *Display) Text(s string) { d.Data(map[string]any{"text/plain": s}) }

// PNG shows or updates the display with PNG bytes.
func (d *Display) PNG(b []byte) { d.Data(pngBundle(b)) }

// SVG shows or updates the display with an SVG image.
func (d *Display) SVG(s string) {
	d.Data(map[string]any{"image/svg+xml": s, "text/plain": "[svg image]"})
}

// JSON shows or updates the display with v encoded as JSON.
func (d *Display) JSON(v any) { d.Data(jsonBundle(v)) }

// Value shows or updates the display with v rendered as a result.
func (d *Display) Value(v any) { d.Data(nb.Bundle(v)) }

func emit(typ, id string, bundle map[string]any) {
	if !nb.InKernel() {
		return
	}
	_ = nb.Emit(nb.Message{Type: typ, DisplayID: id, Data: bundle})
}

func pngBundle(b []byte) map[string]any {
	return map[string]any{"image/png": base64.StdEncoding.EncodeToString(b), "text/plain": "[png image]"}
}

func jsonBundle(v any) map[string]any {
	raw, err := json.Marshal(v)
	if err != nil {
		return map[string]any{"text/plain": "display.JSON: " + err.Error()}
	}
	return map[string]any{"application/json": json.RawMessage(raw), "text/plain": string(raw)}
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}
