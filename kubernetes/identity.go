package kubernetes

import (
	"errors"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// userPrefix starts the user name of every service account.
const userPrefix = "system:serviceaccount:"

// Identity is the workload a service-account token names: its
// "kubernetes.io" claims.
type Identity struct {
	// Namespace and ServiceAccount name the service account; its UID
	// tells a re-created account of the same name apart.
	Namespace         string
	ServiceAccount    string
	ServiceAccountUID string
	// Pod and PodUID name the pod a pod-bound token was issued for, Node
	// and NodeUID the node that pod runs on (Kubernetes ≥ 1.30); empty
	// otherwise.
	Pod, PodUID   string
	Node, NodeUID string
	// Secret and SecretUID name the Secret a Secret-bound token is tied
	// to; empty otherwise.
	Secret, SecretUID string
	// WarnAfter, when not zero, is when the API server starts warning
	// about the token: the token's nominal end, before the extension
	// that --service-account-extend-token-expiration gives mounted tokens.
	WarnAfter time.Time
}

// IdentityOf returns the identity of a principal this package
// authenticated, and whether it has one.
func IdentityOf(p *authgate.Principal) (Identity, bool) {
	if p == nil {
		return Identity{}, false
	}
	claims := map[string]any{}
	if raw, ok := p.Claims.Get("kubernetes.io"); ok {
		claims["kubernetes.io"] = raw
	}
	id, err := identity(claims, p.Subject)
	return id, err == nil
}

var (
	errNoClaims   = errors.New(`kubernetes: no "kubernetes.io" namespace and service account claims`)
	errBadClaims  = errors.New(`kubernetes: "kubernetes.io" claims are malformed`)
	errBadSubject = errors.New(`kubernetes: "sub" is not the service account the "kubernetes.io" claims name`)
)

// identity reads the "kubernetes.io" claims and checks that sub is the
// user name of the service account they name.
func identity(claims map[string]any, sub string) (Identity, error) {
	raw, ok := claims["kubernetes.io"]
	if !ok {
		return Identity{}, errNoClaims
	}
	k8s, ok := raw.(map[string]any)
	if !ok {
		return Identity{}, errBadClaims
	}
	var id Identity
	var err error
	str := func(m map[string]any, name string, required bool) string {
		v, present := m[name]
		s, isString := v.(string)
		if (present && !isString) || (required && s == "") {
			err = errBadClaims
		}
		return s
	}
	ref := func(name string, required bool) (string, string) {
		v, present := k8s[name]
		m, isObject := v.(map[string]any)
		switch {
		case !present && !required:
			return "", ""
		case !isObject:
			err = errBadClaims
			return "", ""
		}
		return str(m, "name", true), str(m, "uid", required)
	}
	if _, ok := k8s["namespace"]; !ok {
		return Identity{}, errNoClaims
	}
	id.Namespace = str(k8s, "namespace", true)
	id.ServiceAccount, id.ServiceAccountUID = ref("serviceaccount", true)
	id.Pod, id.PodUID = ref("pod", false)
	id.Node, id.NodeUID = ref("node", false)
	id.Secret, id.SecretUID = ref("secret", false)
	if v, ok := k8s["warnafter"]; ok {
		t, werr := providers.NumericDate(v)
		if werr != nil {
			err = errBadClaims
		}
		id.WarnAfter = t
	}
	if err != nil {
		return Identity{}, err
	}
	if sub != userPrefix+id.Namespace+":"+id.ServiceAccount {
		return Identity{}, errBadSubject
	}
	return id, nil
}
