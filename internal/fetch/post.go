package fetch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// CheckTarget checks rawURL as Fetch and Post would before connecting,
// and also resolves its host name now and refuses it if any address it
// resolves to is not public, so that an endpoint on a private network is
// refused when it is registered, not only when it is first called. The
// dial-time check still applies to every later connection.
func (f *Fetcher) CheckTarget(ctx context.Context, rawURL string) error {
	u, err := f.checkURL(rawURL)
	if err != nil {
		return err
	}
	host := strings.Trim(u.Hostname(), "[]")
	if _, err := netip.ParseAddr(host); err == nil || f.cfg.InsecureAllowPrivate {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return &Error{Msg: fmt.Sprintf("the URL's host %s does not resolve", host), Err: err}
	}
	for _, a := range addrs {
		if !f.allowed(a) {
			return forbidden(a)
		}
	}
	return nil
}

// Post sends body to rawURL with the given header fields and returns the
// answer's status code; the answer's body is read up to MaxBytes and
// dropped. Only a failure to get an answer is an error: a status of 300
// or more is for the caller to judge. Redirects are not followed.
func (f *Fetcher) Post(ctx context.Context, rawURL string, header map[string]string, body []byte) (int, error) {
	u, err := f.checkURL(rawURL)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	select {
	case f.slots <- struct{}{}:
		defer func() { <-f.slots }()
	case <-ctx.Done():
		return 0, &Error{Msg: "too many requests are in flight; retry later", Err: ctx.Err()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, &Error{Msg: "the URL cannot be called", Err: err}
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := f.client.Do(req)
	if err != nil {
		return 0, connectError(u.Host, err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, f.cfg.MaxBytes))
	return res.StatusCode, nil
}
