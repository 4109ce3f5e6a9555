package packaging

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tokend/tokend/internal/multinode"
	"github.com/tokend/tokend/internal/seal"
)

const (
	dashboardFile = "grafana/tokend.json"
	alertsFile    = "prometheus/tokend-alerts.yml"
)

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	Templating struct {
		List []struct {
			Name, Type string
			Query      json.RawMessage
			Datasource *datasource
		}
	}
	Panels []panel
}

type panel struct {
	ID         int
	Type       string
	Title      string
	Datasource *datasource
	Targets    []struct {
		RefID      string `json:"refId"`
		Expr       string
		Datasource *datasource
	}
	Panels []panel // the panels of a collapsed row
}

type datasource struct{ Type, UID string }

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// allPanels returns the dashboard's panels, those of collapsed rows included.
func (d dashboard) allPanels() []panel {
	var out []panel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

// queries returns every PromQL query of the dashboard by where it is:
// panel targets, and each label_values(metric, label) variable as the
// PromQL that has the same series.
func (d dashboard) queries(t *testing.T) map[string]string {
	t.Helper()
	q := map[string]string{}
	for _, p := range d.allPanels() {
		for _, tg := range p.Targets {
			q[fmt.Sprintf("panel %q target %s", p.Title, tg.RefID)] = tg.Expr
		}
	}
	labelValues := regexp.MustCompile(`^label_values\((.+),\s*([A-Za-z_]\w*)\)$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var query struct{ Query string }
		if err := json.Unmarshal(v.Query, &query); err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		m := labelValues.FindStringSubmatch(query.Query)
		if m == nil {
			t.Fatalf("variable %s: query %q is not label_values(metric, label)", v.Name, query.Query)
		}
		q["variable "+v.Name] = fmt.Sprintf("count by (%s) (%s)", m[2], m[1]) // the PromQL of label_values
	}
	return q
}

// alertExprs returns the expr of every rule in the alert rules file, which
// keeps each on one line.
func alertExprs(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	q := map[string]string{}
	alert := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if name, ok := strings.CutPrefix(line, "- alert:"); ok {
			alert = strings.TrimSpace(name)
		}
		if expr, ok := strings.CutPrefix(line, "expr:"); ok {
			expr = strings.TrimSpace(expr)
			if expr == "" || expr == "|" || expr == ">" {
				t.Fatalf("alert %s: keep the expr on one line", alert)
			}
			q["alert "+alert] = expr
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(q) == 0 {
		t.Fatalf("%s: no expr found", alertsFile)
	}
	return q
}

// TestDashboardIsWellFormed checks that the dashboard imports into any
// Grafana with a Prometheus data source: every panel and query uses the
// data source variable, and panel ids are unique.
func TestDashboardIsWellFormed(t *testing.T) {
	d := readDashboard(t)
	want := &datasource{Type: "prometheus", UID: "${datasource}"}
	var types []string
	for _, v := range d.Templating.List {
		if v.Name == "datasource" {
			types = append(types, v.Type+" "+string(v.Query))
		}
		if v.Type == "query" && !cmp.Equal(v.Datasource, want) {
			t.Errorf("variable %s: datasource %+v, want %+v", v.Name, v.Datasource, want)
		}
	}
	if diff := cmp.Diff([]string{`datasource "prometheus"`}, types); diff != "" {
		t.Errorf("datasource variable (-want +got):\n%s", diff)
	}
	ids := map[int]string{}
	for _, p := range d.allPanels() {
		if prev, ok := ids[p.ID]; ok {
			t.Errorf("panels %q and %q share the id %d", prev, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 || !cmp.Equal(p.Datasource, want) {
			t.Errorf("panel %q: %d targets, datasource %+v; want targets on %+v", p.Title, len(p.Targets), p.Datasource, want)
		}
		for _, tg := range p.Targets {
			if tg.Expr == "" || !cmp.Equal(tg.Datasource, want) {
				t.Errorf("panel %q target %s: expr %q on %+v", p.Title, tg.RefID, tg.Expr, tg.Datasource)
			}
		}
	}
}

// grafanaVars stand in for the variables Grafana substitutes, so that
// Prometheus's own parser can read the queries.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__range", "1h", "$job", ".*", "$instance", ".*")

// TestQueriesParseAsPromQL runs every dashboard query and alert expression
// through promtool, Prometheus's own PromQL parser (Debian's prometheus
// package; .ci/run installs it).
func TestQueriesParseAsPromQL(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not found (apt-get install prometheus); .ci/run installs it")
	}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	queries := readDashboard(t).queries(t)
	for i, where := range slices.Sorted(maps.Keys(queries)) {
		expr, _ := json.Marshal(grafanaVars.Replace(queries[where])) // a JSON string is a YAML string
		fmt.Fprintf(&rules, "      - record: dashboard:query_%d\n        expr: %s\n", i, expr)
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(path, []byte(rules.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{path, alertsFile} {
		if out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput(); err != nil {
			t.Errorf("promtool check rules %s: %v\n%s", filepath.Base(file), err, out)
		}
	}
}

// TestAgainstRunningNode starts a real tokend on PostgreSQL and Redis (the
// mode that exports every metric) and checks the dashboard and the alert
// rules against it: every metric they name is one tokend exports, and every
// dashboard query returns series once a real Prometheus scrapes the node.
func TestAgainstRunningNode(t *testing.T) {
	n, admin := startNode(t)
	t.Run("metric names are exported", func(t *testing.T) {
		types := exportedMetrics(t, n)
		queries := readDashboard(t).queries(t)
		maps.Copy(queries, alertExprs(t))
		for where, expr := range queries {
			names := metricNames(expr)
			if len(names) == 0 {
				t.Errorf("%s: no metric in %q", where, expr)
			}
			for _, name := range names {
				if !exported(types, name) && !(name == "up" && strings.HasPrefix(where, "alert ")) {
					t.Errorf("%s: tokend exports no metric %s (in %q)", where, name, expr)
				}
			}
		}
	})
	t.Run("dashboard queries return series", func(t *testing.T) {
		prometheus, err := exec.LookPath("prometheus")
		if err != nil {
			t.Skip("prometheus not found (apt-get install prometheus); .ci/run installs it")
		}
		for _, token := range []string{admin, "tokend_unknown"} { // a VALID and a NOT_FOUND answer
			if _, err := n.Verify(t.Context(), admin, token); err != nil {
				t.Fatal(err)
			}
		}
		prom := startPrometheus(t, prometheus, n.URL)
		pending := readDashboard(t).queries(t)
		for deadline := time.Now().Add(time.Minute); len(pending) > 0 && time.Now().Before(deadline); {
			for where, expr := range pending {
				if prom.series(t, expr) > 0 {
					delete(pending, where)
				}
			}
			time.Sleep(500 * time.Millisecond) // Prometheus scrapes every second
		}
		for where, expr := range pending {
			t.Errorf("%s: no series after a minute of scrapes: %s", where, expr)
		}
	})
}

// startNode runs tokend serve on a fresh PostgreSQL schema and Redis key
// prefix, and returns it with an admin key.
func startNode(t *testing.T) (*multinode.Node, string) {
	t.Helper()
	pg, redis := os.Getenv("TOKEND_TEST_POSTGRES"), os.Getenv("TOKEND_TEST_REDIS")
	if pg == "" || redis == "" {
		t.Skip("needs TOKEND_TEST_POSTGRES and TOKEND_TEST_REDIS, for a node that exports every metric; .ci/run sets both")
	}
	ctx := t.Context()
	bin, err := multinode.Build(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dsn, drop, err := multinode.NewSchema(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	admin, err := multinode.AdminKey(ctx, bin, "--database", dsn)
	if err != nil {
		t.Fatal(err)
	}
	n, err := multinode.StartNode(ctx, bin, "--database", dsn, "--kek-file", kekFile(t), "--issuer", "http://tokend.test",
		"--redis", multinode.WithParam(redis, "key_prefix", "tokend:packaging:"+multinode.Suffix()+":"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	return n, admin
}

// kekFile writes a key-encryption key, which a node on PostgreSQL needs,
// and returns its path; the service user of a root test may read it.
func kekFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kek")
	if err := os.WriteFile(path, []byte(seal.NewKEK()), 0o600); err != nil {
		t.Fatal(err)
	}
	serviceOwns(t, path)
	return path
}

// exported reports whether name is a metric family in types, or a series
// of one (the buckets, sum and count of histograms and summaries).
func exported(types map[string]string, name string) bool {
	if _, ok := types[name]; ok {
		return true
	}
	for suffix, kinds := range map[string][]string{
		"_bucket": {"histogram"}, "_sum": {"histogram", "summary"}, "_count": {"histogram", "summary"},
	} {
		if base, ok := strings.CutSuffix(name, suffix); ok && slices.Contains(kinds, types[base]) {
			return true
		}
	}
	return false
}

// exportedMetrics reads n's /metrics and returns the type of each metric
// family.
func exportedMetrics(t *testing.T, n *multinode.Node) map[string]string {
	t.Helper()
	resp, err := http.Get(n.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	types := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			types[f[2]] = f[3]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if _, ok := types["tokend_verifications_total"]; resp.StatusCode != http.StatusOK || !ok {
		t.Fatalf("GET /metrics: %s, %d families, no tokend_verifications_total", resp.Status, len(types))
	}
	return types
}

// prometheusServer is a Prometheus process scraping one tokend node.
type prometheusServer struct{ url string }

// startPrometheus runs Prometheus on a free loopback port, scraping target
// (job "tokend") every second, and waits until it is ready.
func startPrometheus(t *testing.T, bin, target string) *prometheusServer {
	t.Helper()
	dir := t.TempDir()
	config := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: tokend\n"+
		"    static_configs:\n      - targets: [%q]\n", strings.TrimPrefix(target, "http://"))
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	port, err := multinode.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port))
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})
	p := &prometheusServer{url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if resp, err := http.Get(p.url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("prometheus is not ready after 30 s")
		}
	}
}

// series runs a dashboard query, with Grafana's variables filled in, and
// returns how many series it answers.
func (p *prometheusServer) series(t *testing.T, expr string) int {
	t.Helper()
	expr = strings.NewReplacer("$__rate_interval", "10s", "$__range", "1m", "$job", ".*", "$instance", ".*").Replace(expr)
	resp, err := http.Get(p.url + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Status string
		Error  string
		Data   struct{ Result []json.RawMessage }
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || answer.Status != "success" {
		t.Fatalf("query %s: %s %v %s", expr, resp.Status, err, answer.Error)
	}
	return len(answer.Data.Result)
}

// metricNames returns the metric names a PromQL expression reads: the
// identifiers left once strings, label matchers, range selectors and
// grouping clauses are removed, that are neither a function call nor a
// keyword.
func metricNames(expr string) []string {
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`"(?:[^"\\]|\\.)*"`),
		regexp.MustCompile(`\{[^}]*\}`),
		regexp.MustCompile(`\[[^\]]*\]`),
		regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`),
	} {
		expr = re.ReplaceAllString(expr, " ")
	}
	var names []string
	for i := 0; i < len(expr); {
		c := expr[i]
		if !isIdent(c) {
			i++
			continue
		}
		j := i + 1 // a word, or a number such as 0.99 or 1e-3 (its "-3" is skipped next)
		for j < len(expr) && (isIdent(expr[j]) || (isDigit(c) && expr[j] == '.')) {
			j++
		}
		word, rest := expr[i:j], strings.TrimLeft(expr[j:], " ")
		if !isDigit(c) && !strings.HasPrefix(rest, "(") && !promqlKeywords[word] {
			names = append(names, word)
		}
		i = j
	}
	return names
}

var promqlKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true,
	"inf": true, "nan": true, "by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdent(c byte) bool {
	return c == '_' || c == ':' || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

// TestMetricNames pins the extraction the test above relies on.
func TestMetricNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`up{job="tokend"} == 0`, []string{"up"}},
		{`sum by (code) (rate(tokend_verifications_total{job=~"$job", code="VALID"}[$__rate_interval]))`,
			[]string{"tokend_verifications_total"}},
		{`histogram_quantile(0.99, sum by (instance, le) (rate(a_bucket[5m]))) > 1e-3`, []string{"a_bucket"}},
		{`rate(a_sum[5m]) / on (instance) group_left rate(b_count[5m] offset 1h)`, []string{"a_sum", "b_count"}},
		{`min(x) without (le) and y unless bool z`, []string{"x", "y", "z"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, metricNames(tt.expr)); diff != "" {
			t.Errorf("metricNames(%q) (-want +got):\n%s", tt.expr, diff)
		}
	}
}
