package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/dpop"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/fetch"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/signer"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/verify"
)

// oauthConfig is the OAuth settings of "tokend serve".
type oauthConfig struct {
	dcr             bool
	dcrInitialToken string // a file path
	dcrRateLimit    int    // registrations per address per hour; 0: none
	dcrApproval     bool
	cimd            bool
	cimdInsecure    bool
	cimdRateLimit   int // document fetches per address per minute; 0: none
}

func (c *oauthConfig) register(fs *flag.FlagSet) {
	fs.BoolVar(&c.dcr, "dcr", false, "enable RFC 7591 dynamic client registration at /oauth2/register ($TOKEND_DCR)")
	str(fs, &c.dcrInitialToken, "dcr-initial-token-file", "", "file holding the initial access token registrations must present; without it registration is open to anyone")
	intFlag(fs, &c.dcrRateLimit, "dcr-rate-limit", 20, "registration requests one client address may make per hour (0: no limit)")
	fs.BoolVar(&c.dcrApproval, "dcr-approval", false, "hold every dynamically registered client (and client ID metadata document client) for an admin's approval, whatever APIs it asks for; without it only APIs with policy approve_dynamic_clients hold theirs ($"+envName("dcr-approval")+")")
	fs.BoolVar(&c.cimd, "cimd", false, "accept client ID metadata documents: an https URL as client_id names a public client described by the JSON there ($"+envName("cimd")+")")
	intFlag(fs, &c.cimdRateLimit, "cimd-rate-limit", oauth.DefaultDocumentFetchLimit, "client ID metadata documents one client address may make tokend fetch per minute, shared by every node with --redis (0: no limit)")
	fs.BoolVar(&c.cimdInsecure, "cimd-insecure-allow-private", false, "let --cimd fetch documents over plain http and from loopback, private and link-local addresses: for development and tests only ($"+envName("cimd-insecure-allow-private")+")")
}

// documents returns the fetcher of client ID metadata documents, or nil
// when --cimd is off.
func (c *oauthConfig) documents(log *slog.Logger) (oauth.DocumentFetcher, error) {
	switch {
	case c.cimdInsecure && !c.cimd:
		return nil, fmt.Errorf("%w: --cimd-insecure-allow-private needs --cimd", errUsage)
	case !c.cimd:
		return nil, nil
	case c.cimdInsecure:
		log.Warn("--cimd-insecure-allow-private is set: anyone who names a client_id URL can make tokend call loopback, private and cloud-metadata addresses over plain http; NOT SAFE FOR PRODUCTION USE")
	}
	return fetch.New(fetch.Config{InsecureAllowPrivate: c.cimdInsecure}), nil
}

// newOAuth builds the authorization server.
func newOAuth(ctx context.Context, cfg serveConfig, db *store.DB, sg *signer.Signer, engine *verify.Engine, p *peers, proofs *dpop.Checker, log *slog.Logger) (*oauth.Service, error) {
	issuer := cfg.signing.issuerURL(cfg)
	var initial string
	if f := cfg.oauth.dcrInitialToken; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read --dcr-initial-token-file: %w", err)
		}
		if initial = strings.TrimSpace(string(b)); len(initial) < 32 {
			return nil, fmt.Errorf("%w: the initial access token in %s must be at least 32 characters", errUsage, f)
		}
	}
	docs, err := cfg.oauth.documents(log)
	if err != nil {
		return nil, err
	}
	o, err := oauth.New(oauth.Config{DB: db, Signer: sg, Verifier: engine, Issuer: issuer,
		Registration: cfg.oauth.dcr, ApproveRegistrations: cfg.oauth.dcrApproval, InitialAccessToken: initial, RegistrationLimit: registrationLimit(cfg.oauth.dcrRateLimit),
		BrowserFlows: true, Documents: docs, Failures: p.deviceFailures(), DocumentLimiter: p.documentLimiter(),
		DocumentFetchLimit: registrationLimit(cfg.oauth.cimdRateLimit), DPoP: proofs, Logger: log})
	if err != nil {
		return nil, err
	}
	if err := o.EnsureCLIClient(ctx); err != nil {
		return nil, fmt.Errorf("create the built-in CLI client: %w", err)
	}
	if oauth.InsecureIssuer(issuer) {
		log.Warn("the OAuth issuer is plain http on a non-loopback address: client secrets and tokens cross the network in clear; serve TLS", "issuer", issuer)
	}
	if cfg.oauth.dcr && initial == "" {
		log.Warn("dynamic client registration is OPEN: anyone who reaches tokend can register a client, for the scopes APIs offer in policy.dynamic_client_scopes; set --dcr-initial-token-file to restrict it")
	}
	return o, nil
}

// registrationLimit maps --dcr-rate-limit and --cimd-rate-limit, where 0
// means no limit, to oauth.Config.RegistrationLimit and
// DocumentFetchLimit, where a negative value does.
func registrationLimit(flag int) int {
	if flag <= 0 {
		return -1
	}
	return flag
}

func clientCommands() []command {
	return []command{
		{"create", "register an OAuth client; prints its secret once", clientsCreate},
		{"list", "list OAuth clients", clientsList},
		{"show", "show one OAuth client", clientsShow},
		{"update", "change an OAuth client's settings", clientsUpdate},
		{"rotate-secret", "give an OAuth client a new secret; prints it once", clientsRotate},
		{"delete", "delete an OAuth client and its tokens", clientsDelete},
	}
}

// clientFlags are the settable fields of an OAuth client.
type clientFlags struct {
	name, format, authMethod, jwksFile string
	grants, scopes                     csvFlag
	accessTTL, refreshTTL              time.Duration
}

func (f *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.name, "name", "", "human-readable `name`")
	fs.Var(&f.grants, "grant-types", "`grants`: client_credentials[,refresh_token] (default client_credentials)")
	fs.Var(&f.scopes, "scopes", "`API_ID:scope` pairs the client may request, comma-separated (repeatable); API_ID: alone allows the API with no scope")
	durVar(fs, &f.accessTTL, "access-token-ttl", "access token lifetime, 1m to 24h (default 1h)")
	durVar(fs, &f.refreshTTL, "refresh-token-ttl", "refresh token lifetime, 1h to 365d (default 30d)")
	fs.StringVar(&f.format, "format", "", "access token `format`: jwt (default) or opaque")
	fs.StringVar(&f.authMethod, "auth-method", "", "client_secret_basic (default), client_secret_post or private_key_jwt")
	fs.StringVar(&f.jwksFile, "jwks-file", "", "`file` holding the client's public JWK Set (private_key_jwt)")
}

// apiScopes turns "api_1:read,api_1:write,api_2:" into a map.
func apiScopes(pairs []string) (map[string][]string, error) {
	m := map[string][]string{}
	for _, p := range pairs {
		id, sc, ok := strings.Cut(p, ":")
		if !ok || id == "" || !strings.HasPrefix(id, "api_") {
			return nil, fmt.Errorf("%w: --scopes %q: want API_ID:scope, such as api_…:invoices:read, "+
				"with the API's ID from 'tokend apis list'", errUsage, p)
		}
		if _, seen := m[id]; !seen {
			m[id] = []string{}
		}
		if sc != "" {
			m[id] = append(m[id], sc)
		}
	}
	return m, nil
}

func (f *clientFlags) jwks() ([]byte, error) {
	if f.jwksFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(f.jwksFile)
	if err != nil {
		return nil, fmt.Errorf("read --jwks-file: %w", err)
	}
	return b, nil
}

func clientsCreate(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	var f clientFlags
	fs := newFlagSet(c, "clients create", "clients create --name N --scopes API_ID:scope,… [flags]",
		"Registers an OAuth client. Its secret is printed once; store it then.")
	conn.register(fs)
	f.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 0, "no arguments"); err != nil {
		return err
	}
	if f.name == "" || len(f.scopes) == 0 {
		return fmt.Errorf("%w: --name and --scopes are required", errUsage)
	}
	m, err := apiScopes(f.scopes)
	if err != nil {
		return err
	}
	jwks, err := f.jwks()
	if err != nil {
		return err
	}
	req := api.CreateClientRequest{Name: f.name, GrantTypes: f.grants, APIScopes: m, AccessTokenFormat: f.format,
		TokenEndpointAuthMethod: f.authMethod, JWKS: jwks}
	if f.accessTTL != 0 {
		d := api.Duration(f.accessTTL)
		req.AccessTokenTTL = &d
	}
	if f.refreshTTL != 0 {
		d := api.Duration(f.refreshTTL)
		req.RefreshTokenTTL = &d
	}
	cl, err := conn.client(c)
	if err != nil {
		return err
	}
	created, err := cl.CreateClient(ctx, req)
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	return showCreatedClient(c, conn, created)
}

func showCreatedClient(c *cmdIO, conn connFlags, created *api.CreatedClient) error {
	if conn.json {
		return printJSON(c.stdout, created)
	}
	if err := printClient(c.stdout, &created.Client); err != nil {
		return err
	}
	if created.Secret != "" {
		fmt.Fprintf(c.stdout, "\nclient secret (shown once, store it now):\n\n    %s\n", created.Secret)
	}
	if created.RegistrationAccessToken != "" {
		fmt.Fprintf(c.stdout, "\nnew registration access token (shown once; the old one no longer works):\n\n    %s\n",
			created.RegistrationAccessToken)
	}
	return nil
}

func clientsList(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	var cursor string
	var limit int
	fs := newFlagSet(c, "clients list", "clients list [--json]", "Lists OAuth clients.")
	fs.StringVar(&cursor, "cursor", "", "start after this `cursor` (next_cursor of the previous page)")
	fs.IntVar(&limit, "limit", 0, "page size, 1 to 500 (default 50)")
	_, cl, err := connect(c, fs, &conn, args, 0, "no arguments")
	if err != nil {
		return err
	}
	l, err := cl.ListClients(ctx, cursor, limit)
	if err != nil {
		return fmt.Errorf("list clients: %w", err)
	}
	if conn.json {
		return printJSON(c.stdout, l)
	}
	t := newTable(c.stdout)
	t.row("ID", "NAME", "GRANTS", "FORMAT", "AUTH", "CREATED")
	for _, x := range l.Clients {
		t.row(x.ID, x.Name, strings.Join(x.GrantTypes, ","), x.AccessTokenFormat, x.TokenEndpointAuthMethod, when(x.CreatedAt))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if l.NextCursor != "" {
		fmt.Fprintf(c.stdout, "\nmore: --cursor %s\n", l.NextCursor)
	}
	return nil
}

// oneClient parses the flags of a command that takes one client ID.
func oneClient(c *cmdIO, name, usage, help string, args []string, extra func(*flag.FlagSet)) (connFlags, *flag.FlagSet, string, error) {
	var conn connFlags
	fs := newFlagSet(c, "clients "+name, usage, help)
	conn.register(fs)
	if extra != nil {
		extra(fs)
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return conn, fs, "", err
	}
	if err := wantArgs(fs, pos, 1, "one client ID"); err != nil {
		return conn, fs, "", err
	}
	return conn, fs, pos[0], nil
}

func clientsShow(ctx context.Context, c *cmdIO, args []string) error {
	conn, _, id, err := oneClient(c, "show", "clients show ID [--json]", "Shows one OAuth client.", args, nil)
	if err != nil {
		return err
	}
	cl, err := conn.client(c)
	if err != nil {
		return err
	}
	x, err := cl.GetClient(ctx, id)
	if err != nil {
		return fmt.Errorf("show client %s: %w", id, err)
	}
	if conn.json {
		return printJSON(c.stdout, x)
	}
	return printClient(c.stdout, x)
}

func clientsUpdate(ctx context.Context, c *cmdIO, args []string) error {
	var f clientFlags
	conn, fs, id, err := oneClient(c, "update", "clients update ID [flags]",
		"Changes the given settings of an OAuth client; others keep their value. --scopes replaces every API's scopes.", args, f.register)
	if err != nil {
		return err
	}
	set := setFlags(fs)
	var req api.UpdateClientRequest
	if set["name"] {
		req.Name = &f.name
	}
	if set["grant-types"] {
		g := []string(f.grants)
		req.GrantTypes = &g
	}
	if set["scopes"] {
		m, err := apiScopes(f.scopes)
		if err != nil {
			return err
		}
		req.APIScopes = &m
	}
	if set["access-token-ttl"] {
		d := api.Duration(f.accessTTL)
		req.AccessTokenTTL = &d
	}
	if set["refresh-token-ttl"] {
		d := api.Duration(f.refreshTTL)
		req.RefreshTokenTTL = &d
	}
	if set["format"] {
		req.AccessTokenFormat = &f.format
	}
	if set["auth-method"] {
		req.TokenEndpointAuthMethod = &f.authMethod
	}
	if req.JWKS, err = f.jwks(); err != nil {
		return err
	}
	if len(set) == 0 || (len(set) == 1 && (set["json"] || set["url"] || set["token"])) {
		return fmt.Errorf("%w: nothing to update; give at least one flag", errUsage)
	}
	cl, err := conn.client(c)
	if err != nil {
		return err
	}
	x, err := cl.UpdateClient(ctx, id, req)
	if err != nil {
		return fmt.Errorf("update client %s: %w", id, err)
	}
	if conn.json {
		return printJSON(c.stdout, x)
	}
	return printClient(c.stdout, x)
}

func clientsRotate(ctx context.Context, c *cmdIO, args []string) error {
	conn, _, id, err := oneClient(c, "rotate-secret", "clients rotate-secret ID", "Gives an OAuth client a new secret; the old one stops working at once.", args, nil)
	if err != nil {
		return err
	}
	cl, err := conn.client(c)
	if err != nil {
		return err
	}
	created, err := cl.RotateClientSecret(ctx, id)
	if err != nil {
		return fmt.Errorf("rotate secret of client %s: %w", id, err)
	}
	return showCreatedClient(c, conn, created)
}

func clientsDelete(ctx context.Context, c *cmdIO, args []string) error {
	conn, _, id, err := oneClient(c, "delete", "clients delete ID", "Deletes an OAuth client with its opaque and refresh tokens.", args, nil)
	if err != nil {
		return err
	}
	cl, err := conn.client(c)
	if err != nil {
		return err
	}
	if err := cl.DeleteClient(ctx, id); err != nil {
		return fmt.Errorf("delete client %s: %w", id, err)
	}
	if !conn.json {
		fmt.Fprintf(c.stdout, "deleted client %s\n", id)
	}
	return nil
}

func printClient(w io.Writer, x *api.Client) error {
	t := newTable(w)
	t.row("ID:", x.ID)
	t.row("Name:", x.Name)
	t.row("Grant types:", strings.Join(x.GrantTypes, ", "))
	for id, sc := range x.APIScopes {
		t.row("API "+id+":", list(sc))
	}
	t.row("Access token:", x.AccessTokenFormat+", "+time.Duration(x.AccessTokenTTL).String())
	t.row("Refresh token TTL:", time.Duration(x.RefreshTokenTTL).String())
	t.row("Auth method:", x.TokenEndpointAuthMethod)
	if x.SecretStart != "" {
		t.row("Secret:", credential.ClientSecretPrefix+"_"+x.SecretStart+"…"+x.SecretEnd)
	}
	t.row("Dynamic:", fmt.Sprint(x.Dynamic))
	t.row("Created:", when(x.CreatedAt))
	return t.flush()
}
