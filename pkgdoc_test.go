package tokend_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
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

// TestImportRules enforces the dependency direction of STYLE.md §3:
// public packages never import internal ones, nothing but cmd imports the
// server, and the domain packages do not speak HTTP.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatal(err)
	}
	const mod = "github.com/tokend/tokend/"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := strings.TrimPrefix(fields[0], mod), fields[1:]
		for _, imp := range imports {
			dep := strings.TrimPrefix(imp, mod)
			switch {
			case isPublic(pkg) && strings.HasPrefix(dep, "internal/"):
				t.Errorf("public package %s imports %s", pkg, dep)
			case (dep == "internal/server" || dep == "internal/web") && !strings.HasPrefix(pkg, "cmd/") &&
				!strings.HasPrefix(pkg, "bench/") && pkg != "internal/servertest":
				t.Errorf("%s imports %s; only cmd (and test harnesses) may", pkg, dep)
			case imp == "net/http" && isDomain(pkg):
				t.Errorf("domain package %s imports net/http", pkg)
			}
		}
	}
}

func isPublic(pkg string) bool {
	return pkg == "api" || pkg == "client" || pkg == "tokenauth"
}

func isDomain(pkg string) bool {
	switch pkg {
	case "internal/apikey", "internal/verify", "internal/store", "internal/audit", "internal/ratelimit",
		"internal/valid", "internal/ids", "internal/oauth", "internal/signer", "internal/cluster":
		return true
	}
	return false
}
