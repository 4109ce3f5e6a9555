package client

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
)

// RequestSigner signs requests to an API that tokend protects, with a
// key's request-signing key, as RFC 9421 (HTTP Message Signatures) and
// RFC 9530 (Content-Digest) describe. The signature covers @method,
// @target-uri and, when the request has a body, content-digest; it
// carries created, a random nonce, keyid (the key's ID) and alg. A
// RequestSigner is safe for concurrent use.
type RequestSigner struct {
	// KeyID is the ID of the API key (api.Key.ID), which keyid names.
	KeyID string
	// Alg is api.SigHMACSHA256, api.SigEd25519 or api.SigECDSAP256.
	Alg string
	// Secret is the hmac-sha256 signing secret (api.CreatedKey's
	// SigningSecret, base64-decoded).
	Secret []byte
	// PrivateKey is an ed25519.PrivateKey or an *ecdsa.PrivateKey on
	// P-256, whose public key is registered with the key.
	PrivateKey crypto.Signer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Sign sets Content-Digest (when r has a body), Signature-Input and
// Signature on r. It reads r's body to digest it, and puts it back. The
// target URI signed is r.URL's scheme and host (r.Host when set) with
// its escaped path and query: what the server receives.
func (s *RequestSigner) Sign(r *http.Request) error {
	covered := []string{"@method", "@target-uri"}
	if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return fmt.Errorf("sign: read body: %w", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		sum := sha256.Sum256(body)
		r.Header.Set("Content-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":")
		covered = append(covered, "content-digest")
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	values := map[string]string{
		"@method":        r.Method,
		"@target-uri":    r.URL.Scheme + "://" + host + r.URL.RequestURI(),
		"content-digest": r.Header.Get("Content-Digest"),
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	nonce := make([]byte, 16)
	rand.Read(nonce)
	var params strings.Builder
	params.WriteString("(")
	var base strings.Builder
	for i, c := range covered {
		if i > 0 {
			params.WriteString(" ")
		}
		params.WriteString(strconv.Quote(c))
		base.WriteString(strconv.Quote(c) + ": " + values[c] + "\n")
	}
	fmt.Fprintf(&params, ");created=%d;nonce=%q;keyid=%s;alg=%q", now().Unix(),
		base64.RawURLEncoding.EncodeToString(nonce), sfString(s.KeyID), s.Alg)
	base.WriteString(`"@signature-params": ` + params.String())
	sig, err := s.sign([]byte(base.String()))
	if err != nil {
		return err
	}
	r.Header.Set("Signature-Input", "sig1="+params.String())
	r.Header.Set("Signature", "sig1=:"+base64.StdEncoding.EncodeToString(sig)+":")
	return nil
}

// sfString writes s as an RFC 8941 string: quoted, with \ and " escaped.
func sfString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func (s *RequestSigner) sign(base []byte) ([]byte, error) {
	switch s.Alg {
	case api.SigHMACSHA256:
		if len(s.Secret) == 0 {
			return nil, errors.New("sign: hmac-sha256 needs Secret")
		}
		m := hmac.New(sha256.New, s.Secret)
		m.Write(base)
		return m.Sum(nil), nil
	case api.SigEd25519:
		if k, ok := s.PrivateKey.(ed25519.PrivateKey); ok {
			return ed25519.Sign(k, base), nil
		}
	case api.SigECDSAP256:
		if k, ok := s.PrivateKey.(*ecdsa.PrivateKey); ok {
			h := sha256.Sum256(base)
			r, ss, err := ecdsa.Sign(rand.Reader, k, h[:])
			if err != nil {
				return nil, err
			}
			out := make([]byte, 64) // RFC 9421 §3.3.4: r and s, 32 bytes each
			r.FillBytes(out[:32])
			ss.FillBytes(out[32:])
			return out, nil
		}
	default:
		return nil, fmt.Errorf("sign: unknown alg %q", s.Alg)
	}
	return nil, fmt.Errorf("sign: %s needs PrivateKey of that type", s.Alg)
}

// Transport returns an http.RoundTripper that signs every request with s
// before handing it to base (nil: http.DefaultTransport). The request is
// cloned: the caller's is not changed.
func (s *RequestSigner) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return signingTransport{s: s, base: base}
}

type signingTransport struct {
	s    *RequestSigner
	base http.RoundTripper
}

func (t signingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if err := t.s.Sign(r); err != nil {
		return nil, err
	}
	return t.base.RoundTrip(r)
}
