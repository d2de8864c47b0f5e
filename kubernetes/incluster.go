package kubernetes

import (
	"bytes"
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/authgate/authgate/providers"
)

// The files the kubelet mounts into every pod that uses a service account
// (the kube-api-access volume).
const (
	DefaultCAFile    = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
	DefaultTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"
)

// maxTokenFile bounds the read of the mounted token.
const maxTokenFile = 64 << 10

// keySource says where p's keys are and returns the in-cluster HTTP
// client, or nil outside InCluster.
func keySource(p *providers.Preset, cfg Config) (*http.Client, error) {
	if !cfg.InCluster && (cfg.CAFile != "" || cfg.TokenFile != "") {
		return nil, errors.New("kubernetes: CAFile and TokenFile are read in InCluster mode only")
	}
	api := cfg.APIServer
	if cfg.InCluster && api == "" {
		host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
		if host == "" || port == "" {
			return nil, errors.New("kubernetes: InCluster, but KUBERNETES_SERVICE_HOST or KUBERNETES_SERVICE_PORT is unset: not in a pod? set APIServer")
		}
		api = "https://" + net.JoinHostPort(host, port)
	}
	var server *url.URL
	if api != "" {
		var err error
		switch server, err = providers.CheckURL(api); {
		case err != nil:
			return nil, fmt.Errorf("kubernetes: API server %w", err)
		case server.RawQuery != "" || server.ForceQuery:
			return nil, fmt.Errorf("kubernetes: API server URL %q has a query", api)
		case cfg.InCluster && server.Scheme != "https":
			return nil, fmt.Errorf("kubernetes: API server URL %q: InCluster needs https", api)
		}
		if p.JWKSURL == "" {
			p.JWKSURL = strings.TrimSuffix(api, "/") + "/openid/v1/jwks"
		}
	}
	p.Discovery = p.JWKSURL == ""
	if !cfg.InCluster {
		return nil, nil
	}
	if cfg.HTTPClient != nil {
		return nil, errors.New("kubernetes: InCluster makes its own HTTP client from the CA bundle; HTTPClient cannot be set")
	}
	caFile, tokenFile := cmp.Or(cfg.CAFile, DefaultCAFile), cmp.Or(cfg.TokenFile, DefaultTokenFile)
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("kubernetes: CA bundle %s holds no PEM certificate", caFile)
	}
	if _, err := readToken(tokenFile); err != nil {
		return nil, err
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: &bearer{base: base, scheme: server.Scheme, host: server.Host, file: tokenFile}}, nil
}

// bearer sends the pod's service-account token to the API server, and to
// no other host.
type bearer struct {
	base         http.RoundTripper
	scheme, host string
	file         string
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != b.scheme || r.URL.Host != b.host {
		return b.base.RoundTrip(r)
	}
	token, err := readToken(b.file) // the kubelet rotates it: read it every time
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+token)
	return b.base.RoundTrip(r)
}

// readToken reads the mounted token. Its errors name the file, never its
// content.
func readToken(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("kubernetes: token file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	switch b = bytes.TrimSpace(b); {
	case err != nil:
		return "", fmt.Errorf("kubernetes: token file: %w", err)
	case len(b) > maxTokenFile:
		return "", fmt.Errorf("kubernetes: token file %s is over %d bytes", file, maxTokenFile)
	case len(b) == 0:
		return "", fmt.Errorf("kubernetes: token file %s is empty", file)
	case bytes.ContainsFunc(b, func(r rune) bool { return r <= ' ' || r >= 0x7f }):
		return "", fmt.Errorf("kubernetes: token file %s does not hold a token", file)
	}
	return string(b), nil
}
