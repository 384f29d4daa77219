package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/internal/testregistry"
)

// fair login reads the password from stdin, names the configured
// registry's host when no argument is given, and fair logout undoes it;
// the password never reaches the output.
func TestLoginCommand(t *testing.T) {
	reg := testregistry.Start(t, testregistry.WithAuth("ada", "s3cret"))
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	cfg := config.Default()
	must(t, cfg.Set("registry", reg.Host+"/team", "test"))
	run := func(stdin string, args ...string) (string, error) {
		out, errOut := &iostreams.SyncBuffer{}, &iostreams.SyncBuffer{}
		root := deployRoot(&iostreams.IOStreams{In: strings.NewReader(stdin), Out: out, Err: errOut}, cfg)
		root.SetArgs(args)
		err := root.ExecuteContext(context.Background())
		return out.String() + errOut.String(), err
	}
	if _, err := run("", "login", "-u", "ada"); err == nil || !strings.Contains(err.Error(), "--password-stdin") {
		t.Errorf("no password, no terminal: err = %v", err)
	}
	if out, err := run("nope\n", "login", "-u", "ada", "--password-stdin"); err == nil || strings.Contains(out, "nope") {
		t.Errorf("wrong password: err = %v, output %q", err, out)
	}
	out, err := run("s3cret\n", "login", "-u", "ada", "--password-stdin")
	if err != nil || !strings.Contains(out, "Logged in to "+reg.Host+" as ada") || strings.Contains(out, "s3cret") {
		t.Fatalf("login: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(os.Getenv("DOCKER_CONFIG"), "config.json")); !strings.Contains(string(b), reg.Host) {
		t.Errorf("config.json: %s", b)
	}
	if out, err := run("", "logout", reg.Host); err != nil || !strings.Contains(out, "Removed the credentials for "+reg.Host) {
		t.Errorf("logout: %v %s", err, out)
	}
	if out, err := run("", "logout"); err != nil || !strings.Contains(out, "Not logged in") {
		t.Errorf("second logout: %v %s", err, out)
	}
}
