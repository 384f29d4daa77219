package models

import (
	"fmt"
	"testing"
)

func TestMetricsKeepsLastValues(t *testing.T) {
	m := &Metrics{}
	// Katib's pattern: name=value pairs anywhere in a line, split writes,
	// exponents, signs, and a last line without a newline.
	for _, s := range []string{"epoch=1 loss=0.9", "3\nnoise without pairs\nacc = 0.5 lr=1e-3\n", "rank 0/2 epoch=2 loss=-2.5E-1", "\nf1-score=0.8"} {
		fmt.Fprint(m, s)
	}
	got := m.Last()
	want := map[string]float64{"epoch": 2, "loss": -0.25, "acc": 0.5, "lr": 0.001, "f1-score": 0.8}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if s := FormatMetrics(got); s != "acc=0.5 epoch=2 f1-score=0.8 loss=-0.25 lr=0.001" {
		t.Errorf("FormatMetrics = %q", s)
	}
}

func TestRef(t *testing.T) {
	for in, want := range map[string]string{
		"lr":               "r.example/team/models/lr:latest",
		"lr:fit-1":         "r.example/team/models/lr:fit-1",
		"lr@sha256:abc":    "r.example/team/models/lr@sha256:abc",
		"other.io/x/y:tag": "other.io/x/y:tag",
	} {
		if got, err := Ref("r.example/team/", in); err != nil || got != want {
			t.Errorf("Ref(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := Ref("", "lr"); err == nil {
		t.Error("no registry: no error")
	}
	if got := modelName("team/models/lr"); got != "lr" {
		t.Errorf("modelName = %q", got)
	}
}
