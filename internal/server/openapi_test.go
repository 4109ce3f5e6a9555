package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// openAPIDoc is the part of the OpenAPI document the tests look at.
type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas         map[string]json.RawMessage `json:"schemas"`
		SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
	} `json:"components"`
}

type openAPIOperation struct {
	OperationID string                     `json:"operationId"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

// httpMethods are the keys of an OpenAPI path item that are operations;
// the others (parameters, summary, ...) are not.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func parseOpenAPI(t *testing.T) (openAPIDoc, map[string]any) {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(openAPI, &raw); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	return doc, raw
}

// routePath turns a ServeMux pattern's path into an OpenAPI path:
// "{name...}" becomes "{name}" and a trailing "{$}" is dropped.
func routePath(p string) string {
	p = strings.TrimSuffix(p, "{$}")
	return strings.ReplaceAll(p, "...}", "}")
}

// TestOpenAPIMatchesRoutes fails when a route is served but not documented,
// or documented but not served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc, _ := parseOpenAPI(t)

	served := map[string]bool{}
	for _, r := range New(Config{}).routes() {
		method, path, ok := strings.Cut(r.pattern, " ")
		if !ok || method == "" || !strings.HasPrefix(path, "/") {
			t.Fatalf("route pattern %q does not have the form \"METHOD /path\"", r.pattern)
		}
		key := method + " " + routePath(path)
		if served[key] {
			t.Errorf("route %s is listed twice", key)
		}
		served[key] = true
	}

	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for name := range item {
			if slices.Contains(httpMethods, name) {
				documented[strings.ToUpper(name)+" "+path] = true
			} else if strings.ToLower(name) != name || slices.Contains(httpMethods, strings.ToLower(name)) {
				t.Errorf("paths[%q] has key %q; operation keys must be lowercase", path, name)
			}
		}
	}

	for k := range served {
		if !documented[k] {
			t.Errorf("route %s is served but missing from openapi.json", k)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("openapi.json documents %s, which routes() does not serve", k)
		}
	}
}

// TestOpenAPIOperations checks that every operation has a unique
// operationId and at least one response, and that every $ref resolves.
func TestOpenAPIOperations(t *testing.T) {
	doc, raw := parseOpenAPI(t)
	ids := map[string]string{}
	for path, item := range doc.Paths {
		for name, body := range item {
			if !slices.Contains(httpMethods, name) {
				continue
			}
			where := strings.ToUpper(name) + " " + path
			var op openAPIOperation
			if err := json.Unmarshal(body, &op); err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			if len(op.Responses) == 0 {
				t.Errorf("%s lists no responses", where)
			}
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
			} else if other, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %q is used by %s and %s", op.OperationID, other, where)
			} else {
				ids[op.OperationID] = where
			}
		}
	}
	if _, ok := doc.Components.SecuritySchemes["bearer"]; !ok {
		t.Error("components.securitySchemes has no bearer scheme")
	}
	checkRefs(t, raw, raw, "#")
}

// checkRefs reports every local $ref under v that does not resolve in root.
func checkRefs(t *testing.T, root, v any, at string) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "$ref" {
				ref, _ := x.(string)
				if !resolves(root, ref) {
					t.Errorf("%s: $ref %q does not resolve", at, ref)
				}
				continue
			}
			checkRefs(t, root, x, at+"/"+k)
		}
	case []any:
		for _, x := range v {
			checkRefs(t, root, x, at+"/[]")
		}
	}
}

func resolves(root any, ref string) bool {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	cur := root
	for _, part := range strings.Split(rest, "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

// TestOpenAPIServed checks that GET /v1/openapi.json serves the embedded
// document without credentials.
func TestOpenAPIServed(t *testing.T) {
	rec := httptest.NewRecorder()
	New(Config{}).Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/openapi.json", nil))
	res := rec.Result()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/openapi.json: status %d, want 200", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	body, _ := io.ReadAll(res.Body)
	if !json.Valid(body) || string(body) != string(openAPI) {
		t.Error("the served document differs from openapi.json")
	}
}
