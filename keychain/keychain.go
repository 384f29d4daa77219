// Package keychain is where fair finds registry credentials, as ko does:
// the Docker config (config.json, credential stores and helpers, which
// fair login writes), then Google's (gcloud, application default
// credentials, GKE's metadata server) for gcr.io and *-docker.pkg.dev.
//
// Amazon ECR and Azure ACR are reached through their Docker credential
// helpers (docker-credential-ecr-login, docker-credential-acr-env) named in
// the Docker config's credHelpers, as their documentation sets them up;
// fair does not link their SDKs.
package keychain

import (
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/google"
)

// Default is the keychain of every build, push and pull fair makes from
// the user's machine. A registry the Docker config knows wins; Google's
// answers only for its own registries and is anonymous elsewhere.
var Default authn.Keychain = authn.NewMultiKeychain(authn.DefaultKeychain, google.Keychain)
