package server

import (
	"context"
	"net/netip"
	"net/url"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/dpop"
	"github.com/tokend/tokend/internal/httpsig"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/valid"
	"github.com/tokend/tokend/internal/verify"
)

// verify answers POST /v1/verify: always 200 for an outcome; 400 only for
// a request that cannot be a question (no token, a bad IP or cost).
func (s *Server) verify(ctx context.Context, _ call, req *api.VerifyRequest) (*api.VerifyResponse, error) {
	q := verify.Request{Token: req.Token, Audience: req.Audience, Scopes: req.Scopes, ClientIP: req.ClientIP, Cost: 1}
	if req.Token == "" {
		return nil, valid.Errorf("token", "is required")
	}
	if req.Cost != nil {
		if *req.Cost < 0 {
			return nil, valid.Errorf("cost", "must not be negative")
		}
		q.Cost = *req.Cost
	}
	if req.ClientIP != "" {
		if _, err := netip.ParseAddr(req.ClientIP); err != nil {
			return nil, valid.Errorf("client_ip", "must be an IPv4 or IPv6 address")
		}
	}
	if req.Request != nil {
		m, err := signedMessage(req.Request)
		if err != nil {
			return nil, err
		}
		q.Signed = m
	}
	if d := req.DPoP; d != nil {
		if err := checkVerifyDPoP(d); err != nil {
			return nil, err
		}
		q.DPoP = d
	}
	// One allocation holds the answer and room for the usual few rate
	// limits, which the engine fills in place.
	st := new(struct {
		out    api.VerifyResponse
		limits [4]ratelimit.State
	})
	res := verify.Result{RateLimits: st.limits[:0]}
	if err := s.engine.Verify(ctx, &q, &res); err != nil {
		return nil, err
	}
	out := &st.out
	*out = api.VerifyResponse{Valid: res.Valid(), Code: res.Code, Token: res.Token, Problem: res.Problem,
		SignatureChecked: res.SignatureChecked, DPoPNonce: res.DPoPNonce, DPoPError: res.DPoPError}
	if len(res.RateLimits) > 0 {
		out.RateLimits = make([]api.RateLimitState, len(res.RateLimits))
		for i, l := range res.RateLimits {
			out.RateLimits[i] = wireLimit(l)
		}
	}
	if res.HasCredits {
		out.Credits = &api.CreditState{Remaining: res.Credits}
	}
	return out, nil
}

// signedMessage checks the request a token came with, as /v1/verify's
// request field gives it, and returns it as httpsig sees it.
func signedMessage(r *api.SignedRequest) (*httpsig.Message, error) {
	if err := valid.Text("request.method", r.Method, 1, 32); err != nil {
		return nil, err
	}
	u, err := url.Parse(r.TargetURI)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, valid.Errorf("request.target_uri", "must be an absolute http or https URI")
	}
	if r.Authority != "" && !strings.EqualFold(r.Authority, u.Host) {
		return nil, valid.Errorf("request.authority", "is not the authority of target_uri (%s)", u.Host)
	}
	if _, twice := httpsig.RepeatedField(r.Headers); twice {
		// Which of the two a lookup found would be chance. The name is
		// data, not repeated back (as jsonkeys does with map keys).
		return nil, valid.Errorf("request.headers", "holds one header field name twice, in different cases "+
			"(HTTP field names are case-insensitive): give each field once, with all its values")
	}
	return &httpsig.Message{Method: r.Method, TargetURI: r.TargetURI, Header: r.Headers, HasBody: r.HasBody}, nil
}

// checkVerifyDPoP checks the shape of the dpop member of a verification:
// a proof, an HTTP method and an absolute http(s) URL.
func checkVerifyDPoP(d *api.VerifyDPoP) error {
	switch {
	case d.Proof == "":
		return valid.Errorf("dpop.proof", "is required with dpop")
	case len(d.Proof) > dpop.MaxProofLen:
		return valid.Errorf("dpop.proof", "is longer than %d bytes", dpop.MaxProofLen)
	case d.Method == "" || len(d.Method) > 20 || strings.ToUpper(d.Method) != d.Method:
		return valid.Errorf("dpop.method", "must be the request's HTTP method, in upper case")
	}
	u, err := url.Parse(d.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(d.URL) > 2000 {
		return valid.Errorf("dpop.url", "must be the absolute http(s) URL of the request")
	}
	return nil
}
