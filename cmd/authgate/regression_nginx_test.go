//go:build linux

package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// serve always answers X-Auth-Permissions ("All of them are always sent,
// empty when unknown, so a proxy that copies them overwrites what the
// client sent"), but the nginx configuration the README documents and
// TestNginxAuthRequest runs copies only subject, provider, roles, scopes,
// tenant and email. A client-sent X-Auth-Permissions therefore reaches the
// backend untouched next to a verified identity: a backend that trusts
// authgate's X-Auth-* headers grants any permission the client names.
func TestRegressionNginxPassesSpoofedPermissions(t *testing.T) {
	bin := requireNginx(t)
	gf := newGateway(t, serveConfig)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"subject": r.Header.Get(headerSubject), "permissions": r.Header.Values(headerPermissions)})
	}))
	defer backend.Close()
	listen := freeAddr(t)
	dir := t.TempDir()
	startNginx(t, bin, dir, nginxConf(t, dir, listen, strings.TrimPrefix(gf.srv.URL, "http://"), strings.TrimPrefix(backend.URL, "http://")), listen)

	req, _ := http.NewRequest("GET", "http://"+listen+"/orders/1", nil)
	req.Header.Set("Authorization", "Bearer "+gf.token(nil))
	req.Header.Set(headerPermissions, "orders:delete")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var seen struct {
		Subject     string
		Permissions []string
	}
	json.Unmarshal(body, &seen)
	for _, p := range seen.Permissions {
		if p != "" {
			t.Errorf("backend got X-Auth-Permissions %q from the client beside verified subject %q", p, seen.Subject)
		}
	}
}
