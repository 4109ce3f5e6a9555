package httpsig

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of a Verifier.
const (
	DefaultWindow = 5 * time.Minute
	DefaultSkew   = 5 * time.Second
	// MaxNonce bounds a nonce's length, since nonces are stored.
	MaxNonce = 128
)

// Verifier checks signed requests against tokend's policy. The zero value
// is usable: a 5-minute window, 5 seconds of skew, nonces in process.
type Verifier struct {
	// Window is how old a signature's created may be; default 5 minutes.
	// Nonces are remembered for Window + Skew.
	Window time.Duration
	// Skew is how far in the future created may be; default 5 seconds.
	Skew time.Duration
	// Nonces remembers nonces; nil means one in-process Memory, created
	// on first use (set it to share nonces across nodes).
	Nonces NonceStore

	once sync.Once // makes the default Nonces
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verify checks that sig, parsed from m, is k's signature of m and
// follows the policy (see the package doc). The checks run in an order
// that spends nothing shared before the signature is known good: the
// nonce is claimed last, so a forged request cannot burn a real one. Body
// digests are checked apart, by CheckDigest, by whoever holds the body.
// A refusal is an *Error; any other error means the nonce store failed.
func (v *Verifier) Verify(ctx context.Context, m *Message, sig *Signature, k *Key) error {
	if err := Covers(m, sig); err != nil {
		return err
	}
	now := v.now()
	if err := v.fresh(sig, now); err != nil {
		return err
	}
	if err := matches(sig, k); err != nil {
		return err
	}
	b, err := base(m, sig.Components, sig.params)
	if err != nil {
		return err
	}
	if !k.check(b, sig.Sig) {
		return Errorf(ReasonMismatch, "the signature does not verify with key %q over the covered components (%s): the request was changed, or signed with another key", k.ID, strings.Join(sig.Components, " "))
	}
	fresh, err := v.nonces().Claim(ctx, k.ID+":"+sig.Nonce, v.window()+v.skew())
	if err != nil {
		return fmt.Errorf("claim nonce: %w", err)
	}
	if !fresh {
		return Errorf(ReasonReplay, "nonce %q was already used within %s: the request is a replay", sig.Nonce, v.window())
	}
	return nil
}

// Covers checks that sig covers what tokend requires of m: @method; the
// target as @target-uri, or @authority and @path (and @query when the
// target has one); content-digest when m has a body. It also requires a
// created time and a nonce.
func Covers(m *Message, sig *Signature) error {
	has := func(c string) bool { return slices.Contains(sig.Components, c) }
	if !has("@method") {
		return Errorf(ReasonCoverage, "the signature does not cover @method")
	}
	if !has("@target-uri") {
		if !has("@authority") || !has("@path") {
			return Errorf(ReasonCoverage, "the signature covers neither @target-uri nor both @authority and @path")
		}
		if t, err := m.target(); err != nil {
			return err
		} else if t.hasQuery() && !has("@query") {
			return Errorf(ReasonCoverage, "the target has a query, which the signature does not cover (add @query or use @target-uri)")
		}
	}
	if m.HasBody && !has("content-digest") {
		return Errorf(ReasonCoverage, "the request has a body, and the signature does not cover content-digest")
	}
	if sig.Created.IsZero() {
		return Errorf(ReasonCoverage, "the signature has no created parameter")
	}
	if sig.Nonce == "" {
		return Errorf(ReasonCoverage, "the signature has no nonce parameter")
	}
	if len(sig.Nonce) > MaxNonce {
		return Errorf(ReasonMalformed, "the nonce has %d characters, more than %d", len(sig.Nonce), MaxNonce)
	}
	return nil
}

// fresh checks created and expires against now.
func (v *Verifier) fresh(sig *Signature, now time.Time) error {
	switch {
	case sig.Created.After(now.Add(v.skew())):
		return Errorf(ReasonStale, "created %d is %s in the future (is the signer's clock right?)", sig.Created.Unix(), sig.Created.Sub(now).Round(time.Second))
	case now.Sub(sig.Created) > v.window():
		return Errorf(ReasonStale, "created %d is %s old, more than the %s window", sig.Created.Unix(), now.Sub(sig.Created).Round(time.Second), v.window())
	case !sig.Expires.IsZero() && !now.Before(sig.Expires):
		return Errorf(ReasonStale, "the signature expired at %d", sig.Expires.Unix())
	}
	return nil
}

// matches checks the keyid and alg parameters against k.
func matches(sig *Signature, k *Key) error {
	if sig.KeyID != "" && sig.KeyID != k.ID {
		return Errorf(ReasonKey, "keyid %q is not the key presented (%q)", sig.KeyID, k.ID)
	}
	if sig.Alg != "" && sig.Alg != k.Alg {
		return Errorf(ReasonKey, "alg %q is not the key's algorithm (%s)", sig.Alg, k.Alg)
	}
	return nil
}

func (v *Verifier) window() time.Duration {
	if v.Window > 0 {
		return v.Window
	}
	return DefaultWindow
}

func (v *Verifier) skew() time.Duration {
	if v.Skew > 0 {
		return v.Skew
	}
	return DefaultSkew
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) nonces() NonceStore {
	v.once.Do(func() {
		if v.Nonces == nil {
			v.Nonces = NewMemory(0)
		}
	})
	return v.Nonces
}
