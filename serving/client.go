package serving

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client calls an Open Inference Protocol v2 server, such as one started
// by fair serve (reached through a port-forward or its URL).
type Client struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:8080.
	URL string
	// HTTP is the client used; nil uses one with a two-minute timeout.
	HTTP *http.Client
}

var defaultHTTP = &http.Client{Timeout: 2 * time.Minute}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

// Models lists the models the server hosts (the KServe v1 list, which the
// serving runtime answers).
func (c *Client) Models(ctx context.Context) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"/v1/models", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var list struct {
		Models []string `json:"models"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&list) != nil {
		return nil, errors.New("cannot list its models")
	}
	return list.Models, nil
}

// OnlyModel returns the one model the server hosts, or says to pick one.
func (c *Client) OnlyModel(ctx context.Context) (string, error) {
	models, err := c.Models(ctx)
	switch {
	case err != nil || len(models) == 0:
		return "", errors.New("cannot list its models; pass --model")
	case len(models) > 1:
		return "", fmt.Errorf("it hosts %d models (%s); pass --model", len(models), strings.Join(models, ", "))
	}
	return models[0], nil
}

// Infer posts an inference request (JSON, as the Open Inference Protocol
// defines it) to model (and version, when given) and returns the response
// body. A non-2xx answer is an error carrying the server's message.
//
// A KServe v1 request (a JSON object with "instances") goes to
// /v1/models/MODEL:predict instead, as KServe's own clients send it.
func (c *Client) Infer(ctx context.Context, model, version string, body []byte) ([]byte, error) {
	path := "/v2/models/" + model
	if version != "" {
		path += "/versions/" + version
	}
	path += "/infer"
	if isV1(body) {
		if version != "" {
			return nil, errors.New("a KServe v1 request (instances) names no model version")
		}
		path = "/v1/models/" + model + ":predict"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http().Do(req)
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

// isV1 reports whether body is a KServe v1 request: an object with
// "instances" and no "inputs".
func isV1(body []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return false
	}
	_, inst := top["instances"]
	_, inputs := top["inputs"]
	return inst && !inputs
}
