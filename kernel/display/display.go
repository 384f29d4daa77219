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

// Shown is what the display functions return: the output is in the cell
// already, and a Shown that ends a cell adds nothing. It lets notebooks
// written for gophernotes, whose display.HTML(...) returns a value the cell
// shows as its result, run as they are: d := display.HTML(s) compiles, and
// Display(d) (or display.Show(d)) shows nothing twice.
type Shown struct{}

// FairShown marks the value the cell runtime does not show as a result.
func (Shown) FairShown() {}

// Data shows a raw MIME bundle, e.g. {"text/html": "<b>hi</b>"}.
func Data(bundle map[string]any) Shown { emit("display", "", bundle); return Shown{} }

// HTML shows an HTML fragment.
func HTML(s string) Shown { return Data(map[string]any{"text/html": s, "text/plain": s}) }

// Markdown shows Markdown text.
func Markdown(s string) Shown { return Data(map[string]any{"text/markdown": s, "text/plain": s}) }

// Latex shows LaTeX (text/latex), e.g. "$x^2$".
func Latex(s string) Shown { return Data(map[string]any{"text/latex": s, "text/plain": s}) }

// Math shows a LaTeX formula on its own line ($$ added around it).
func Math(s string) Shown { return Latex("$$" + s + "$$") }

// JavaScript shows (runs) JavaScript in frontends that allow it.
func JavaScript(s string) Shown {
	return Data(map[string]any{"application/javascript": s, "text/plain": "[javascript]"})
}

// SVG shows an SVG image.
func SVG(s string) Shown {
	return Data(map[string]any{"image/svg+xml": s, "text/plain": "[svg image]"})
}

// PNG shows PNG-encoded bytes.
func PNG(b []byte) Shown { return Data(pngBundle(b)) }

// JPEG shows JPEG-encoded bytes.
func JPEG(b []byte) Shown {
	return Data(map[string]any{"image/jpeg": base64.StdEncoding.EncodeToString(b), "text/plain": "[jpeg image]"})
}

// PDF shows PDF bytes.
func PDF(b []byte) Shown {
	return Data(map[string]any{"application/pdf": base64.StdEncoding.EncodeToString(b), "text/plain": "[pdf]"})
}

// JSON shows v as JSON (v is encoded with encoding/json).
func JSON(v any) Shown { return Data(jsonBundle(v)) }

// Text shows plain text as a display (not as a stream).
func Text(s string) Shown { return Data(map[string]any{"text/plain": s}) }

// MakeData shows data as the MIME type mime (bytes of a binary type such
// as image/png are base64-encoded), with its text as the plain form.
func MakeData(mime string, data any) Shown {
	return MakeData3(mime, fmt.Sprint(data), data)
}

// MakeData3 is MakeData with the plain-text form given.
func MakeData3(mime, plain string, data any) Shown {
	if b, ok := data.([]byte); ok {
		data = base64.StdEncoding.EncodeToString(b)
	}
	bundle := map[string]any{mime: data}
	if mime != "text/plain" {
		bundle["text/plain"] = plain
	}
	return Data(bundle)
}

// Any is MakeData (gophernotes' name for it).
func Any(mime string, data any) Shown { return MakeData(mime, data) }

// Show shows v as a cell's result is shown, unless it is a Shown (already
// in the cell). In a cell, gophernotes' Display(v) is Show(v).
func Show(v any) error {
	switch v := v.(type) {
	case Shown:
	case map[string]any:
		Data(v)
	default:
		Value(v)
	}
	return nil
}

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
func Value(v any) Shown { return Data(nb.Bundle(v)) }

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
