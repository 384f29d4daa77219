// Package login stores and removes registry credentials in the Docker
// config, the way docker login and crane auth login do: through the
// config's credential store or helper when it names one, in config.json
// otherwise. fair's builds and pushes read them back through
// go-containerregistry's keychain, as every other tool on the machine does.
package login

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Options say where and how.
type Options struct {
	// ConfigDir is the Docker config folder (default $DOCKER_CONFIG or
	// ~/.docker).
	ConfigDir string
	// Insecure reaches the registry over plain HTTP.
	Insecure bool
	// Transport is the HTTP transport (default http.DefaultTransport).
	Transport http.RoundTripper
}

// Login checks user and password against registry and, when it accepts
// them, stores them. It returns where they went ("config.json" or the
// credential helper's name). Nothing is stored when the registry refuses.
func Login(ctx context.Context, registry, user, password string, o Options) (string, error) {
	if user == "" || password == "" {
		return "", errors.New("login needs a user name and a password (--password-stdin reads it)")
	}
	reg, err := parse(registry, o)
	if err != nil {
		return "", err
	}
	if err := check(ctx, reg, user, password, o); err != nil {
		return "", err
	}
	cf, err := config.Load(configDir(o))
	if err != nil {
		return "", fmt.Errorf("read the Docker config: %w", err)
	}
	key := serverKey(reg)
	store := cf.GetCredentialsStore(key)
	if err := store.Store(types.AuthConfig{ServerAddress: key, Username: user, Password: password}); err != nil {
		return "", fmt.Errorf("store the credentials for %s: %w", reg.RegistryStr(), err)
	}
	if err := cf.Save(); err != nil {
		return "", fmt.Errorf("write %s: %w", cf.Filename, err)
	}
	if helper := helperFor(cf.CredentialHelpers, cf.CredentialsStore, key); helper != "" {
		return "docker-credential-" + helper, nil
	}
	return cf.Filename, nil
}

// Logout removes registry's credentials; removed is false when there
// were none.
func Logout(registry string, o Options) (removed bool, err error) {
	reg, err := parse(registry, o)
	if err != nil {
		return false, err
	}
	cf, err := config.Load(configDir(o))
	if err != nil {
		return false, fmt.Errorf("read the Docker config: %w", err)
	}
	key := serverKey(reg)
	store := cf.GetCredentialsStore(key)
	got, err := store.Get(key)
	if err != nil {
		return false, fmt.Errorf("read the credentials for %s: %w", reg.RegistryStr(), err)
	}
	if got.Username == "" && got.Password == "" && got.IdentityToken == "" && got.Auth == "" {
		return false, nil
	}
	if err := store.Erase(key); err != nil {
		return false, fmt.Errorf("remove the credentials for %s: %w", reg.RegistryStr(), err)
	}
	return true, cf.Save()
}

func parse(registry string, o Options) (name.Registry, error) {
	registry = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(registry, "https://"), "http://"), "/")
	if registry == "" || strings.Contains(registry, "/") {
		return name.Registry{}, fmt.Errorf("registry %q: want a host such as ghcr.io or localhost:5000, without a path", registry)
	}
	var opts []name.Option
	if o.Insecure {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(registry, opts...)
	if err != nil {
		return name.Registry{}, fmt.Errorf("registry %q: %w", registry, err)
	}
	return reg, nil
}

// check has the registry answer GET /v2/ with the credentials: the token
// exchange refuses wrong ones on registries with tokens, the request
// itself on registries with basic auth.
func check(ctx context.Context, reg name.Registry, user, password string, o Options) error {
	rt := o.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	auth := authn.FromConfig(authn.AuthConfig{Username: user, Password: password})
	t, err := transport.NewWithContext(ctx, reg, auth, rt, []string{reg.Scope(transport.PullScope)})
	if err != nil {
		return refused(reg, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, reg.Scheme()+"://"+reg.RegistryStr()+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: t}).Do(req)
	if err != nil {
		return refused(reg, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("registry %s refused the credentials of %s (%d)", reg.RegistryStr(), user, resp.StatusCode)
	case resp.StatusCode >= 300:
		return fmt.Errorf("registry %s answered %s to GET /v2/", reg.RegistryStr(), resp.Status)
	}
	return nil
}

func refused(reg name.Registry, err error) error {
	var te *transport.Error
	if errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("registry %s refused the credentials (%d)", reg.RegistryStr(), te.StatusCode)
	}
	return fmt.Errorf("reach registry %s: %w", reg.RegistryStr(), err)
}

func configDir(o Options) string {
	if o.ConfigDir != "" {
		return o.ConfigDir
	}
	return os.Getenv("DOCKER_CONFIG") // empty: docker's own default, ~/.docker
}

// serverKey is the key docker login uses for a registry: Docker Hub's is
// its legacy index URL.
func serverKey(reg name.Registry) string {
	if reg.RegistryStr() == name.DefaultRegistry {
		return authn.DefaultAuthKey
	}
	return reg.RegistryStr()
}

func helperFor(helpers map[string]string, store, key string) string {
	if h := helpers[key]; h != "" {
		return h
	}
	return store
}
