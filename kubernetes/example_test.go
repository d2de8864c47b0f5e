package kubernetes_test

import (
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/kubernetes"
	"github.com/authgate/authgate/providers"
)

// A service in the cluster accepts the projected tokens of shop/checkout.
// In a pod, InCluster alone finds the API server, its CA bundle and the
// pod's token; here a local API server stands in for the cluster.
func Example() {
	clock := func() time.Time { return time.Unix(1_800_000_000, 0) }
	cluster := authtest.Kubernetes(nil, "https://kubernetes.default.svc.cluster.local",
		authtest.WithNow(clock), authtest.WithAudience("https://orders.example.com"))
	defer cluster.Close()
	cluster.AllowAnonymous()

	auth, err := kubernetes.New(kubernetes.Config{
		Issuer:          "https://kubernetes.default.svc.cluster.local",
		APIServer:       cluster.APIServer(),
		ServiceAccounts: []string{"shop:checkout"},
		TokenOptions: providers.TokenOptions{
			Audience: []string{"https://orders.example.com"},
			Now:      clock,
		},
		FetchOptions: providers.FetchOptions{HTTPClient: cluster.Client()},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+cluster.Token("shop", "checkout", nil))
	p, err := auth.Authenticate(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	id, _ := kubernetes.IdentityOf(p)
	fmt.Println(p.Subject, p.Tenant, p.Name, id.Node)
	// Output: system:serviceaccount:shop:checkout shop checkout node-1
}
