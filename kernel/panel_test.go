package kernel

import (
	"strings"
	"testing"
)

func TestPanelArgs(t *testing.T) {
	for _, tc := range []struct {
		req       panelRequest
		args, err string
	}{
		{panelRequest{Action: "train", Flags: map[string]any{"gpus": 1.0, "workers": 2.0, "kind": "pytorchjob", "name": "fit-1"}}, "train --gpus 1 --kind pytorchjob --name fit-1 --workers 2", ""},
		{panelRequest{Action: "serve", Flags: map[string]any{"name": "api", "gpus": ""}}, "serve --name api", ""},
		{panelRequest{Action: "delete", Run: "fit-1"}, "delete fit-1", ""},
		// Anything that could reach the magic's command line as more than
		// a value is refused before %kf runs.
		{panelRequest{Action: "train", Flags: map[string]any{"image": "evil"}}, "", `unknown flag "image"`},
		{panelRequest{Action: "train", Flags: map[string]any{"name": "x --image evil"}}, "", `--name "x --image evil" is not valid`},
		{panelRequest{Action: "train", Flags: map[string]any{"gpus": 1.5}}, "", `--gpus "1.5" is not valid`},
		{panelRequest{Action: "train", Flags: map[string]any{"kind": "job;rm"}}, "", "not valid"},
		{panelRequest{Action: "delete", Run: "a b"}, "", "not valid"},
		{panelRequest{Action: "exec"}, "", `unknown action "exec"`},
	} {
		got, err := panelArgs(tc.req)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: err %v, want %q", tc.req, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.args {
			t.Errorf("%+v: %q, %v; want %q", tc.req, got, err, tc.args)
		}
	}
}
