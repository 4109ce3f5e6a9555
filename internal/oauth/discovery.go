package oauth

import (
	"fmt"
	"net"
	"net/url"
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

// Metadata is the RFC 8414 authorization server metadata. It lists
// exactly what tokend implements; see MetadataFor.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	RegistrationEndpoint                       string   `json:"registration_endpoint,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	RevocationEndpointAuthSigningAlgs          []string `json:"revocation_endpoint_auth_signing_alg_values_supported"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthSigningAlgs       []string `json:"introspection_endpoint_auth_signing_alg_values_supported"`
}

// Metadata returns the server's metadata. response_types_supported is
// required by RFC 8414 but tokend has no authorization endpoint yet, so
// it is honestly empty; the same document serves OIDC discovery, where
// the ID-token fields are absent because tokend issues no ID tokens yet.
func (s *Service) Metadata() Metadata {
	methods := []string{AuthSecretBasic, AuthSecretPost, AuthPrivateKeyJWT}
	algs := make([]string, len(AssertionAlgs))
	for i, a := range AssertionAlgs {
		algs[i] = string(a)
	}
	m := Metadata{
		Issuer:                            s.issuer,
		TokenEndpoint:                     s.issuer + TokenPath,
		JWKSURI:                           s.issuer + JWKSPath,
		ResponseTypesSupported:            []string{},
		GrantTypesSupported:               []string{GrantClientCredentials, GrantRefreshToken},
		TokenEndpointAuthMethodsSupported: methods,
		TokenEndpointAuthSigningAlgValuesSupported: algs,
		RevocationEndpoint:                         s.issuer + RevokePath,
		RevocationEndpointAuthMethodsSupported:     methods,
		RevocationEndpointAuthSigningAlgs:          algs,
		IntrospectionEndpoint:                      s.issuer + IntrospectPath,
		IntrospectionEndpointAuthMethodsSupported:  methods,
		IntrospectionEndpointAuthSigningAlgs:       algs,
	}
	if s.registration {
		m.RegistrationEndpoint = s.issuer + RegisterPath
	}
	return m
}
