package authtest

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate/providers"
)

// The API server's service-account issuer paths.
const (
	kubeDiscoveryPath = "/.well-known/openid-configuration"
	kubeJWKSPath      = "/openid/v1/jwks"
)

// KubernetesCluster is a stand-in for a Kubernetes API server as a
// service-account token issuer: its issuer discovery endpoints and the
// tokens it projects into pods. Make one with Kubernetes. Its methods are
// safe for concurrent use.
type KubernetesCluster struct {
	server
	cfg       config
	issuer    string
	ring      *keyRing
	anonymous atomic.Bool
	bearer    *providers.Verifier // checks the bearer of discovery requests

	mu   sync.Mutex
	uids map[string]string // "kind/namespace/name" → a stable UID
}

// Kubernetes starts an API server stand-in on 127.0.0.1, over https
// (httptest.NewTLSServer, as every API server: CACert is its CA bundle, the
// mounted ca.crt), and closes it with t.Cleanup. Its service-account
// issuer is issuer (--service-account-issuer: kubeadm's
// "https://kubernetes.default.svc.cluster.local", say), or URL() when
// issuer is "" — a cluster whose issuer is its own public address, whose
// discovery a verifier can follow from the issuer. It serves, as
// kube-apiserver does (pkg/serviceaccount/openidmetadata.go; Kubernetes
// docs "Managing Service Accounts" and "Configure Service Accounts for
// Pods", section "Service account issuer discovery",
// https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#service-account-issuer-discovery):
//
//	/.well-known/openid-configuration  {"issuer", "jwks_uri": URL()+"/openid/v1/jwks",
//	                                    "response_types_supported": ["id_token"],
//	                                    "subject_types_supported": ["public"],
//	                                    "id_token_signing_alg_values_supported"}
//	/openid/v1/jwks                    {"keys": [{"use":"sig", "kty", "kid", "alg", "n", "e" | "crv", "x", "y"}]}
//
// both with "Cache-Control: public, max-age=3600". Like the API server's
// default RBAC (the system:service-account-issuer-discovery role bound to
// system:serviceaccounts), both answer 401 to a request without a bearer
// token this cluster signed; AllowAnonymous binds system:unauthenticated
// too. Keys are RS256 (WithAlgorithms("ES256") for an EC signing key) with
// Kubernetes' key IDs: base64url(SHA-256(DER public key)).
//
// Token mints pod-bound projected tokens, APIAccessToken the token the
// kubelet mounts for API access, LegacyToken a pre-1.24 Secret token.
// Options: WithAlgorithms, WithNow, WithLifetime (default 1 hour, the
// projection's default expirationSeconds), WithAudience (default
// DefaultAudience), WithCacheControl. t may be nil as for NewIssuer.
func Kubernetes(t testing.TB, issuer string, opts ...Option) *KubernetesCluster {
	if t != nil {
		t.Helper()
	}
	cfg := newConfig(opts)
	if len(cfg.algs) == 0 {
		cfg.algs = []string{providers.RS256}
	}
	c := &KubernetesCluster{cfg: cfg, uids: map[string]string{}}
	mux := http.NewServeMux()
	c.issuer = issuer
	if url := c.init(mux, true); issuer == "" {
		c.issuer = url
	}
	ring, err := newKeyRing("kube-apiserver", cfg.now, cfg.algs)
	if err != nil {
		fatal(t, err)
	}
	for _, k := range ring.keys {
		k.kid = kubeKeyID(k)
	}
	c.ring = ring
	c.bearer, err = providers.NewVerifier(providers.VerifierConfig{
		Name:                      "authtest-kubernetes",
		Issuer:                    c.issuer,
		InsecureSkipAudienceCheck: true, // any token of the cluster authenticates
		Algorithms:                []string{providers.RS256, providers.ES256, providers.ES384, providers.ES512},
		Keys:                      kubeKeys{ring},
		Now:                       cfg.now,
	})
	if err != nil {
		fatal(t, err)
	}
	cache := cfg.cache("public, max-age=3600")
	c.handle(mux, "GET "+kubeDiscoveryPath, func(w http.ResponseWriter, r *http.Request) {
		if c.authorized(w, r) {
			writeJSON(w, c.discovery(), cache)
		}
	})
	c.handle(mux, "GET "+kubeJWKSPath, func(w http.ResponseWriter, r *http.Request) {
		if c.authorized(w, r) {
			keys := []map[string]any{}
			for _, k := range c.ring.published() {
				keys = append(keys, k.jwk("sig", false, false))
			}
			w.Header().Set("Content-Type", "application/jwk-set+json")
			writeJSON(w, map[string]any{"keys": keys}, cache)
		}
	})
	c.begin(t)
	return c
}

// kubeKeyID is the kid kube-apiserver gives a key: the unpadded base64url
// SHA-256 of its DER SubjectPublicKeyInfo.
func kubeKeyID(k *key) string {
	der, err := x509.MarshalPKIXPublicKey(k.signer.Public())
	if err != nil {
		panic("authtest: " + err.Error())
	}
	sum := sha256.Sum256(der)
	return b64(sum[:])
}

// kubeKeys are the cluster's published keys, as the API server checks a
// bearer token with them.
type kubeKeys struct{ ring *keyRing }

func (k kubeKeys) VerificationKeys(_ context.Context, kid, alg string) ([]providers.Key, error) {
	var keys []providers.Key
	for _, key := range k.ring.verificationKeys() {
		if key.Algorithm == alg && (kid == "" || key.ID == kid) {
			keys = append(keys, key)
		}
	}
	return keys, nil
}

// authorized answers 401 with the API server's Status body unless the
// request carries a token of the cluster or anonymous access is allowed.
func (c *KubernetesCluster) authorized(w http.ResponseWriter, r *http.Request) bool {
	if c.anonymous.Load() {
		return true
	}
	if token, err := providers.BearerToken(r); err == nil {
		if _, err := c.bearer.Verify(r.Context(), token); err == nil {
			return true
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	w.Write([]byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`))
	return false
}

func (c *KubernetesCluster) discovery() map[string]any {
	algs := []string{}
	for _, k := range c.ring.published() {
		if !slices.Contains(algs, k.alg) {
			algs = append(algs, k.alg)
		}
	}
	slices.Sort(algs)
	return map[string]any{
		"issuer":                                c.issuer,
		"jwks_uri":                              c.URL() + kubeJWKSPath,
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": algs,
	}
}

// AllowAnonymous lets requests without a token read the discovery
// document and the key set, as a cluster whose admin bound
// system:service-account-issuer-discovery to system:unauthenticated (or
// a managed cluster's public issuer endpoint).
func (c *KubernetesCluster) AllowAnonymous() { c.anonymous.Store(true) }

// Issuer returns the service-account issuer: the tokens' "iss".
func (c *KubernetesCluster) Issuer() string { return c.issuer }

// APIServer returns the API server's address, URL().
func (c *KubernetesCluster) APIServer() string { return c.URL() }

// JWKSURL returns the key set's address, APIServer()+"/openid/v1/jwks".
func (c *KubernetesCluster) JWKSURL() string { return c.URL() + kubeJWKSPath }

// CACert returns the cluster's CA bundle (PEM): what a pod finds in
// /var/run/secrets/kubernetes.io/serviceaccount/ca.crt.
func (c *KubernetesCluster) CACert() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.srv.Certificate().Raw})
}

// MountServiceAccount writes what the kubelet mounts into a pod running
// as namespace/name — "ca.crt", "namespace" and "token" (APIAccessToken)
// — into a new directory under t.TempDir, and returns the directory. t
// must not be nil.
func (c *KubernetesCluster) MountServiceAccount(t testing.TB, namespace, name string) string {
	t.Helper()
	dir := t.TempDir()
	for file, data := range map[string][]byte{
		"ca.crt":    c.CACert(),
		"namespace": []byte(namespace),
		"token":     []byte(c.APIAccessToken(namespace, name, nil)),
	} {
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// KeyID returns the kid of the signing key.
func (c *KubernetesCluster) KeyID() string { return c.ring.find("").kid }

// Keys returns the published verification keys, the signing key first.
func (c *KubernetesCluster) Keys() []providers.Key { return c.ring.verificationKeys() }

// Rotate generates a new key of the signing key's algorithm (with its
// Kubernetes kid), publishes it and signs with it from now on; the
// previous key stays published until Retire. It returns the new kid.
func (c *KubernetesCluster) Rotate() string {
	k, err := newKey(c.ring.find("").alg, c.ring.cn, c.cfg.now())
	if err != nil {
		panic(err)
	}
	k.kid = kubeKeyID(k)
	c.ring.mu.Lock()
	defer c.ring.mu.Unlock()
	c.ring.keys = append(c.ring.keys, k)
	c.ring.signer = k
	return k.kid
}

// Retire takes the key kid out of the key set; it reports whether the
// cluster has such a key.
func (c *KubernetesCluster) Retire(kid string) bool { return c.ring.retire(kid) }

// JWKSRequests returns how many requests /openid/v1/jwks got, those
// answered 401 or with an error by Fail included.
func (c *KubernetesCluster) JWKSRequests() int { return c.requests("GET " + kubeJWKSPath) }

// DiscoveryRequests returns how many requests the discovery document got.
func (c *KubernetesCluster) DiscoveryRequests() int { return c.requests("GET " + kubeDiscoveryPath) }

// uid returns the stable UID of an object of the cluster.
func (c *KubernetesCluster) uid(kind, namespace, name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := kind + "/" + namespace + "/" + name
	if c.uids[k] == "" {
		c.uids[k] = randomUUID()
	}
	return c.uids[k]
}

// Token mints the token a pod running as service account namespace/name
// finds in a projected serviceAccountToken volume, as the docs' example
// ("Managing Service Accounts", "Schema for service account private
// claims", https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/)
// shows it: header {"alg", "kid"} with no "typ"; claims "aud" an array
// (WithAudience, default [DefaultAudience]), "exp" (iat + 1 hour), "iat",
// "nbf" = "iat", "iss", "jti" (a UUID), "sub"
// "system:serviceaccount:NAMESPACE:NAME" and "kubernetes.io" {"namespace",
// "serviceaccount" {"name", "uid"}, "pod" {"name", "uid"}, "node" {"name",
// "uid"}}, with stable UIDs per object. Override "kubernetes.io" whole
// for a Secret-bound token ({"secret": {"name", "uid"}} instead of pod
// and node). claims override as for Issuer.Token.
func (c *KubernetesCluster) Token(namespace, name string, claims map[string]any) string {
	aud := slices.Clone(c.cfg.audience)
	if len(aud) == 0 {
		aud = []string{DefaultAudience}
	}
	lifetime := time.Hour
	if c.cfg.lifetime > 0 {
		lifetime = c.cfg.lifetime
	}
	return c.mint(namespace, name, aud, lifetime, 0, claims)
}

// APIAccessToken mints the token the kubelet mounts at
// /var/run/secrets/kubernetes.io/serviceaccount/token (the kube-api-access
// volume): like Token, but "aud" is [Issuer()] (the API server's own
// audience) and, with the API server's default
// --service-account-extend-token-expiration, "exp" lies a year after
// "iat" while "kubernetes.io.warnafter" marks the nominal 3607 seconds.
// A service other than the API server must refuse it.
func (c *KubernetesCluster) APIAccessToken(namespace, name string, claims map[string]any) string {
	return c.mint(namespace, name, []string{c.issuer}, 365*24*time.Hour, 3607*time.Second, claims)
}

func (c *KubernetesCluster) mint(namespace, name string, aud []string, lifetime, warn time.Duration, over map[string]any) string {
	iat, exp := times(c.cfg.now, lifetime, over)
	pod := name + "-7d9c5b8f6-x2k8p"
	k8s := map[string]any{
		"namespace":      namespace,
		"serviceaccount": map[string]any{"name": name, "uid": c.uid("serviceaccount", namespace, name)},
		"pod":            map[string]any{"name": pod, "uid": c.uid("pod", namespace, pod)},
		"node":           map[string]any{"name": "node-1", "uid": c.uid("node", "", "node-1")},
	}
	if warn > 0 {
		k8s["warnafter"] = iat + int64(warn/time.Second)
	}
	claims := map[string]any{
		"aud": aud, "exp": exp, "iat": iat, "nbf": iat, "iss": c.issuer, "jti": randomUUID(),
		"sub": "system:serviceaccount:" + namespace + ":" + name, "kubernetes.io": k8s,
	}
	return mint(c.ring.find(""), "", map[string]any{"typ": nil}, claims, over)
}

// LegacyToken mints a pre-1.24 Secret-based service-account token, which
// no verifier of projected tokens should take for its own: "iss"
// "kubernetes/serviceaccount", no "aud" and no "exp", and the claims
// "kubernetes.io/serviceaccount/namespace", ".../secret.name",
// ".../service-account.name" and ".../service-account.uid".
func (c *KubernetesCluster) LegacyToken(namespace, name string) string {
	const p = "kubernetes.io/serviceaccount/"
	claims := map[string]any{
		"iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:" + namespace + ":" + name,
		p + "namespace": namespace, p + "secret.name": name + "-token-x7k2p",
		p + "service-account.name": name, p + "service-account.uid": c.uid("serviceaccount", namespace, name),
	}
	return mint(c.ring.find(""), "", map[string]any{"typ": nil}, claims, nil)
}
