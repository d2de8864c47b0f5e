package authtest_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/providers"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a test clock that tests move by hand. Providers read it from
// their fetch goroutines, so it is locked.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: epoch} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// get fetches url with client and decodes a JSON answer into v (when not
// nil); it returns the response (body consumed).
func get(t *testing.T, client *http.Client, url string, v any) *http.Response {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	if v != nil {
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d, want 200", url, resp.StatusCode)
		}
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v in %s", url, err, body)
		}
	}
	return resp
}

// parts decodes a compact JWS's header and claims without verifying it.
func parts(t *testing.T, token string) (header, claims map[string]any, sig string) {
	t.Helper()
	seg := strings.Split(token, ".")
	if len(seg) != 3 {
		t.Fatalf("token has %d segments, want 3", len(seg))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(seg[i])
		if err != nil {
			t.Fatalf("segment %d: %v", i, err)
		}
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.UseNumber()
		if err := d.Decode(dst); err != nil {
			t.Fatalf("segment %d: %v", i, err)
		}
	}
	return header, claims, seg[2]
}

func num(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v (%T) is not a JSON number", v, v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// verifier returns a verifier of iss's tokens with the keys it publishes
// now.
func verifier(t *testing.T, iss *authtest.Issuer, now func() time.Time, algs ...string) *providers.Verifier {
	t.Helper()
	keys, err := providers.NewStaticKeySet(iss.Keys(), algs)
	if err != nil {
		t.Fatal(err)
	}
	v, err := providers.NewVerifier(providers.VerifierConfig{
		Issuer: iss.Issuer(), Audience: []string{authtest.DefaultAudience}, Algorithms: algs,
		Keys: keys, Leeway: providers.NoLeeway, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
