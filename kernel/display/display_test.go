package display_test

import (
	"bufio"
	"encoding/json"
	"image"
	"os"
	"strconv"
	"testing"

	"github.com/fair-go/fair/kernel/display"
	"github.com/fair-go/fair/kernel/nb"
	"github.com/fair-go/fair/kernel/nb/render"
)

var messages *bufio.Scanner

// TestMain plays the kernel host: it hands the package a pipe through the
// same environment variable the host sets.
func TestMain(m *testing.M) {
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	os.Setenv(nb.FDEnv, strconv.Itoa(int(w.Fd())))
	nb.SetRenderer(render.Renderer{})
	messages = bufio.NewScanner(r)
	messages.Buffer(make([]byte, 1<<20), 1<<20)
	os.Exit(m.Run())
}

func next(t *testing.T) nb.Message {
	t.Helper()
	if !messages.Scan() {
		t.Fatal("no message")
	}
	var m nb.Message
	if err := json.Unmarshal(messages.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

type report struct{}

func (report) HTML() string { return "<p>report</p>" }

func TestDisplay(t *testing.T) {
	display.HTML("<b>x</b>")
	if m := next(t); m.Type != "display" || m.Data["text/html"] != "<b>x</b>" {
		t.Errorf("HTML: %+v", m)
	}
	display.JSON(map[string]int{"a": 1})
	if m := next(t); m.Data["text/plain"] != `{"a":1}` {
		t.Errorf("JSON: %+v", m)
	}
	d := display.New()
	d.Text("epoch 1")
	d.Text("epoch 2")
	first, second := next(t), next(t)
	if first.Type != "display" || second.Type != "update" || first.DisplayID == "" || first.DisplayID != second.DisplayID {
		t.Errorf("update in place: %+v then %+v", first, second)
	}
	display.Value(report{})
	if m := next(t); m.Data["text/html"] != "<p>report</p>" {
		t.Errorf("HTML() method: %+v", m)
	}
	if err := display.Image(image.NewGray(image.Rect(0, 0, 2, 3))); err != nil {
		t.Fatal(err)
	}
	if m := next(t); m.Data["image/png"] == nil {
		t.Errorf("image: %+v", m)
	}
	if !nb.InKernel() {
		t.Error("InKernel false with the descriptor set")
	}
}

func TestBundle(t *testing.T) {
	b := nb.Bundle(image.NewRGBA(image.Rect(0, 0, 4, 5)))
	if b["text/plain"] != "[4x5 image]" || b["image/png"] == nil {
		t.Errorf("image bundle: %v", b["text/plain"])
	}
	if b := nb.Bundle("text"); b["text/plain"] != "text" {
		t.Errorf("string bundle: %v", b)
	}
}
