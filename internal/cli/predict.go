package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/serving"
)

func newPredictCmd(ios *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var data, model, version string
	cmd := &cobra.Command{
		Use:   "predict NAME -d JSON|@FILE|-",
		Short: "Send an inference request to an endpoint started by fair serve",
		Long: `Send an Open Inference Protocol v2 request to the endpoint NAME and print the
response. An InferenceService is called at its own URL when that answers
from here (fair running in the cluster, or an ingress); anything else
through a port-forward:

  fair predict risk -d @examples/serve-go/input.json
  echo '{"inputs":[...]}' | fair predict risk -d -
  fair predict risk -d '{"instances":[[0.5,1.2]]}'   # KServe v1: sent to :predict

--model picks the model when the server hosts several (default: its only one).`,
		Args: oneName("endpoint", "fair ps"),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := readData(data, ios.In)
			if err != nil {
				return err
			}
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			run, obj, err := c.Find(ctx, args[0])
			if err != nil {
				return err
			}
			if run.Kind.Training() {
				return fmt.Errorf("%s is a %s, a training run: fair predict asks endpoints (fair serve; fair ps lists them)", run.Name, run.Kind)
			}
			// An InferenceService answers at its own URL where that is
			// reachable (fair inside the cluster, an ingress); else a
			// port-forward to its pod.
			url := ""
			if run.Kind == deployer.KindKServe {
				url = deployer.ReachableURL(ctx, obj)
			}
			if url == "" {
				var done <-chan struct{}
				if url, done, err = c.PortForward(ctx, run, 0, c.ServicePort(ctx, run)); err != nil {
					return err
				}
				defer func() { cancel(); <-done }()
			}
			client := &serving.Client{URL: url}
			if model == "" {
				if model, err = client.OnlyModel(ctx); err != nil {
					return fmt.Errorf("%s: %v", args[0], err)
				}
			}
			out, err := client.Infer(ctx, model, version, body)
			if err != nil {
				return fmt.Errorf("%s: %v", args[0], err)
			}
			var pretty bytes.Buffer
			if json.Indent(&pretty, out, "", "  ") == nil {
				out = pretty.Bytes()
			}
			_, err = fmt.Fprintln(ios.Out, strings.TrimRight(string(out), "\n"))
			return err
		},
	}
	addClusterFlags(cmd, cfg)
	f := cmd.Flags()
	f.StringVarP(&data, "data", "d", "", "request body: JSON, @FILE, or - for stdin")
	f.StringVarP(&model, "model", "m", "", "model name (default: the server's only model)")
	f.StringVar(&version, "model-version", "", "model version (default: the server's choice)")
	return cmd
}

func readData(spec string, stdin io.Reader) ([]byte, error) {
	var b []byte
	var err error
	switch {
	case spec == "":
		return nil, errors.New("no request: pass -d JSON, -d @FILE or -d - (stdin)")
	case spec == "-":
		b, err = io.ReadAll(stdin)
	case strings.HasPrefix(spec, "@"):
		b, err = os.ReadFile(spec[1:])
	default:
		b = []byte(spec)
	}
	if err != nil {
		return nil, err
	}
	if !json.Valid(b) {
		return nil, errors.New("the request is not valid JSON")
	}
	return b, nil
}
