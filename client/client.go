package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/tokend/tokend/api"
)

// maxResponse caps how much of an answer the client reads, so that a broken
// or hostile server cannot exhaust the caller's memory.
const maxResponse = 16 << 20

// maxProblem caps how much of an error body the client reads.
const maxProblem = 64 << 10

// Config configures a Client.
type Config struct {
	// URL is the base URL of the tokend server, such as
	// "https://tokend.example.com" or "http://127.0.0.1:8080". It may carry
	// a path prefix when tokend is served below one. Required.
	URL string

	// Token is the admin key sent as "Authorization: Bearer" on every
	// request. Required. It is never put in a URL or in an error.
	Token string

	// HTTPClient makes the requests. Nil means http.DefaultClient, which has
	// no timeout: rely on the context, or pass a client with one.
	HTTPClient *http.Client
}

// Client calls tokend's management API. It is safe for concurrent use.
type Client struct {
	base  string // scheme://host[/prefix], without a trailing slash
	token string
	hc    *http.Client
}

// New returns a Client for cfg. It reports every problem with cfg at once,
// and never repeats the token in its error.
func New(cfg Config) (*Client, error) {
	var errs []error
	base, err := parseBase(cfg.URL)
	if err != nil {
		errs = append(errs, err)
	}
	if err := checkToken(cfg.Token); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("client config: %w", errors.Join(errs...))
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: base, token: cfg.Token, hc: hc}, nil
}

func parseBase(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("URL is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("URL %q: scheme must be http or https", u.Redacted())
	case u.Host == "":
		return "", fmt.Errorf("URL %q: no host", u.Redacted())
	case u.User != nil:
		return "", errors.New("URL must not carry user information; use Token")
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("URL %q: must not have a query or fragment", u.Redacted())
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// checkToken rejects tokens that cannot travel in a header. The message
// never quotes the token.
func checkToken(tok string) error {
	if tok == "" {
		return errors.New("token is required")
	}
	for _, r := range tok {
		if r <= ' ' || r == 0x7f {
			return errors.New("token contains a space or control character")
		}
	}
	return nil
}

// call sends in (when non-nil) as JSON to path and decodes a 2xx answer into
// a new T. path must already be escaped.
func call[T any](ctx context.Context, c *Client, method, path string, query url.Values, in any) (*T, error) {
	var out T
	if err := c.do(ctx, method, path, query, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// do performs one request. A non-2xx answer becomes an *api.Problem. out
// may be nil when no body is expected.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	req, err := c.newRequest(ctx, method, path, query, in)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err // *url.Error: method and URL, which hold no secret
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxResponse)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return readProblem(resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, body) // let the connection be reused
		return nil
	}
	if err := json.NewDecoder(body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

func (c *Client) newRequest(ctx context.Context, method, path string, query url.Values, in any) (*http.Request, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tokend-client")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// readProblem turns an error answer into an *api.Problem. When the body is
// not a problem document (a proxy's HTML page, say), it makes one up from
// the status, without quoting the body.
func readProblem(status int, contentType string, body io.Reader) *api.Problem {
	p := &api.Problem{}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/problem+json" || mt == "application/json" {
		err := json.NewDecoder(io.LimitReader(body, maxProblem)).Decode(p)
		if err != nil || (p.Type == "" && p.Title == "") {
			p = &api.Problem{}
		}
	}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(status)
	}
	if p.Status == 0 {
		p.Status = status
	}
	return p
}

// segment escapes id as one path segment, so that an ID cannot change the
// path. It refuses IDs that would name a different resource.
func segment(what, id string) (string, error) {
	switch id {
	case "":
		return "", fmt.Errorf("empty %s ID", what)
	case ".", "..":
		return "", fmt.Errorf("invalid %s ID %q", what, id)
	}
	return url.PathEscape(id), nil
}
