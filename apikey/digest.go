package apikey

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sync"
)

// Digest is what a Store keeps instead of a key: HMAC-SHA256(pepper, key)
// when a pepper is configured, SHA-256(key) otherwise. It is not secret in
// the sense a key is (a key cannot be recovered from it), but it is only
// ever compared in constant time.
type Digest [sha256.Size]byte

// String returns the digest in hexadecimal.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// hasher computes digests without allocating: each pooled state holds a
// hash already keyed with the pepper and buffers for input and output.
type hasher struct {
	pool sync.Pool
}

type hashState struct {
	h   hash.Hash
	in  [MaxKeyLength]byte
	out [sha256.Size]byte
}

// minPepperLen is the shortest pepper accepted: the HMAC-SHA256 block
// output size (RFC 2104 §3).
const minPepperLen = 32

func newHasher(pepper []byte) *hasher {
	pepper = append([]byte(nil), pepper...)
	hs := &hasher{}
	hs.pool.New = func() any {
		if len(pepper) == 0 {
			return &hashState{h: sha256.New()}
		}
		return &hashState{h: hmac.New(sha256.New, pepper)}
	}
	return hs
}

// digest returns the digest of key, which is at most MaxKeyLength bytes.
func (hs *hasher) digest(key string) Digest {
	st := hs.pool.Get().(*hashState)
	st.h.Reset()
	n := copy(st.in[:], key)
	st.h.Write(st.in[:n])
	var d Digest
	copy(d[:], st.h.Sum(st.out[:0]))
	clear(st.in[:n])
	hs.pool.Put(st)
	return d
}
