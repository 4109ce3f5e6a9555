package tokend_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// packages maps each package directory to its parsed non-test files.
func packages(t *testing.T) map[string][]string {
	t.Helper()
	dirs := map[string][]string{}
	filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && p != "." {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			dirs[filepath.Dir(p)] = append(dirs[filepath.Dir(p)], p)
		}
		return nil
	})
	return dirs
}

// TestPackageDocs requires exactly one package comment in every package.
func TestPackageDocs(t *testing.T) {
	for dir, files := range packages(t) {
		n := 0
		for _, f := range files {
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if af.Doc != nil {
				n++
			}
		}
		if n != 1 {
			t.Errorf("package %s has %d package comments, want 1", dir, n)
		}
	}
}

// layers is STYLE.md §3's dependency table as the code has it: for each
// package of the module, the module packages it may import. A package not
// listed here fails the test, so a new one must say where it sits.
//
// Amended where the code found a better rule than the table:
//   - ids, valid, ratelimit, seal, httpsig and jsonkeys are leaf helpers
//     (identifiers, validation messages, rate limiting, encryption at rest
//     under the KEK, RFC 9421 request signatures, strict JSON keys) that
//     the domain packages and the surfaces share; they import no module
//     package but evict. store uses ids to check list cursors.
//   - evict (making room in a full in-process table: expired entries
//     first, then arbitrary ones) is a leaf of the standard library under
//     the helpers, shared by ratelimit and the domain packages' bounded
//     tables.
//   - cluster (cross-node notifications) sits beside the domain packages.
//   - server may import store, but only for its sentinel errors and record
//     types: it holds no *store.DB (TestServerHoldsNoStore) and reads and
//     writes through the domain packages.
//   - clientip (the client address behind trusted proxies) is a helper of
//     the HTTP surfaces: it may speak net/http and imports no tokend
//     package.
//   - fetch (documents fetched from URLs third parties name, guarded
//     against SSRF) is a leaf of the standard library that speaks
//     net/http; the domain packages reach it only through interfaces
//     they own, wired by cmd.
//   - routetable (the route file of the gateway and forward-auth) is a leaf
//     of the standard library, shared by the two surfaces that use it.
//   - ldap implements user.Directory and imports user alone; its test
//     harness ldaptest (a real slapd) imports no module package.
//   - gateway is a surface like server: it imports api, tokenauth,
//     routetable and clientip, and nothing but cmd imports it.
//   - web (the browser pages) is a surface like server: it imports the
//     domain packages and the helpers, and clientip; nothing but cmd and
//     the harnesses imports it.
//   - dpop (RFC 9449 proofs) is public like tokenauth and a leaf of the
//     standard library and go-jose; the domain packages, the surfaces and
//     tokenauth share its one proof check.
//   - heapfloor (the collector's heap goal) is a leaf of the standard
//     library that only cmd uses.
//   - ttlcache (a bounded map of entries with deadlines) is a leaf of the
//     standard library, shared by tokenauth and the gateway.
//   - the test harnesses (servertest, multinode, bench) may import
//     anything, and no other package imports them.
var layers = func() map[string][]string {
	helpers := []string{"api", "dpop", "internal/credential", "internal/ids", "internal/valid", "internal/ratelimit", "internal/seal", "internal/httpsig",
		"internal/jsonkeys", "internal/evict"}
	domain := []string{"internal/apikey", "internal/oauth", "internal/signer", "internal/verify", "internal/audit",
		"internal/user", "internal/leak", "internal/cluster", "internal/webhook", "internal/approval", "internal/store"}
	below := append(append([]string{}, helpers...), domain...)
	m := map[string][]string{
		"api":                 nil,
		"client":              {"api"},
		"tokenauth":           {"api", "dpop", "internal/ttlcache"},
		"internal/ttlcache":   nil,
		"dpop":                nil,
		"internal/credential": nil,
		"internal/ids":        nil,
		"internal/valid":      nil,
		"internal/ratelimit":  {"internal/evict"},
		"internal/evict":      nil,
		"internal/seal":       nil,
		"internal/httpsig":    nil,
		"internal/store":      {"internal/credential", "internal/ids"},
		"internal/clientip":   nil,
		"internal/jsonlog":    nil,
		"internal/heapfloor":  nil,
		"internal/fetch":      nil,
		"internal/routetable": nil,
		"internal/jsonkeys":   nil,
		"internal/server":     slices.Concat(below, []string{"internal/clientip", "internal/jsonlog", "internal/routetable", "tokenauth"}),
		"internal/gateway":    {"api", "dpop", "tokenauth", "internal/routetable", "internal/clientip", "internal/ttlcache"},
		"internal/ldap":       {"internal/user"},
		"internal/web":        slices.Concat(below, []string{"internal/clientip"}),
	}
	for _, d := range domain[:len(domain)-1] {
		m[d] = below
	}
	m["internal/ldap/ldaptest"] = nil
	return m
}()

// harness reports the packages that may import anything: the binary, the
// test and benchmark harnesses, and the code-free packages whose tests
// check documents (the module root, packaging).
func harness(pkg string) bool {
	return pkg == "cmd/tokend" || pkg == "internal/servertest" || pkg == "internal/multinode" ||
		pkg == "" || pkg == "packaging" || strings.HasPrefix(pkg, "bench/")
}

// speaksHTTP reports the packages that may import net/http: the surfaces,
// the public client and middleware, and the harnesses.
func speaksHTTP(pkg string) bool {
	return harness(pkg) || pkg == "internal/server" || pkg == "internal/gateway" || pkg == "internal/web" || pkg == "internal/clientip" || pkg == "internal/fetch" || pkg == "client" || pkg == "tokenauth"
}

// TestImportRules enforces the dependency direction of STYLE.md §3 (see
// layers): public packages never import internal ones, only the harnesses
// import the surfaces and the harnesses, the domain packages do not speak
// HTTP, and credential is a leaf of the standard library and go-jose.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatal(err)
	}
	const mod = "github.com/tokend/tokend"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], mod), "/")
		allowed, listed := layers[pkg]
		if !listed && !harness(pkg) {
			t.Errorf("package %s is not in the layers table of pkgdoc_test.go; add it where STYLE.md §3 puts it", pkg)
		}
		for _, imp := range fields[1:] {
			dep, internal := strings.CutPrefix(imp, mod+"/")
			switch {
			case imp == "net/http" && !speaksHTTP(pkg):
				t.Errorf("%s imports net/http; only the surfaces, client, tokenauth and cmd may", pkg)
			case pkg == "internal/credential" && strings.Contains(imp, ".") && !strings.HasPrefix(imp, "github.com/go-jose/go-jose/v4"):
				t.Errorf("internal/credential imports %s; it is a leaf of the standard library and go-jose", imp)
			case !internal || harness(pkg):
			case harness(dep) || dep == "internal/server" || dep == "internal/gateway" || dep == "internal/web":
				t.Errorf("%s imports %s; only cmd and the harnesses may", pkg, dep)
			case !slices.Contains(allowed, dep):
				t.Errorf("%s imports %s, which STYLE.md §3 (layers in pkgdoc_test.go) does not allow", pkg, dep)
			}
		}
	}
}

// TestServerHoldsNoStore: the server reaches data only through the domain
// packages. store.DB appears once in its code, in Config, from which New
// builds the audit-log reader and the readiness ping.
func TestServerHoldsNoStore(t *testing.T) {
	n := 0
	for _, f := range packages(t)["internal/server"] {
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(node ast.Node) bool {
			if sel, ok := node.(*ast.SelectorExpr); ok && sel.Sel.Name == "DB" {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "store" {
					n++
				}
			}
			return true
		})
	}
	if n != 1 {
		t.Errorf("internal/server names store.DB %d times, want 1 (Config.DB): handlers go through the domain packages", n)
	}
}
