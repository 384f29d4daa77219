package notebooks

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// conformance is a jupyter_kernel_test suite for the fair kernel: the
// Jupyter project's own checks of the messaging protocol (every reply and
// IOPub message validated against the v5 schema), fed with Go samples.
const conformance = `
import unittest
import jupyter_kernel_test as jkt

class FairKernelTests(jkt.KernelTests):
    kernel_name = "fair"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The samples use these packages; imports carry over to later
        # cells. The first cell also pays for the first compile, which the
        # suite's 15 s per message would not wait for.
        reply = cls.kc.execute_interactive(
            'import (\n\t"fmt"\n\t"os"\n\t"strings"\n\n\t"github.com/fair-go/fair/kernel/display"\n)\n'
            'var _, _, _ = fmt.Sprint, os.Getenv, strings.ToUpper\nvar _ = display.HTML',
            timeout=600, output_hook=lambda msg: None)
        assert reply["content"]["status"] == "ok", reply["content"]
    language_name = "go"
    file_extension = ".go"

    code_hello_world = 'fmt.Println("hello, world")'
    code_stderr = 'fmt.Fprintln(os.Stderr, "to stderr")'

    # Matches replace the text from cursor_start: the part after the dot.
    completion_samples = [
        {"text": "fmt.Sprin", "matches": {"Sprint", "Sprintf", "Sprintln"}},
        {"text": "strings.ToUp", "matches": {"ToUpper", "ToUpperSpecial"}},
    ]
    complete_code_samples = ['x := 1', 'fmt.Println("done")', 'func f() int {\n\treturn 1\n}']
    incomplete_code_samples = ['func f() int {', 'for i := 0; i < 3; i++ {', 'x := []int{1,']
    invalid_code_samples = ['x := )', 'func ) {']

    code_generate_error = 'undefinedName + 1'

    code_execute_result = [
        {"code": "1 + 2", "result": "3"},
        {"code": '"fair" + "!"', "result": "fair!"},
        {"code": "ys := []int{1, 2, 3}\nlen(ys)", "result": "3"},
    ]
    code_history_pattern = "1 + *"
    supported_history_operations = ("tail", "range", "search")

    code_display_data = [
        {"code": 'display.HTML("<b>bold</b>")', "mime": "text/html"},
        {"code": 'display.Markdown("*md*")', "mime": "text/markdown"},
    ]

    code_inspect_sample = "strings.ToUpper"

if __name__ == "__main__":
    unittest.main(verbosity=2)
`

// TestKernelConformance runs Jupyter's kernel test suite
// (python3-jupyter-kernel-test) against the installed fair kernel.
func TestKernelConformance(t *testing.T) {
	t.Parallel()
	if err := exec.Command("/usr/bin/python3", "-c", "import jupyter_kernel_test").Run(); err != nil {
		t.Skip("python3-jupyter-kernel-test is not installed (hack/deps.sh installs it)")
	}
	b := setup(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "test_fair_kernel.py")
	if err := os.WriteFile(script, []byte(conformance), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", script)
	cmd.Dir = dir
	cmd.Env = append(b.env, "FAIR_KERNEL_WORKDIR="+filepath.Join(b.dir, "work-conformance"))
	out, err := cmd.CombinedOutput()
	t.Logf("jupyter_kernel_test:\n%s", out)
	if err != nil {
		t.Fatalf("Jupyter's kernel test suite failed: %v", err)
	}
	if !strings.Contains(string(out), "OK") {
		t.Fatalf("the suite did not report OK")
	}
}
