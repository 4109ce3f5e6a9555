package oauth

import (
	"fmt"
	"net"
	"net/url"
	"slices"
)

// The paths of the OAuth endpoints, under the issuer URL.
const (
	TokenPath        = "/oauth2/token"
	IntrospectPath   = "/oauth2/introspect"
	RevokePath       = "/oauth2/revoke"
	RegisterPath     = "/oauth2/register"
	JWKSPath         = "/oauth2/jwks.json"
	MetadataPath     = "/.well-known/oauth-authorization-server"
	OIDCMetadataPath = "/.well-known/openid-configuration"
)

// The grant types tokend implements.
const (
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
	GrantAuthorizationCode = "authorization_code"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code" // RFC 8628 §3.4
)

// checkIssuer enforces the shape RFC 8414 §2 asks of an issuer: an
// absolute http(s) URL without query or fragment. RFC 8414 requires https;
// plain http is accepted for development and local networks, and the
// caller warns about it (see InsecureIssuer).
func checkIssuer(iss string) error {
	u, err := url.Parse(iss)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil ||
		(u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("issuer %q must be an absolute http(s) URL without query or fragment", iss)
	}
	return nil
}

// InsecureIssuer reports whether iss is plain http on an address other
// than loopback: clients would send secrets in clear.
func InsecureIssuer(iss string) bool {
	u, err := url.Parse(iss)
	if err != nil || u.Scheme != "http" {
		return false
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	return host != "localhost" && (ip == nil || !ip.IsLoopback())
}

// Metadata is the RFC 8414 authorization server metadata, which is also
// the OpenID Provider metadata (OIDC Discovery §3). It lists exactly what
// tokend implements; see Metadata.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	RegistrationEndpoint                       string   `json:"registration_endpoint,omitempty"`
	PushedAuthorizationRequestEndpoint         string   `json:"pushed_authorization_request_endpoint,omitempty"`
	DeviceAuthorizationEndpoint                string   `json:"device_authorization_endpoint,omitempty"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	SubjectTypesSupported                      []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	ACRValuesSupported                         []string `json:"acr_values_supported"`
	ClaimsSupported                            []string `json:"claims_supported"`
	ClaimsParameterSupported                   bool     `json:"claims_parameter_supported"`
	RequestParameterSupported                  bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported               bool     `json:"request_uri_parameter_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	RevocationEndpointAuthSigningAlgs          []string `json:"revocation_endpoint_auth_signing_alg_values_supported"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthSigningAlgs       []string `json:"introspection_endpoint_auth_signing_alg_values_supported"`
	// ClientIDMetadataDocumentSupported: draft-ietf-oauth-client-id-metadata-document §5.
	ClientIDMetadataDocumentSupported bool `json:"client_id_metadata_document_supported,omitempty"`
	// DPoPSigningAlgValuesSupported are the DPoP proof algorithms (RFC
	// 9449 §5.1).
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported"`
}

// claimsSupported are the claims of ID tokens and userinfo.
var claimsSupported = []string{"iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "acr", "amr", "at_hash", "sid",
	"name", "preferred_username", "email", "email_verified", "groups"}

// Metadata returns the server's metadata. The endpoints of the browser
// flows (authorization, device verification, logout) are listed only
// when Config.BrowserFlows says the browser surface serves their pages;
// without them response_types_supported is honestly empty.
func (s *Service) Metadata() Metadata {
	methods := []string{AuthSecretBasic, AuthSecretPost, AuthPrivateKeyJWT}
	algs := make([]string, len(AssertionAlgs))
	for i, a := range AssertionAlgs {
		algs[i] = string(a)
	}
	m := Metadata{
		Issuer:                                     s.issuer,
		TokenEndpoint:                              s.issuer + TokenPath,
		UserinfoEndpoint:                           s.issuer + UserinfoPath,
		JWKSURI:                                    s.issuer + JWKSPath,
		PushedAuthorizationRequestEndpoint:         s.issuer + PARPath,
		ScopesSupported:                            OIDCScopes,
		ResponseTypesSupported:                     []string{},
		ResponseModesSupported:                     []string{"query"},
		GrantTypesSupported:                        []string{GrantClientCredentials, GrantRefreshToken},
		SubjectTypesSupported:                      []string{"public"},
		IDTokenSigningAlgValuesSupported:           s.idTokenAlgs(),
		ACRValuesSupported:                         []string{ACRSingleFactor, ACRMultiFactor},
		ClaimsSupported:                            claimsSupported,
		CodeChallengeMethodsSupported:              []string{PKCEMethodS256},
		AuthorizationResponseIssParameterSupported: true,
		TokenEndpointAuthMethodsSupported:          append(slices.Clone(methods), AuthNone),
		TokenEndpointAuthSigningAlgValuesSupported: algs,
		RevocationEndpoint:                         s.issuer + RevokePath,
		RevocationEndpointAuthMethodsSupported:     append(slices.Clone(methods), AuthNone),
		RevocationEndpointAuthSigningAlgs:          algs,
		IntrospectionEndpoint:                      s.issuer + IntrospectPath,
		IntrospectionEndpointAuthMethodsSupported:  methods,
		IntrospectionEndpointAuthSigningAlgs:       algs,
		DPoPSigningAlgValuesSupported:              s.dpop.Algs(),
	}
	if s.browserFlows {
		m.AuthorizationEndpoint = s.issuer + AuthorizePath
		m.DeviceAuthorizationEndpoint = s.issuer + DevicePath
		m.EndSessionEndpoint = s.issuer + EndSessionPath
		m.ResponseTypesSupported = []string{"code"}
		m.GrantTypesSupported = []string{GrantAuthorizationCode, GrantDeviceCode, GrantClientCredentials, GrantRefreshToken}
	}
	if s.browserFlows && s.documents != nil {
		m.ClientIDMetadataDocumentSupported = true
	}
	if s.registration {
		m.RegistrationEndpoint = s.issuer + RegisterPath
	}
	return m
}

// idTokenAlgs are the ID-token algorithms the signer has keys for.
func (s *Service) idTokenAlgs() []string {
	var out []string
	for _, a := range s.signer.Algs() {
		if slices.Contains(IDTokenAlgs, a) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b string) int { // RS256, the default, first
		return cmpBool(b == DefaultIDTokenAlg, a == DefaultIDTokenAlg)
	})
	return out
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
