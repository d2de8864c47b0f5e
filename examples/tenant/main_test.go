package main

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
)

func TestTenantIsolation(t *testing.T) {
	h, tokens, err := newHandler()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		token, tenant string
		want          int
		wantDetail    string
	}{
		{"ALICE", "acme", 200, ""},
		{"BOB", "globex", 200, ""},
		{"BOB", "acme", 403, "Insufficient permissions"},
		{"ALICE", "globex", 403, "Insufficient permissions"},
		{"MALLORY", "acme", 401, "Token has been revoked"},
		{"NOTENANT", "acme", 401, "Invalid token"},
		{"", "acme", 401, "Authentication credentials were not provided"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/api/tenants/"+tt.tenant+"/articles", nil)
		if tt.token != "" {
			r.Header.Set("Authorization", "Bearer "+tokens[tt.token])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var body map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != tt.want || (tt.wantDetail != "" && body["detail"] != tt.wantDetail) {
			t.Errorf("%s on %s = %d %s, want %d %q", tt.token, tt.tenant, w.Code, w.Body, tt.want, tt.wantDetail)
		}
		if tt.want == 200 && body["tenant"] != tt.tenant {
			t.Errorf("%s on %s answered tenant %v", tt.token, tt.tenant, body["tenant"])
		}
	}
}
