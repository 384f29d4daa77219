package builder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStaticCmdProblem(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("train", "\x7fELF")
	write("bin/tool", "\x7fELF")
	write("train.sh", "#!/bin/sh\necho hi\n")
	write("own.sh", "#!/app/train\n")
	for _, c := range []struct {
		workdir, program, want string // want: "" or a part of the problem
	}{
		{"/app", "/app/train", ""},
		{"/app", "./train", ""},
		{"/app", "sub/../train", ""},
		{"/app", "/app/own.sh", ""}, // its interpreter is the folder's
		{"/", "tool", ""},           // /bin/tool, on the PATH
		{"/app", "python", `no "python" to run`},
		{"/app", "tool", `no "tool" to run`}, // /app/bin is not on the PATH
		{"/app", "/usr/bin/python3", "not in the image"},
		{"/app", "./missing", "not in the source folder"},
		{"/app", "./train.sh", "a script for /bin/sh"},
		{"/app", "/app/bin", "not in the image"}, // a folder
	} {
		got := staticCmdProblem(dir, c.workdir, c.program)
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s in %s: %q, want %q", c.program, c.workdir, got, c.want)
		}
	}
}
