package server

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/oauth"
)

// wireSchemas pairs each OpenAPI schema with the Go wire type it
// describes: the members of each must be the same, so that a field added
// to api/ without the document (or the other way round) fails here.
var wireSchemas = map[string]any{
	"API": api.API{}, "APIList": api.APIList{}, "AdminGrant": api.AdminGrant{}, "AdminGrantList": api.AdminGrantList{},
	"Approval": api.Approval{}, "ApprovalList": api.ApprovalList{}, "ApprovalState": api.ApprovalState{},
	"AuditEvent": api.AuditEvent{}, "AuditList": api.AuditList{}, "Client": api.Client{}, "ClientList": api.ClientList{},
	"CreateAPIRequest": api.CreateAPIRequest{}, "CreateClientRequest": api.CreateClientRequest{},
	"CreateKeyRequest": api.CreateKeyRequest{}, "CreateTokenRequest": api.CreateTokenRequest{},
	"CreateUserRequest": api.CreateUserRequest{}, "CreateWebhookRequest": api.CreateWebhookRequest{},
	"CreatedClient": api.CreatedClient{}, "CreatedKey": api.CreatedKey{}, "CreatedToken": api.CreatedToken{},
	"CreatedUser": api.CreatedUser{}, "CreatedWebhook": api.CreatedWebhook{}, "CreditState": api.CreditState{},
	"Credits": api.Credits{}, "DecideApprovalRequest": api.DecideApprovalRequest{}, "Family": api.Family{},
	"FamilyList": api.FamilyList{}, "Grant": api.Grant{}, "GrantList": api.GrantList{}, "GrantRef": api.GrantRef{},
	"Health": api.Health{}, "Key": api.Key{}, "KeyList": api.KeyList{}, "KeySigning": api.KeySigning{},
	"KeySigningRequest": api.KeySigningRequest{}, "LeakReceipt": api.LeakReceipt{}, "LeakReport": api.LeakReport{},
	"MFA": api.MFA{}, "Passkey": api.Passkey{}, "PasskeyList": api.PasskeyList{}, "PasswordLink": api.PasswordLink{},
	"Policy": api.Policy{}, "Problem": api.Problem{}, "RateLimit": api.RateLimit{}, "RateLimitState": api.RateLimitState{},
	"Refill": api.Refill{}, "RegenerateTokenRequest": api.RegenerateTokenRequest{},
	"RevokeGrantsRequest": api.RevokeGrantsRequest{}, "RevokeTokensRequest": api.RevokeTokensRequest{},
	"Revoked": api.Revoked{}, "RevokedAll": api.RevokedAll{}, "RotateKeyRequest": api.RotateKeyRequest{},
	"Scope": api.Scope{}, "Session": api.Session{}, "SessionList": api.SessionList{},
	"SetGroupsRequest": api.SetGroupsRequest{}, "SetPasswordRequest": api.SetPasswordRequest{},
	"SignedRequest": api.SignedRequest{}, "SigningKey": api.SigningKey{}, "SigningKeyList": api.SigningKeyList{},
	"Token": api.Token{}, "TokenInfo": api.TokenInfo{}, "TokenList": api.TokenList{}, "TokenUse": api.TokenUse{},
	"TokenUseList": api.TokenUseList{}, "UpdateAPIRequest": api.UpdateAPIRequest{},
	"UpdateClientRequest": api.UpdateClientRequest{}, "UpdateKeyRequest": api.UpdateKeyRequest{},
	"UpdateUserRequest": api.UpdateUserRequest{}, "User": api.User{}, "UserList": api.UserList{},
	"UserScopes": api.UserScopes{}, "VerifyRequest": api.VerifyRequest{}, "VerifyResponse": api.VerifyResponse{},
	"Webhook": api.Webhook{}, "WebhookDelivery": api.WebhookDelivery{},
	"WebhookDeliveryList": api.WebhookDeliveryList{}, "WebhookList": api.WebhookList{},
	"ClientRegistration": oauth.Registration{}, "ClientRegistrationResponse": oauth.RegistrationResponse{},
}

// jsonMembers are the JSON member names of struct type t, with the
// members of embedded structs in line, as encoding/json writes them.
func jsonMembers(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case tag == "-" || !f.IsExported() && !f.Anonymous:
		case tag == "" && f.Anonymous && f.Type.Kind() == reflect.Struct:
			out = append(out, jsonMembers(f.Type)...)
		case tag == "":
			out = append(out, f.Name)
		default:
			out = append(out, tag)
		}
	}
	return out
}

// schemaMembers are the property names of the schema named name,
// including those of the schemas its allOf refers to.
func schemaMembers(t *testing.T, schemas map[string]json.RawMessage, name string) []string {
	t.Helper()
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
		AllOf      []struct {
			Ref        string                     `json:"$ref"`
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"allOf"`
	}
	if err := json.Unmarshal(schemas[name], &s); err != nil {
		t.Fatalf("schema %s: %v", name, err)
	}
	var out []string
	for p := range s.Properties {
		out = append(out, p)
	}
	for _, a := range s.AllOf {
		if ref, ok := strings.CutPrefix(a.Ref, "#/components/schemas/"); ok {
			out = append(out, schemaMembers(t, schemas, ref)...)
		}
		for p := range a.Properties {
			out = append(out, p)
		}
	}
	return out
}

// TestOpenAPISchemasMatchWireTypes fails when a schema of the document
// and the Go type of the same name disagree on their members: a client
// generated from the document must be able to send and read every field
// tokend takes and gives, and nothing else.
func TestOpenAPISchemasMatchWireTypes(t *testing.T) {
	doc, _ := parseOpenAPI(t)
	for name, v := range wireSchemas {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("no schema %s for api.%s", name, name)
			continue
		}
		goMembers := jsonMembers(reflect.TypeOf(v))
		docMembers := schemaMembers(t, doc.Components.Schemas, name)
		sort.Strings(goMembers)
		sort.Strings(docMembers)
		for _, m := range goMembers {
			if !slices.Contains(docMembers, m) {
				t.Errorf("schema %s lacks %q of api.%s", name, m, name)
			}
		}
		for _, m := range docMembers {
			if !slices.Contains(goMembers, m) {
				t.Errorf("schema %s has %q, which api.%s lacks", name, m, name)
			}
		}
	}
}

// TestOpenAPIBodyStatuses: every /v1 operation that takes a body (POST,
// PATCH, PUT; the body is read by the same strict decoder, even where
// none is needed) documents the answers of a bad one: 400, 413 and 415.
func TestOpenAPIBodyStatuses(t *testing.T) {
	doc, _ := parseOpenAPI(t)
	for path, item := range doc.Paths {
		if !strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/v1/authz") {
			continue // forward-auth reads no body
		}
		for _, method := range []string{"post", "patch", "put"} {
			raw, ok := item[method]
			if !ok {
				continue
			}
			var op openAPIOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			for _, code := range []string{"400", "413", "415"} {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("%s %s does not document %s", strings.ToUpper(method), path, code)
				}
			}
		}
	}
}
