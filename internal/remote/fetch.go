// Package remote fetches the small documents authgate depends on (JWK
// Sets, OpenID Connect discovery documents, Keycloak realm descriptions)
// with its guard rails, and keeps the last good one in memory ([Cache]).
//
// Every fetch: a GET with a fixed User-Agent and Accept header and nothing
// else (no Authorization, no cookies, no header of an incoming request); a
// total timeout; redirects never followed (the 3xx answer is a failure);
// only 200 with a non-empty body accepted; the body read through
// io.LimitReader and refused when it exceeds [MaxBody]. URLs must be https,
// except for loopback hosts, which tests use.
package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	// DefaultTimeout bounds a whole fetch: connection, TLS, headers and body.
	DefaultTimeout = 5 * time.Second
	// MaxBody is the largest document read (256 KiB).
	MaxBody = 256 << 10
	// UserAgent is sent with every fetch.
	UserAgent = "authgate (+https://github.com/authgate/authgate)"
	// Accept is sent with every fetch.
	Accept = "application/json, application/jwk-set+json"
)

// CheckURL parses raw and requires an absolute https URL with a host, no
// user information and no fragment; plain http is allowed only for loopback
// hosts (127.0.0.0/8, ::1, localhost).
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid URL %q", raw)
	}
	switch {
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("URL %q has no host", raw)
	case u.User != nil:
		return nil, fmt.Errorf("URL %q carries user information", u.Redacted())
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, fmt.Errorf("URL %q has a fragment", raw)
	case u.Scheme == "https":
	case u.Scheme == "http" && IsLoopback(u.Hostname()):
	case u.Scheme == "http":
		return nil, fmt.Errorf("URL %q is not https (plain http is allowed for loopback hosts only)", raw)
	default:
		return nil, fmt.Errorf("URL %q: scheme %q not allowed", raw, u.Scheme)
	}
	return u, nil
}

// IsLoopback reports whether host (without port) is "localhost" or an IP
// address in 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Client returns a copy of c (nil: a client on http.DefaultTransport) that
// never follows redirects, keeps no cookies and gives up after timeout (or
// c's own shorter timeout). c itself is not modified.
func Client(c *http.Client, timeout time.Duration) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	}
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cp.Jar = nil
	if cp.Timeout <= 0 || cp.Timeout > timeout {
		cp.Timeout = timeout
	}
	return &cp
}

// Get fetches rawURL with client, which should come from Client. It
// returns the body and the response header, or an error for a transport
// failure, an answer other than 200 (redirects included), an empty body,
// or a body over MaxBody. Errors never contain the body.
func Get(ctx context.Context, client *http.Client, rawURL string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch %s: %w", rawURL, err)
	}
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Accept", Accept)
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, fmt.Errorf("fetch %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, nil, fmt.Errorf("fetch %s: status %d, want 200", rawURL, resp.StatusCode)
	}
	if resp.ContentLength > MaxBody {
		return nil, nil, fmt.Errorf("fetch %s: body of %d bytes exceeds %d", rawURL, resp.ContentLength, MaxBody)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("fetch %s: reading the body: %w", rawURL, err)
	case len(body) > MaxBody:
		return nil, nil, fmt.Errorf("fetch %s: body exceeds %d bytes", rawURL, MaxBody)
	case len(body) == 0:
		return nil, nil, fmt.Errorf("fetch %s: empty body", rawURL)
	}
	return body, resp.Header, nil
}

// MaxAge returns the freshness lifetime a response header grants: its
// Cache-Control max-age clamped to [lo, hi], or def when there is none,
// when it is 0 or malformed, or when no-store or no-cache is present (never
// a busy loop).
func MaxAge(h http.Header, def, lo, hi time.Duration) time.Duration {
	age := time.Duration(-1)
	for _, line := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return def
			case "max-age":
				value = strings.Trim(strings.TrimSpace(value), `"`)
				n, err := strconv.ParseUint(value, 10, 64)
				switch {
				case err != nil && errors.Is(err, strconv.ErrRange):
					age = hi
				case err != nil || n == 0:
					return def
				case n > uint64(hi/time.Second):
					age = hi
				default:
					age = time.Duration(n) * time.Second
				}
			}
		}
	}
	switch {
	case age < 0:
		return def
	case age < lo:
		return lo
	case age > hi:
		return hi
	}
	return age
}
