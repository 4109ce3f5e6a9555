package oauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/tokenauth"
)

type echoArgs struct {
	Input string `json:"input"`
}

// TestMCPClientAuthorizesWithNothingButTheServerURL runs the flow every
// MCP client runs, with the MCP Go SDK on both sides: an MCP server
// protected by tokenauth (bearer JWTs checked against tokend's JWKS, RFC
// 9728 metadata naming tokend), and the SDK's client, which is given the
// server URL only. It discovers tokend, registers itself as a public
// client (RFC 7591), authorizes with PKCE and resource, and calls a
// tool. The person's sign-in and consent go through the domain functions
// of the /oauth2/authorize page.
func TestMCPClientAuthorizesWithNothingButTheServerURL(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice := e.person(t)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mcpURL := srv.URL + "/mcp"
	if _, err := e.Client.CreateAPI(ctx, api.CreateAPIRequest{Name: "MCP tools", Audience: mcpURL, Scopes: []string{"mcp:tools"},
		KeyPrefix: "mcpt", Policy: api.Policy{DynamicClientScopes: []string{"mcp:tools"},
			ScopeDescriptions: map[string]string{"mcp:tools": "Call the tools of this MCP server"}}}); err != nil {
		t.Fatal(err)
	}
	_, vkey, err := e.Keys.CreateAdminKey(ctx, auditActor("test"), "mcp server", []string{"tokend:verify"})
	if err != nil {
		t.Fatal(err)
	}
	ta, err := tokenauth.New(tokenauth.Config{URL: e.URL, VerifyKey: vkey, Audience: mcpURL, Resource: mcpURL,
		ScopesSupported: []string{"mcp:tools"}, Now: e.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	server := mcp.NewServer(&mcp.Implementation{Name: "tools", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo", Description: "echoes its input"},
		func(ctx context.Context, req *mcp.CallToolRequest, in echoArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Input}}}, nil, nil
		})
	mux.Handle("/mcp", ta.Require("mcp:tools")(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)))
	mux.Handle("GET /.well-known/oauth-protected-resource", ta.MetadataHandler())
	mux.Handle("GET /.well-known/oauth-protected-resource/mcp", ta.MetadataHandler())

	authorized := 0
	h, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			ClientName: "MCP test client", RedirectURIs: []string{"http://127.0.0.1:33418/callback"},
			TokenEndpointAuthMethod: "none", GrantTypes: []string{"authorization_code", "refresh_token"}}},
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			authorized++
			back := e.authorize(t, args.URL, alice)
			q := back.Query()
			return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "mcp test client", Version: "1.0.0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: mcpURL, OAuthHandler: h}, nil)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer session.Close()
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"input": "hello"}})
	if err != nil {
		t.Fatalf("CallTool: %v", err)
	}
	if len(res.Content) != 1 || res.Content[0].(*mcp.TextContent).Text != "hello" || authorized != 1 {
		t.Errorf("CallTool = %+v after %d authorizations", res.Content, authorized)
	}
}
