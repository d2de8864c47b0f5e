package providers

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"slices"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/bytesconv"
)

// maxKeyTrials caps the keys tried for a token without kid.
const maxKeyTrials = 5

var (
	errBadSignature  = errors.New("signature does not verify")
	errNoKey         = errors.New("no key for the token's kid and algorithm")
	errAmbiguousKey  = errors.New("several keys match the token's kid and algorithm")
	errTooManyTrials = errors.New("token has no kid and too many keys fit")
)

// checkSignature asks the key set for the keys of t.KeyID bound to alg and
// checks sig over input with them: a token naming a kid needs exactly one
// key, a token without kid tries at most maxKeyTrials. scratch is free
// memory for the MAC or digest (scratchSize bytes spare it an allocation;
// any size is correct).
func (v *Verifier) checkSignature(ctx context.Context, t *Token, tid string, alg *algorithm, input string, sig, scratch []byte) error {
	keys, err := v.keys.VerificationKeys(ctx, t.KeyID, alg.name)
	if err != nil {
		if errors.Is(err, authgate.ErrUnavailable) || errors.Is(err, authgate.ErrInvalidCredentials) {
			return err
		}
		return v.fail(authgate.ErrUnavailable, err)
	}
	keys = forIssuer(keys, t.Issuer, tid)
	switch {
	case len(keys) == 0:
		return v.fail(authgate.ErrInvalidSignature, errNoKey)
	case t.KeyID != "" && len(keys) > 1:
		return v.fail(authgate.ErrInvalidSignature, errAmbiguousKey)
	case len(keys) > maxKeyTrials:
		return v.fail(authgate.ErrInvalidSignature, errTooManyTrials)
	}
	for i := range keys {
		k := &keys[i]
		if k.Algorithm == alg.name && verifySignatureIn(k, alg, input, sig, scratch) {
			return nil
		}
	}
	return v.fail(authgate.ErrInvalidSignature, errBadSignature)
}

// scratchSize is the scratch space a signature check needs: the largest
// MAC or digest.
const scratchSize = sha512.Size

// scratchFor is the scratch space a signature check under alg needs: its
// MAC or digest (none for EdDSA, which hashes inside ed25519.Verify), or
// scratchSize for a nil alg.
func scratchFor(alg *algorithm) int {
	switch {
	case alg == nil:
		return scratchSize
	case alg.family == familyEdDSA:
		return 0
	}
	return alg.hash.Size()
}

// verifySignature checks sig over input with key k under alg, which the
// caller has matched to the key's bound algorithm.
func verifySignature(k *Key, alg *algorithm, input string, sig []byte) bool {
	return verifySignatureIn(k, alg, input, sig, nil)
}

// verifySignatureIn is verifySignature computing the MAC or digest into
// scratch's capacity. The MAC goes through a hash.Hash, so it could not
// stay on the stack; the caller's scratch, from the buffer the token is
// decoded into, spares an allocation. A smaller scratch costs one.
func verifySignatureIn(k *Key, alg *algorithm, input string, sig, scratch []byte) bool {
	data := bytesconv.Bytes(input)
	if alg.family == familyHMAC {
		if k.secret == nil {
			return false
		}
		mac := k.secret.sum(alg.hash, data, scratch[:0])
		return hmac.Equal(mac, sig)
	}
	if alg.family == familyEdDSA {
		pub, ok := k.public.(ed25519.PublicKey)
		return ok && len(sig) == ed25519.SignatureSize && ed25519.Verify(pub, data, sig)
	}
	digest := hashInto(alg.hash, data, scratch[:0])
	switch alg.family {
	case familyRSA:
		pub, ok := k.public.(*rsa.PublicKey)
		return ok && rsa.VerifyPKCS1v15(pub, alg.hash, digest, sig) == nil
	case familyRSAPSS:
		pub, ok := k.public.(*rsa.PublicKey)
		opts := rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: alg.hash}
		return ok && rsa.VerifyPSS(pub, alg.hash, digest, sig, &opts) == nil
	case familyEC:
		pub, ok := k.public.(*ecdsa.PublicKey)
		if !ok || len(sig) != 2*alg.size {
			return false
		}
		var der [2*66 + 12]byte
		return ecdsa.VerifyASN1(pub, digest, ecdsaDER(der[:0], sig[:alg.size], sig[alg.size:]))
	}
	return false
}

func hashInto(h crypto.Hash, data, out []byte) []byte {
	switch h {
	case crypto.SHA256:
		s := sha256.Sum256(data)
		return append(out, s[:]...)
	case crypto.SHA384:
		s := sha512.Sum384(data)
		return append(out, s[:]...)
	default:
		s := sha512.Sum512(data)
		return append(out, s[:]...)
	}
}

// ecdsaDER encodes the fixed-length R‖S of a JWS signature (RFC 7518 §3.4)
// as the ASN.1 SEQUENCE of two INTEGERs that crypto/ecdsa verifies.
func ecdsaDER(out, r, s []byte) []byte {
	r, s = trimZeros(r), trimZeros(s)
	rl, sl := intLen(r), intLen(s)
	body := 2 + rl + 2 + sl
	out = append(out, 0x30)
	if body >= 0x80 {
		out = append(out, 0x81)
	}
	out = append(out, byte(body))
	out = appendInt(out, r)
	return appendInt(out, s)
}

func trimZeros(b []byte) []byte {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

func intLen(b []byte) int {
	if len(b) == 0 || b[0]&0x80 != 0 {
		return len(b) + 1
	}
	return len(b)
}

func appendInt(out, b []byte) []byte {
	out = append(out, 0x02, byte(intLen(b)))
	if len(b) == 0 || b[0]&0x80 != 0 {
		out = append(out, 0)
	}
	return append(out, b...)
}

// forIssuer leaves out the keys bound to another issuer than iss, the
// issuer of a token whose "tid" claim is tid. It allocates only when a
// key is left out.
func forIssuer(keys []Key, iss, tid string) []Key {
	for i := range keys {
		if !keys[i].signsFor(iss, tid) {
			out := slices.Clone(keys[:i])
			for _, k := range keys[i+1:] {
				if k.signsFor(iss, tid) {
					out = append(out, k)
				}
			}
			return out
		}
	}
	return keys
}

// signsFor reports whether k may verify a token of issuer iss whose
// "tid" claim is tid (a template's tenant).
func (k *Key) signsFor(iss, tid string) bool {
	if k.Issuer == "" {
		return true
	}
	if !strings.Contains(k.Issuer, tenantPlaceholder) {
		return k.Issuer == iss
	}
	return tid != "" && !strings.ContainsAny(tid, "/{}") && strings.Replace(k.Issuer, tenantPlaceholder, tid, 1) == iss
}

// tenantPlaceholder is the tenant of an issuer template (Entra ID).
const tenantPlaceholder = "{tenantid}"
