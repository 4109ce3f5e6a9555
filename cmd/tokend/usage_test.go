package main

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestUsageListsEveryCommand: the summary of each group in "tokend
// --help" names exactly the commands "tokend <group> -h" lists, so that
// the top-level help never hides one (it once left out users reset-mfa).
func TestUsageListsEveryCommand(t *testing.T) {
	var top bytes.Buffer
	if code := run(t.Context(), []string{"--help"}, nil, &top, &top, func(string) string { return "" }); code != 0 {
		t.Fatalf("tokend --help: exit %d", code)
	}
	for name := range groups() {
		m := regexp.MustCompile(`(?m)^  tokend ` + regexp.QuoteMeta(name) + ` .*\(([^)]*)\)$`).FindStringSubmatch(top.String())
		if m == nil {
			t.Errorf("tokend --help has no line listing the commands of %s:\n%s", name, top.String())
			continue
		}
		var out bytes.Buffer
		if code := run(t.Context(), []string{name, "-h"}, nil, &out, &out, func(string) string { return "" }); code != 0 {
			t.Fatalf("tokend %s -h: exit %d", name, code)
		}
		var want []string
		for _, l := range regexp.MustCompile(`(?m)^  ([a-z-]+)  `).FindAllStringSubmatch(out.String(), -1) {
			want = append(want, l[1])
		}
		if got := strings.Split(m[1], ", "); !slices.Equal(got, want) {
			t.Errorf("tokend --help lists %s commands %v; tokend %s -h lists %v", name, got, name, want)
		}
	}
}
