package kubernetes_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/kubernetes"
	"github.com/authgate/authgate/providers"
)

const (
	audience = "https://orders.example.test"
	kubeadm  = "https://kubernetes.default.svc.cluster.local"
)

var now = time.Unix(1_800_000_000, 0)

func clock() time.Time { return now }

func cluster(t *testing.T, issuer string, opts ...authtest.Option) *authtest.KubernetesCluster {
	t.Helper()
	opts = append([]authtest.Option{authtest.WithNow(clock), authtest.WithAudience(audience)}, opts...)
	return authtest.Kubernetes(t, issuer, opts...)
}

// options are the shared options of the tests' configurations.
func options() providers.TokenOptions {
	return providers.TokenOptions{Audience: []string{audience}, Now: clock}
}

func build(t *testing.T, cfg kubernetes.Config) *kubernetes.Authenticator {
	t.Helper()
	a, err := kubernetes.New(cfg)
	if err != nil {
		t.Fatalf("kubernetes.New: %v", err)
	}
	return a
}

// inCluster configures the authenticator of a pod of c running as
// authgate/gateway.
func inCluster(t *testing.T, c *authtest.KubernetesCluster) kubernetes.Config {
	dir := c.MountServiceAccount(t, "authgate", "gateway")
	return kubernetes.Config{
		Issuer:          c.Issuer(),
		InCluster:       true,
		APIServer:       c.APIServer(),
		CAFile:          filepath.Join(dir, "ca.crt"),
		TokenFile:       filepath.Join(dir, "token"),
		ServiceAccounts: []string{"shop:checkout"},
		TokenOptions:    options(),
	}
}

func request(token string) *http.Request {
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

func TestAccept(t *testing.T) {
	public := cluster(t, "")
	public.AllowAnonymous()
	ec := cluster(t, kubeadm, authtest.WithAlgorithms(providers.ES256))
	private := cluster(t, kubeadm)
	tests := []struct {
		name    string
		cluster *authtest.KubernetesCluster
		cfg     func() kubernetes.Config
	}{
		{"discovery from the issuer", public, func() kubernetes.Config {
			return kubernetes.Config{Issuer: public.Issuer(), Namespaces: []string{"shop"},
				TokenOptions: options(), FetchOptions: providers.FetchOptions{HTTPClient: public.Client()}}
		}},
		{"JWKSURL", public, func() kubernetes.Config {
			return kubernetes.Config{Issuer: public.Issuer(), JWKSURL: public.JWKSURL(), ServiceAccounts: []string{"shop:checkout"},
				TokenOptions: options(), FetchOptions: providers.FetchOptions{HTTPClient: public.Client()}}
		}},
		{"APIServer", public, func() kubernetes.Config {
			return kubernetes.Config{Issuer: public.Issuer(), APIServer: public.APIServer(), AllowAllServiceAccounts: true,
				TokenOptions: options(), FetchOptions: providers.FetchOptions{HTTPClient: public.Client()}}
		}},
		{"in cluster", private, func() kubernetes.Config { return inCluster(t, private) }},
		{"in cluster, ES256", ec, func() kubernetes.Config { return inCluster(t, ec) }},
		{"user name form", private, func() kubernetes.Config {
			cfg := inCluster(t, private)
			cfg.ServiceAccounts = []string{"system:serviceaccount:shop:checkout"}
			return cfg
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := build(t, tt.cfg())
			p, err := a.Authenticate(request(tt.cluster.Token("shop", "checkout", nil)))
			if err != nil {
				t.Fatalf("Authenticate = %v, want a principal", err)
			}
			if p.Subject != "system:serviceaccount:shop:checkout" || p.Tenant != "shop" || p.Name != "checkout" ||
				p.Issuer != tt.cluster.Issuer() || p.Provider != "kubernetes" {
				t.Errorf("principal = %q %q %q %q %q, want the service account shop/checkout of %s",
					p.Provider, p.Subject, p.Issuer, p.Tenant, p.Name, tt.cluster.Issuer())
			}
			id, ok := kubernetes.IdentityOf(p)
			if !ok || id.Namespace != "shop" || id.ServiceAccount != "checkout" || id.ServiceAccountUID == "" ||
				!strings.HasPrefix(id.Pod, "checkout-") || id.PodUID == "" || id.Node != "node-1" || id.NodeUID == "" {
				t.Errorf("IdentityOf = %+v, %v, want the pod-bound identity of shop/checkout", id, ok)
			}
		})
	}
}

func TestReject(t *testing.T) {
	c := cluster(t, "")
	c.AllowAnonymous()
	old := c.Token("shop", "checkout", nil)
	retired := c.KeyID()
	c.Rotate()
	c.Retire(retired)
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"another audience", c.Token("shop", "checkout", map[string]any{"aud": []string{"https://billing.example.test"}}), authgate.ErrInvalidAudience},
		{"the API server's own token", c.APIAccessToken("shop", "checkout", nil), authgate.ErrInvalidAudience},
		{"namespace not allowed", c.Token("dev", "checkout", nil), authgate.ErrInvalidClaim},
		{"service account not allowed", c.Token("batch", "importer", nil), authgate.ErrInvalidClaim},
		{"sub of another account", c.Token("shop", "checkout", map[string]any{"sub": "system:serviceaccount:ops:checkout"}), authgate.ErrInvalidClaim},
		{"no kubernetes.io claims", c.Token("shop", "checkout", map[string]any{"kubernetes.io": nil}), authgate.ErrMissingClaim},
		{"no namespace", c.Token("shop", "checkout", map[string]any{"kubernetes.io": map[string]any{"serviceaccount": map[string]any{"name": "checkout", "uid": "u"}}}), authgate.ErrMissingClaim},
		{"service account not an object", c.Token("shop", "checkout", map[string]any{"kubernetes.io": map[string]any{"namespace": "shop", "serviceaccount": "checkout"}}), authgate.ErrInvalidClaim},
		{"warnafter not a date", c.Token("shop", "checkout", map[string]any{"kubernetes.io": map[string]any{"namespace": "shop", "serviceaccount": map[string]any{"name": "checkout", "uid": "u"}, "warnafter": "soon"}}), authgate.ErrInvalidClaim},
		{"expired", c.Token("shop", "checkout", map[string]any{"iat": now.Add(-2 * time.Hour)}), authgate.ErrTokenExpired},
		{"signed by a retired key", old, authgate.ErrInvalidSignature},
	}
	a := build(t, kubernetes.Config{
		Issuer: c.Issuer(), Namespaces: []string{"shop"}, ServiceAccounts: []string{"batch:loader"},
		TokenOptions: options(), FetchOptions: providers.FetchOptions{HTTPClient: c.Client()},
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Authenticate(request(tt.token))
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Authenticate = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, err := a.Authenticate(request(c.Token("batch", "loader", nil))); err != nil {
		t.Errorf("Authenticate(batch:loader) = %v, want it allowed by ServiceAccounts", err)
	}
}

// TestNotMine: tokens of another issuer, legacy Secret tokens included,
// are "not mine" and cost no request.
func TestNotMine(t *testing.T) {
	c := cluster(t, "")
	c.AllowAnonymous()
	other := authtest.NewIssuer(t, authtest.WithNow(clock), authtest.WithAudience(audience))
	a := build(t, kubernetes.Config{
		Issuer: c.Issuer(), Namespaces: []string{"shop"},
		TokenOptions: options(), FetchOptions: providers.FetchOptions{HTTPClient: c.Client()},
	})
	for name, token := range map[string]string{
		"another issuer":      other.Token(nil),
		"legacy Secret token": c.LegacyToken("shop", "checkout"),
		"another cluster":     cluster(t, kubeadm).Token("shop", "checkout", nil),
		"scheme-less issuer":  c.Token("shop", "checkout", map[string]any{"iss": strings.TrimPrefix(c.Issuer(), "https://")}),
		"issuer with a slash": c.Token("shop", "checkout", map[string]any{"iss": c.Issuer() + "/"}),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := a.Authenticate(request(token))
			if !errors.Is(err, authgate.ErrUnrecognizedCredential) {
				t.Errorf("Authenticate = %v, want ErrUnrecognizedCredential", err)
			}
		})
	}
	if n := c.DiscoveryRequests() + c.JWKSRequests(); n != 0 {
		t.Errorf("requests = %d, want 0 for tokens that are not the cluster's", n)
	}
}

func TestNew(t *testing.T) {
	c := cluster(t, kubeadm)
	dir := c.MountServiceAccount(t, "authgate", "gateway")
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	good := func() kubernetes.Config { return inCluster(t, c) }
	tests := []struct {
		name string
		edit func(*kubernetes.Config)
	}{
		{"no issuer", func(c *kubernetes.Config) { c.Issuer = "" }},
		{"no audience", func(c *kubernetes.Config) { c.Audience = nil }},
		{"no allow-list", func(c *kubernetes.Config) { c.ServiceAccounts = nil }},
		{"all and a list", func(c *kubernetes.Config) { c.AllowAllServiceAccounts = true }},
		{"namespace with upper case", func(c *kubernetes.Config) { c.Namespaces = []string{"Shop"} }},
		{"namespace too long", func(c *kubernetes.Config) { c.Namespaces = []string{strings.Repeat("a", 64)} }},
		{"service account without namespace", func(c *kubernetes.Config) { c.ServiceAccounts = []string{"checkout"} }},
		{"service account with a slash", func(c *kubernetes.Config) { c.ServiceAccounts = []string{"shop/checkout"} }},
		{"files without InCluster", func(c *kubernetes.Config) { c.InCluster = false }},
		{"InCluster with HTTPClient", func(c *kubernetes.Config) { c.HTTPClient = http.DefaultClient }},
		{"InCluster over http", func(c *kubernetes.Config) { c.APIServer = "http://127.0.0.1:6443" }},
		{"API server with a query", func(c *kubernetes.Config) { c.APIServer += "/?x=1" }},
		{"no CA bundle", func(c *kubernetes.Config) { c.CAFile = filepath.Join(dir, "missing") }},
		{"CA bundle without PEM", func(c *kubernetes.Config) { c.CAFile = filepath.Join(dir, "namespace") }},
		{"no token file", func(c *kubernetes.Config) { c.TokenFile = filepath.Join(dir, "missing") }},
		{"empty token file", func(c *kubernetes.Config) { c.TokenFile = empty }},
		{"token file that is no token", func(c *kubernetes.Config) { c.TokenFile = filepath.Join(dir, "ca.crt") }},
		{"discovery of an issuer that is no URL", func(c *kubernetes.Config) {
			*c = kubernetes.Config{Issuer: "kubernetes/serviceaccount", Namespaces: []string{"shop"}, TokenOptions: options()}
		}},
		{"HMAC", func(c *kubernetes.Config) { c.Algorithms = []string{"HS256"} }},
	}
	if _, err := kubernetes.New(good()); err != nil {
		t.Fatalf("New(good) = %v, want nil", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good()
			tt.edit(&cfg)
			a, err := kubernetes.New(cfg)
			if err == nil || a != nil {
				t.Fatalf("New = %v, %v, want an error", a, err)
			}
			if !strings.HasPrefix(err.Error(), "kubernetes: ") {
				t.Errorf("New error %q, want the prefix %q", err, "kubernetes: ")
			}
		})
	}
}

func TestInClusterEnvironment(t *testing.T) {
	c := cluster(t, kubeadm)
	cfg := inCluster(t, c)
	cfg.APIServer = ""
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	if _, err := kubernetes.New(cfg); err == nil {
		t.Fatal("New(InCluster) outside a pod = nil error, want one")
	}
	host, port, _ := strings.Cut(strings.TrimPrefix(c.APIServer(), "https://"), ":")
	t.Setenv("KUBERNETES_SERVICE_HOST", host)
	t.Setenv("KUBERNETES_SERVICE_PORT", port)
	a := build(t, cfg)
	if _, err := a.Authenticate(request(c.Token("shop", "checkout", nil))); err != nil {
		t.Fatalf("Authenticate = %v, want the keys from the API server named by the environment", err)
	}
}

// TestBearer: the API server refuses anonymous key fetches; in-cluster,
// the mounted token (re-read after the kubelet rotates it) is sent to the
// API server, and to no other host.
func TestBearer(t *testing.T) {
	c := cluster(t, kubeadm)
	t.Run("anonymous", func(t *testing.T) {
		a := build(t, kubernetes.Config{Issuer: c.Issuer(), APIServer: c.APIServer(), Namespaces: []string{"shop"},
			TokenOptions: options(), FetchOptions: providers.FetchOptions{HTTPClient: c.Client()}})
		if _, err := a.Authenticate(request(c.Token("shop", "checkout", nil))); !errors.Is(err, authgate.ErrUnavailable) {
			t.Fatalf("Authenticate = %v, want ErrUnavailable (the API server answers 401)", err)
		}
	})
	t.Run("in cluster, rotated", func(t *testing.T) {
		var elapsed atomic.Int64 // minutes: past the cooldown and backoff of fetches
		cfg := inCluster(t, c)
		cfg.Now = func() time.Time { return now.Add(time.Duration(elapsed.Load()) * time.Minute) }
		logs := &lockedBuffer{}
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		a := build(t, cfg)
		if _, err := a.Authenticate(request(c.Token("shop", "checkout", nil))); err != nil {
			t.Fatalf("Authenticate = %v, want a principal", err)
		}
		mount := func(token string) {
			if err := os.WriteFile(cfg.TokenFile, []byte(token+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		// The cluster rotates its key: a token of the new key needs a
		// fetch, sent with the token the file holds at that time.
		c.Rotate()
		mount(cluster(t, kubeadm).APIAccessToken("authgate", "gateway", nil)) // not this cluster's
		elapsed.Store(2)
		// The fetch got 401: the new kid cannot be looked up, which is a
		// 503, never a 401 for a token that may be good.
		if _, err := a.Authenticate(request(c.Token("shop", "checkout", nil))); !errors.Is(err, authgate.ErrUnavailable) {
			t.Fatalf("Authenticate with a foreign mounted token = %v, want ErrUnavailable (the fetch got 401)", err)
		}
		mount(c.APIAccessToken("authgate", "gateway", nil)) // the kubelet's new token
		elapsed.Store(4)
		before := c.JWKSRequests()
		if _, err := a.Authenticate(request(c.Token("shop", "checkout", nil))); err != nil {
			t.Fatalf("Authenticate after the kubelet's rotation = %v, want a principal", err)
		}
		// One fetch with the new token, or none when the background retry
		// after the failed fetch already made it.
		if n := c.JWKSRequests(); n > before+1 {
			t.Errorf("JWKS requests = %d, want at most %d", n, before+1)
		}
		mounted, _ := os.ReadFile(cfg.TokenFile)
		signature := strings.TrimSpace(string(mounted))[strings.LastIndexByte(string(mounted), '.')+1:]
		if !strings.Contains(logs.String(), "401") || strings.Contains(logs.String(), signature) {
			t.Errorf("logs = %q, want the failed fetch and no token", logs.String())
		}
	})
	t.Run("other host", func(t *testing.T) {
		var seen atomic.Value
		c.AllowAnonymous()
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen.Store(r.Header.Get("Authorization"))
			resp, err := c.Client().Get(c.JWKSURL())
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			io.Copy(w, resp.Body)
		}))
		defer proxy.Close()
		cfg := inCluster(t, c)
		cfg.JWKSURL = proxy.URL + "/openid/v1/jwks"
		a := build(t, cfg)
		if _, err := a.Authenticate(request(c.Token("shop", "checkout", nil))); err != nil {
			t.Fatalf("Authenticate = %v, want a principal", err)
		}
		if got, _ := seen.Load().(string); got != "" {
			t.Errorf("Authorization sent to another host = %q, want none", got)
		}
	})
}

func TestIdentity(t *testing.T) {
	c := cluster(t, kubeadm)
	cfg := inCluster(t, c)
	cfg.Audience = append(cfg.Audience, kubeadm) // to read the mounted token's warnafter
	a := build(t, cfg)
	secret := c.Token("shop", "checkout", map[string]any{"kubernetes.io": map[string]any{
		"namespace":      "shop",
		"serviceaccount": map[string]any{"name": "checkout", "uid": "7a3c0f4e-0000-4000-8000-000000000001"},
		"secret":         map[string]any{"name": "checkout-token", "uid": "7a3c0f4e-0000-4000-8000-000000000002"},
	}})
	tests := []struct {
		name  string
		token string
		want  kubernetes.Identity
	}{
		{"Secret-bound", secret, kubernetes.Identity{Namespace: "shop", ServiceAccount: "checkout",
			ServiceAccountUID: "7a3c0f4e-0000-4000-8000-000000000001", Secret: "checkout-token", SecretUID: "7a3c0f4e-0000-4000-8000-000000000002"}},
		{"mounted, extended", c.APIAccessToken("shop", "checkout", nil), kubernetes.Identity{WarnAfter: now.Add(3607 * time.Second)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.Authenticate(request(tt.token))
			if err != nil {
				t.Fatalf("Authenticate = %v", err)
			}
			got, ok := kubernetes.IdentityOf(p)
			if !ok {
				t.Fatal("IdentityOf = false, want an identity")
			}
			if tt.want.Namespace == "" { // compare WarnAfter only
				if !got.WarnAfter.Equal(tt.want.WarnAfter) || !p.ExpiresAt.After(now.Add(300*24*time.Hour)) {
					t.Errorf("WarnAfter, exp = %v, %v, want %v and about a year", got.WarnAfter, p.ExpiresAt, tt.want.WarnAfter)
				}
				return
			}
			if got != tt.want {
				t.Errorf("IdentityOf = %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, ok := kubernetes.IdentityOf(&authgate.Principal{Subject: "auth0|1"}); ok {
		t.Error("IdentityOf(another provider's principal) = true, want false")
	}
}

func TestConcurrent(t *testing.T) {
	c := cluster(t, kubeadm)
	a := build(t, inCluster(t, c))
	token := c.Token("shop", "checkout", nil)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			if _, err := a.Authenticate(request(token)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Authenticate = %v", err)
	}
	if n := c.JWKSRequests(); n != 1 {
		t.Errorf("JWKS requests = %d, want 1 (one fetch shared)", n)
	}
}

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
