package build

import (
	"strings"
	"testing"

	"github.com/fair-go/fair/config"
)

func TestSplitCommand(t *testing.T) {
	got, err := SplitCommand(`python -c "print('a b')" x\ y 'c d'`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"python", "-c", "print('a b')", "x y", "c d"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q", got)
	}
	if _, err := SplitCommand(`python "unclosed`); err == nil {
		t.Fatal("an unterminated quote was accepted")
	}
	// POSIX's backslashes: inside double quotes only $ ` " \ and newline
	// are escaped; outside, any character.
	for in, want := range map[string]string{
		`"a\b" "a\"b" a\\b 'c\d'`:            `a\b|a"b|a\b|c\d`,
		`KEY=v python3 train.py --lr=0.1`:    `KEY=v|python3|train.py|--lr=0.1`,
		`-d '{"inputs": [1]}' '$HOME' "x y"`: `-d|{"inputs": [1]}|$HOME|x y`,
		"a\\\nb":                             "ab",
		"":                                   "",
	} {
		got, err := SplitCommand(in)
		if err != nil || strings.Join(got, "|") != want {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`echo $HOME`, `a; b`, `a | b`, `a > f`, "a `b`", `a "$(b)"`, `a &`} {
		if _, err := SplitCommand(bad); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("SplitCommand(%q): %v, want one line of error", bad, err)
		}
	}
}

// SourceFor picks the kind of source from the path and the configuration.
func TestSourceFor(t *testing.T) {
	cfg := config.Default()
	for _, tc := range []struct {
		path, cmd, dockerfile, want string
		include                     []string
	}{
		{"../examples/hello", "", "", "embed the files with //go:embed, or build the folder as a directory source (--cmd)", []string{"data"}},
		{"../examples/train-py", "python3 train.py", "", "put them in the source folder instead", []string{"data"}},
		{"../examples/hello", "", "", "hello", nil},
		{"../examples/notebooks/train.ipynb", "", "", "train", nil},
		{"../examples/train-py", "python3 train.py", "", "train-py", nil},
		{"../examples/train-py", "", "", "is not a Go main package", nil},
		{"../examples/hello", "", "Dockerfile", "needs a BuildKit daemon", nil},
		{"../examples/hello", `python "x`, "", "--cmd", nil},
		{"../examples/nowhere", "", "", "source ../examples/nowhere", nil},
		{"../examples/hello/main.go", "", "", "want a directory", nil},
	} {
		c := cfg.Clone()
		c.Cmd, c.Dockerfile, c.Include = tc.cmd, tc.dockerfile, tc.include
		src, err := SourceFor(tc.path, c, "")
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = src.Name()
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s (cmd %q, dockerfile %q): got %q, want %q", tc.path, tc.cmd, tc.dockerfile, got, tc.want)
		}
	}
}

// Splitting a command line never panics, and joining the words splits back
// to the same words.
func FuzzSplitCommand(f *testing.F) {
	f.Add(`python -c "print('a b')" x\ y 'c d'`)
	f.Add(`"unclosed`)
	f.Fuzz(func(t *testing.T, line string) {
		words, err := SplitCommand(line)
		if err != nil {
			return
		}
		again, err := SplitCommand(JoinCommand(words))
		if err != nil || strings.Join(again, "\x00") != strings.Join(words, "\x00") {
			t.Fatalf("%q: split %q, joined and split again %q (%v)", line, words, again, err)
		}
	})
}
