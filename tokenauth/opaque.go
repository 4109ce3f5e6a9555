package tokenauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
)

// verifyResult is one answer of /v1/verify, or why there is none.
type verifyResult struct {
	res *api.VerifyResponse
	err error
}

// opaqueQuery is the question about an opaque token: the token, for
// audience with scopes, from clientIP; signed, the request as its RFC
// 9421 signature covers it, and dpop, the DPoP proof with the request's
// method and URL, when the request carries them.
type opaqueQuery struct {
	token, audience string
	scopes          []string
	clientIP        string
	signed          *api.SignedRequest
	dpop            *api.VerifyDPoP
}

// checkOpaque verifies an opaque token through /v1/verify, from the cache
// when a fresh VALID answer for the same token, audience and address is
// there. Concurrent misses for one question share one call, except that
// an answer which spent a rate limit or credits is never shared: each
// request of a limited key is counted by tokend. A signed request or a
// DPoP proof is always asked alone, never from the cache: its answer
// holds for that request only, and tokend spends the proof.
func (a *Auth) checkOpaque(ctx context.Context, q opaqueQuery) (*Principal, *Error) {
	if a.cfg.VerifyKey == "" {
		return nil, invalidToken("this resource accepts JWT access tokens only")
	}
	now := a.now()
	k := keyOf(q.token, q.audience, q.clientIP)
	alone := q.signed != nil || q.dpop != nil
	if a.cfg.CacheTTL > 0 && !alone {
		if p, ok := a.cache.Get(k, now); ok {
			return p, nil
		}
	}
	if !wellFormed(q.token) {
		// Not a token tokend could have issued: no need to ask.
		return nil, invalidToken("the token is malformed")
	}
	req := api.VerifyRequest{Token: q.token, Audience: q.audience, Scopes: q.scopes, ClientIP: q.clientIP,
		Request: q.signed, DPoP: q.dpop}
	ask := func() verifyResult {
		res, err := a.ask(ctx, req)
		return verifyResult{res, err}
	}
	var r verifyResult
	if alone {
		r = ask()
	} else {
		var shared bool
		r, shared = a.flights.do(flightKey(k, q.scopes), ask)
		if shared && r.err == nil && limited(r.res) {
			r = ask()
		}
	}
	if r.err != nil {
		return nil, unavailable(r.err)
	}
	return a.outcome(r.res, k, now, q.dpop != nil)
}

func flightKey(k cacheKey, scopes []string) string {
	return string(k.hash[:]) + "\x00" + k.audience + "\x00" + k.clientIP + "\x00" + strings.Join(scopes, " ")
}

// limited reports whether an answer spent part of a limit, or depended on
// a request's signature: such answers are neither cached nor shared.
func limited(res *api.VerifyResponse) bool {
	return len(res.RateLimits) > 0 || res.Credits != nil || res.SignatureChecked
}

// outcome turns a /v1/verify answer into a principal or a refusal, and
// caches a VALID answer that carried no limit. withProof says the
// question carried a DPoP proof: then the token must be bound to a key
// (one sent as DPoP but not bound is refused), and the answer is never
// cached. tokend answers such a token NOT_DPOP_BOUND before it spends
// anything; a tokend older than that answers VALID, which is refused here.
func (a *Auth) outcome(res *api.VerifyResponse, k cacheKey, now time.Time, withProof bool) (*Principal, *Error) {
	p, e := verdict(res, withProof)
	if e == nil && withProof && res.Token.JKT == "" {
		return nil, notBound()
	}
	if e == nil && !withProof && !limited(res) && a.cfg.CacheTTL > 0 {
		until := now.Add(a.cfg.CacheTTL)
		if !p.ExpiresAt.IsZero() && p.ExpiresAt.Before(until) {
			until = p.ExpiresAt
		}
		a.cache.Put(k, p, until, now)
	}
	return p, e
}

// verdict maps a /v1/verify answer to a principal or a refusal;
// withProof says the question carried a DPoP proof.
func verdict(res *api.VerifyResponse, withProof bool) (*Principal, *Error) {
	switch res.Code {
	case api.CodeValid:
		return principalOf(res), nil
	case api.CodeInsufficientScope:
		return nil, &Error{Status: http.StatusForbidden, Code: ErrInsufficientScope,
			Description: "the token lacks a required scope"}
	case api.CodeRateLimited:
		return nil, &Error{Status: http.StatusTooManyRequests, Code: ErrRateLimited,
			Description: "rate limit exceeded", RateLimits: res.RateLimits, Credits: res.Credits}
	case api.CodeUsageExceeded:
		return nil, &Error{Status: http.StatusTooManyRequests, Code: ErrRateLimited,
			Description: "usage limit exceeded", RateLimits: res.RateLimits, Credits: res.Credits}
	case api.CodeExpired:
		return nil, invalidToken("the token has expired")
	case api.CodeRevoked:
		return nil, invalidToken("the token has been revoked")
	case api.CodeDisabled:
		return nil, invalidToken("the token is disabled")
	case api.CodePendingApproval:
		return nil, invalidToken("the token awaits an administrator's approval")
	case api.CodeForbiddenIP:
		return nil, invalidToken("the token may not be used from this address")
	case api.CodeSignatureRequired, api.CodeSignatureInvalid:
		return nil, invalidSignature(res.Problem)
	case api.CodeInvalidDPoPProof:
		if !withProof {
			return nil, boundAsBearer()
		}
		return nil, invalidProof(or(res.DPoPError, "the DPoP proof is not valid for this token and request"))
	case api.CodeUseDPoPNonce:
		return nil, useNonce(res.DPoPError, res.DPoPNonce)
	case api.CodeDPoPNotBound:
		return nil, notBound()
	}
	return nil, invalidToken("the token is unknown or not meant for this resource")
}

// maxAnswer bounds the answers of tokend this package reads.
const maxAnswer = 1 << 20

// ask asks tokend's /v1/verify. It returns an error only when there is no
// answer to act on: tokend unreachable, too slow, or answering anything
// but 200 with a consistent outcome (a 401 there means VerifyKey is
// wrong). The call is not tied to ctx's cancellation, since other
// requests may be waiting for it, but it ends after Config.Timeout. The
// error never holds the token.
func (a *Auth) ask(ctx context.Context, req api.VerifyRequest) (*api.VerifyResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.Timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.URL+"/v1/verify", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Authorization", "Bearer "+a.cfg.VerifyKey)
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("ask tokend: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("ask tokend: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("ask tokend: /v1/verify answered %s%s", resp.Status, problemCode(b))
	}
	var res api.VerifyResponse
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("ask tokend: decode answer: %w", err)
	}
	if res.Valid != (res.Code == api.CodeValid) || (res.Valid && res.Token == nil) {
		return nil, errors.New("ask tokend: inconsistent answer")
	}
	return &res, nil
}

// problemCode is ": code" of a problem document body, for the log.
func problemCode(b []byte) string {
	var p api.Problem
	if json.Unmarshal(b, &p) != nil || p.Type == "" {
		return ""
	}
	return ": " + p.Code()
}

// wellFormed reports whether token has the shape of tokend's opaque
// tokens (DESIGN §1): a prefix of 1 to 16 of [a-z0-9_], "_", 43 base62
// characters and a 6-character base62 CRC-32 of everything before it.
// It duplicates tokend's internal/credential.Parse, which a public
// package may not import, so that forged or mistyped tokens are refused
// without a call to tokend; tokend itself remains the judge of every
// token that passes.
func wellFormed(token string) bool {
	const body, sum = 43, 6
	cut := len(token) - 1 - body - sum
	if cut < 1 || cut > 16 || token[cut] != '_' {
		return false
	}
	for i := 0; i < cut; i++ {
		if c := token[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	var n uint64
	for i := cut + 1; i < len(token); i++ {
		d := strings.IndexByte(base62, token[i])
		if d < 0 {
			return false
		}
		if i >= len(token)-sum {
			n = n*62 + uint64(d)
		}
	}
	return n == uint64(crc32IEEE(token[:len(token)-sum]))
}

// crc32IEEE is crc32.ChecksumIEEE of a string, without copying it.
func crc32IEEE(s string) uint32 {
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc = crc32.IEEETable[byte(crc)^s[i]] ^ (crc >> 8)
	}
	return ^crc
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
