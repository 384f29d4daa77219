package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
)

func newPredictCmd(ios *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var data, model, version string
	cmd := &cobra.Command{
		Use:   "predict NAME -d JSON|@FILE|-",
		Short: "Send an inference request to an endpoint started by fair serve",
		Long: `Send an Open Inference Protocol v2 request to the endpoint NAME through a
port-forward, and print the response:

  fair predict risk -d @examples/serve-go/input.json
  echo '{"inputs":[...]}' | fair predict risk -d -

--model picks the model when the server hosts several (default: its only one).`,
		Args: cobra.ExactArgs(1),
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
			run, _, err := c.Find(ctx, args[0])
			if err != nil {
				return err
			}
			url, done, err := c.PortForward(ctx, run, 0, c.ServicePort(ctx, run))
			if err != nil {
				return err
			}
			defer func() { cancel(); <-done }()
			if model == "" {
				if model, err = onlyModel(ctx, url); err != nil {
					return fmt.Errorf("%s: %v", args[0], err)
				}
			}
			path := "/v2/models/" + model
			if version != "" {
				path += "/versions/" + version
			}
			out, err := post(ctx, url+path+"/infer", body)
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

// onlyModel asks the server which models it hosts (the KServe v1 list,
// which the serving runtime answers) and returns the one there is.
func onlyModel(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/models", nil)
	if err != nil {
		return "", err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var list struct {
		Models []string `json:"models"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&list) != nil || len(list.Models) == 0 {
		return "", errors.New("cannot list its models; pass --model")
	}
	if len(list.Models) > 1 {
		return "", fmt.Errorf("it hosts %d models (%s); pass --model", len(list.Models), strings.Join(list.Models, ", "))
	}
	return list.Models[0], nil
}

var httpClient = &http.Client{Timeout: 2 * time.Minute}

func post(ctx context.Context, url string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(out, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("%s: %s", resp.Status, e.Error)
		}
		return nil, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(out)))
	}
	return out, nil
}
