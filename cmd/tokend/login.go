package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

// The person's side of the CLI: "tokend login" signs a person in through
// the device flow (RFC 8628) with the built-in client cli_tokendcli…, trades
// the sign-in at once for a personal access token of the built-in API
// with the tokend:self scope, and keeps that token in the person's
// config directory; "tokend me" and "tokend pat" then act for the person
// with it, without an admin key.

// cliClientID is the built-in public client of the device flow
// (oauth.CLIClientID on the server).
const cliClientID = "cli_tokendcli00000000000000000"

// login is what "tokend login" stores: the server and the person's
// tokend:self token.
type login struct {
	Server  string `json:"server"`
	Token   string `json:"token"`
	TokenID string `json:"token_id"`
}

// loginPath is the file of the stored login: tokend/login.json in the
// user's config directory (os.UserConfigDir).
func loginPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config directory: %w", err)
	}
	return filepath.Join(dir, "tokend", "login.json"), nil
}

// saveLogin writes l readable by the person only: the directory 0700,
// the file 0600, replaced atomically.
func saveLogin(l login) (string, error) {
	path, err := loginPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	if err := os.Chmod(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	b, _ := json.MarshalIndent(l, "", "  ")
	tmp, err := os.CreateTemp(filepath.Dir(path), ".login-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.Write(append(b, '\n'))
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}

// loadLogin reads the stored login.
func loadLogin() (login, error) {
	path, err := loginPath()
	if err != nil {
		return login{}, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return login{}, fmt.Errorf("%w: not signed in: run 'tokend login --server URL' first", errUsage)
	}
	if err != nil {
		return login{}, err
	}
	var l login
	if err := json.Unmarshal(b, &l); err != nil || l.Server == "" || l.Token == "" {
		return login{}, fmt.Errorf("%s is damaged; run 'tokend login --server URL' again", path)
	}
	return l, nil
}

func runLogin(ctx context.Context, args []string, c *cmdIO) error {
	var server, name, cacert string
	var ttl time.Duration
	fs := newPersonFlagSet(c, "login", "login --server URL [--name N] [--ttl 90d]",
		"Signs you in to a tokend server through the device flow: open the address it prints in a\n"+
			"browser, sign in there and enter the code. It then keeps a personal access token with the\n"+
			"tokend:self scope in your config directory, for 'tokend me' and 'tokend pat'.")
	fs.StringVar(&server, "server", "", "tokend base `URL` (default $TOKEND_URL)")
	fs.StringVar(&name, "name", "", "`name` of the token on your tokens page (default: tokend CLI on <host>)")
	durVar(fs, &ttl, "ttl", "lifetime of the token (default 90d; at most 365d)")
	fs.StringVar(&cacert, "cacert", "", "PEM `file` of the CA certificates that sign tokend's TLS certificate (default $TOKEND_CACERT)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 0, "no arguments"); err != nil {
		return err
	}
	base, err := baseURL(server, c.env("TOKEND_URL"))
	if err != nil {
		return err
	}
	hc, err := httpClient(firstNonEmpty(cacert, c.env("TOKEND_CACERT")))
	if err != nil {
		return err
	}
	if name == "" {
		host, _ := os.Hostname()
		name = "tokend CLI on " + firstNonEmpty(host, "this computer")
	}
	if ttl == 0 {
		ttl = 90 * 24 * time.Hour
	}
	access, err := deviceSignIn(ctx, c, hc, base)
	if err != nil {
		return err
	}
	cl, err := client.New(client.Config{URL: base, Token: access, HTTPClient: hc})
	if err != nil {
		return err
	}
	d := api.Duration(ttl)
	ct, err := cl.CreateMyToken(ctx, api.CreateTokenRequest{APIID: "api_tokend", Name: name, Scopes: []string{"tokend:self"}, TTL: &d})
	if err != nil {
		return fmt.Errorf("create your token: %w", err)
	}
	path, err := saveLogin(login{Server: base, Token: ct.Secret, TokenID: ct.Token.ID})
	if err != nil {
		return fmt.Errorf("store your token: %w", err)
	}
	me, err := client.New(client.Config{URL: base, Token: ct.Secret, HTTPClient: hc})
	if err != nil {
		return err
	}
	u, err := me.Me(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Signed in to %s as %s. Token %s (expires %s) is in %s.\n", base, printable(u.Username), ct.Token.ID,
		whenPtr(ct.Token.ExpiresAt, "never"), path)
	return nil
}

// deviceAnswer is the device authorization response (RFC 8628 §3.2) and
// the token response (RFC 6749 §5), in the members the CLI reads.
type deviceAnswer struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
	AccessToken             string `json:"access_token"`
	Error                   string `json:"error"`
	ErrorDescription        string `json:"error_description"`
}

// deviceSignIn runs the device flow against base: it prints where to
// go and the code, polls until the person answers, and returns the
// access token.
func deviceSignIn(ctx context.Context, c *cmdIO, hc *http.Client, base string) (string, error) {
	da, err := postForm(ctx, hc, base+"/oauth2/device_authorization", url.Values{"client_id": {cliClientID}, "scope": {"openid"}})
	if err != nil {
		return "", err
	}
	if da.Error != "" {
		return "", fmt.Errorf("the server refused the sign-in: %s: %s", da.Error, da.ErrorDescription)
	}
	fmt.Fprintf(c.stdout, "Open %s in a browser, sign in, and enter the code %s\n(or open %s)\nWaiting for you to approve...\n",
		da.VerificationURI, da.UserCode, da.VerificationURIComplete)
	interval := max(time.Duration(da.Interval)*time.Second, time.Second)
	deadline := time.Now().Add(time.Duration(da.ExpiresIn) * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(interval):
		}
		tok, err := postForm(ctx, hc, base+"/oauth2/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
			"device_code": {da.DeviceCode}, "client_id": {cliClientID}})
		if err != nil {
			return "", err
		}
		switch tok.Error {
		case "":
			return tok.AccessToken, nil
		case "authorization_pending":
		case "slow_down":
			interval += 5 * time.Second
		case "access_denied":
			return "", errors.New("the sign-in was denied in the browser")
		default:
			return "", fmt.Errorf("sign-in failed: %s: %s", tok.Error, tok.ErrorDescription)
		}
	}
	return "", errors.New("the code expired before it was approved; run 'tokend login' again")
}

// postForm posts form and decodes the JSON answer, success or OAuth error.
func postForm(ctx context.Context, hc *http.Client, u string, form url.Values) (deviceAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return deviceAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return deviceAnswer{}, err
	}
	defer resp.Body.Close()
	var out deviceAnswer
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return deviceAnswer{}, fmt.Errorf("%s answered %s, not an OAuth answer", u, resp.Status)
	}
	return out, nil
}
