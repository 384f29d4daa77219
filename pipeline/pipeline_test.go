package pipeline_test

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/fair-go/fair/pipeline"
)

// diamond is A -> B, C -> D: A's output reaches B and C, D combines them.
func diamond() *pipeline.Pipeline {
	return pipeline.New("diamond",
		pipeline.NewStep("a", pipeline.Go("./examples/pipeline/a")).Out("data"),
		pipeline.NewStep("b", pipeline.Go("./examples/pipeline/double")).In("data", "a.data").Out("result"),
		pipeline.NewStep("c", pipeline.Go("./examples/pipeline/double")).In("data", "a.data").Out("result").GPUs(1).Memory("1Gi"),
		pipeline.NewStep("d", pipeline.Image("busybox@sha256:"+strings.Repeat("0", 64), "sh", "-c", "cat")).
			In("left", "b.result").In("right", "c.result").Value("sum"),
	)
}

func TestValidateErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *pipeline.Pipeline
		want string
	}{
		{"cycle", pipeline.New("p",
			pipeline.NewStep("a", pipeline.Image("x", "true")).In("x", "c.out").Out("out"),
			pipeline.NewStep("b", pipeline.Image("x", "true")).In("x", "a.out").Out("out"),
			pipeline.NewStep("c", pipeline.Image("x", "true")).In("x", "b.out").Out("out"),
		), "cycle: a -> b -> c -> a"},
		{"self", pipeline.New("p", pipeline.NewStep("a", pipeline.Image("x", "true")).Needs("a")), "cycle: a -> a"},
		{"missing input", pipeline.New("p",
			pipeline.NewStep("a", pipeline.Image("x", "true")).Out("data"),
			pipeline.NewStep("b", pipeline.Image("x", "true")).In("data", "a.model"),
		), `step b: missing input data: step a has no output "model"`},
		{"unknown step", pipeline.New("p",
			pipeline.NewStep("b", pipeline.Image("x", "true")).In("data", "nope.data"),
		), `step b: input data comes from unknown step "nope"`},
		{"unknown prev", pipeline.New("p",
			pipeline.NewStep("b", pipeline.Image("x", "true")).Needs("ghost"),
		), `step b: runs after unknown step "ghost"`},
		{"duplicate", pipeline.New("p",
			pipeline.NewStep("a", pipeline.Image("x")), pipeline.NewStep("a", pipeline.Image("x")),
		), "step a is defined twice"},
		{"bad name", pipeline.New("p", pipeline.NewStep("Train_1", pipeline.Image("x"))), `step name "Train_1"`},
		{"no source", pipeline.New("p", pipeline.NewStep("a", pipeline.Source{})), "step a: no source"},
		{"dir without command", pipeline.New("p", pipeline.NewStep("a", pipeline.Dir("./x"))), "needs a command"},
		{"bad from", pipeline.New("p", pipeline.NewStep("a", pipeline.Image("x")).In("d", "a")), `want step.output, got "a"`},
		{"empty", pipeline.New("p"), "has no steps"},
		{"nothing", pipeline.New(""), "no pipeline here: want name: and steps:"},
		{"no name", pipeline.New("", pipeline.NewStep("a", pipeline.Image("x"))), "the pipeline has no name: add name:"},
		{"outputs differ in case", pipeline.New("p",
			pipeline.NewStep("a", pipeline.Image("x")).Out("data").Value("Data"),
		), "step a: outputs data and Data differ only in case: both would be $FAIR_OUT_DATA"},
		{"inputs differ in case", pipeline.New("p",
			pipeline.NewStep("a", pipeline.Image("x")).Out("data"),
			pipeline.NewStep("b", pipeline.Image("x")).In("x", "a.data").In("X", "a.data"),
		), "step b: inputs x and X differ only in case"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

func TestBuildOncePerSourceAndNothingWhenInvalid(t *testing.T) {
	var built []string
	build := func(_ context.Context, s pipeline.Source) (pipeline.Built, error) {
		built = append(built, s.String())
		return pipeline.Built{Ref: "reg/x@sha256:" + strings.Repeat("1", 64), Command: []string{"/usr/local/bin/x"}}, nil
	}
	imgs, err := diamond().Build(context.Background(), build)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(built)
	want := []string{"./examples/pipeline/a", "./examples/pipeline/double", "busybox@sha256:" + strings.Repeat("0", 64)}
	if !reflect.DeepEqual(built, want) {
		t.Fatalf("built %v, want each distinct source once: %v", built, want)
	}
	if got := imgs["d"].Command; !reflect.DeepEqual(got, []string{"sh", "-c", "cat"}) {
		t.Fatalf("step d command %v: the step's own command must win", got)
	}

	built = nil
	bad := diamond()
	bad.Step("a").In("loop", "d.sum")
	if _, err := bad.Build(context.Background(), build); err == nil || len(built) > 0 {
		t.Fatalf("invalid pipeline: err %v, built %v; want an error and no build", err, built)
	}
}

func TestSwapAndInsertAreOneLine(t *testing.T) {
	p := diamond()
	if err := p.Swap("b", pipeline.Dir("./b-py", "python", "b.py")); err != nil {
		t.Fatal(err)
	}
	if p.Step("b").Source.Kind != pipeline.SourceDir {
		t.Fatal("swap did not change the source")
	}
	if err := p.Insert(pipeline.NewStep("clean", pipeline.Go("./clean")).Out("data"), "a.data"); err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"b", "c"} {
		if got := p.Deps(p.Step(s)); !reflect.DeepEqual(got, []string{"clean"}) {
			t.Errorf("%s depends on %v after insert, want [clean]", s, got)
		}
	}
	if got := p.Deps(p.Step("clean")); !reflect.DeepEqual(got, []string{"a"}) {
		t.Errorf("clean depends on %v, want [a]", got)
	}
	var order []string
	for _, s := range p.Order() {
		order = append(order, s.Name)
	}
	if !reflect.DeepEqual(order, []string{"a", "clean", "b", "c", "d"}) {
		t.Errorf("order %v", order)
	}
	if err := p.Swap("nope", pipeline.Go(".")); err == nil {
		t.Error("swapping an unknown step must fail")
	}
}

func TestBuildErrorNamesStep(t *testing.T) {
	_, err := diamond().Build(context.Background(), func(context.Context, pipeline.Source) (pipeline.Built, error) {
		return pipeline.Built{}, errors.New("compile failed")
	})
	if err == nil || err.Error() != "step a: compile failed" {
		t.Fatalf("err = %v", err)
	}
}
