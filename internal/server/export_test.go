package server

// RouteScopes maps each route pattern to the scopes its caller needs (nil:
// no tokend key), straight from the route table, for the authorization
// tests of package server_test.
func RouteScopes() map[string][]string {
	out := map[string][]string{}
	for _, r := range New(Config{}).routes() {
		out[r.pattern] = r.scopes
	}
	return out
}
