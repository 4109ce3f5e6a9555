//go:build unix

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The README test runs the quick start of README.md as a reader would:
// every ```sh block under "## Quick start", in order, in one bash session
// (so variables carry from block to block), against a fresh server this
// test starts. The rules, kept simple on purpose:
//
//   - A block right after the line <!-- readme-test: skip --> is not run
//     (starting the server, which the test does itself with TOKEND_URL and
//     TOKEND_TOKEN set as step 1 tells the reader to).
//   - A block right after <!-- readme-test: expect TEXT --> must print
//     TEXT.
//   - Every other block must succeed under "set -euo pipefail", with curl
//     failing on HTTP errors (--fail-with-body).
//
// It needs bash, curl and jq, and skips when one is missing (.ci/run
// installs them).
func TestReadmeQuickStart(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the README quick start needs %s", tool)
		}
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(t, filepath.Join(root, "README.md"))
	if len(blocks) < 8 {
		t.Fatalf("found %d quick-start blocks; has the README's layout changed?", len(blocks))
	}
	url, admin, _, _ := startServe(t, t.TempDir())
	keepBinary(t, filepath.Join(root, "tokend"))
	env := append(os.Environ(), "TOKEND_URL="+url, "TOKEND_TOKEN="+admin)
	outs, last, err := runBlocks(root, env, blocks)
	if err != nil {
		b := blocks[max(last, 0)]
		t.Fatalf("README block at line %d failed: %v\n%s\noutput:\n%s", b.line, err, b.code, outs[last])
	}
	for i, b := range blocks {
		if testing.Verbose() && !b.skip {
			t.Logf("README block at line %d:\n%s", b.line, outs[i])
		}
		if b.expect != "" && !strings.Contains(outs[i], b.expect) {
			t.Errorf("README block at line %d printed no %q:\n%s", b.line, b.expect, outs[i])
		}
	}
}

// block is one ```sh block of the README.
type block struct {
	code   string
	line   int
	skip   bool
	expect string
}

// readmeBlocks returns the sh blocks of the "## Quick start" section.
func readmeBlocks(t *testing.T, path string) []block {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks     []block
		in, inCode bool
		cur        *block
		pendSkip   bool
		pendExpect string
		n          int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == "## Quick start"
		case !in:
		case inCode && line == "```":
			inCode = false
			blocks = append(blocks, *cur)
		case inCode:
			cur.code += line + "\n"
		case line == "```sh":
			inCode = true
			cur = &block{line: n + 1, skip: pendSkip, expect: pendExpect}
			pendSkip, pendExpect = false, ""
		case line == "<!-- readme-test: skip -->":
			pendSkip = true
		case strings.HasPrefix(line, "<!-- readme-test: expect "):
			pendExpect = strings.TrimSuffix(strings.TrimPrefix(line, "<!-- readme-test: expect "), " -->")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// keepBinary puts back whatever was at path (the quick start builds
// ./tokend there) when the test ends.
func keepBinary(t *testing.T, path string) {
	t.Helper()
	old, err := os.ReadFile(path)
	t.Cleanup(func() {
		if err != nil {
			os.Remove(path)
			return
		}
		os.WriteFile(path, old, 0o755)
	})
}

// blockMark starts the output of each block, so that the output can be
// split by block and a failure placed.
const blockMark = "\n@@readme-block@@ "

// runBlocks runs the blocks in one bash process, as a reader runs them in
// one terminal, and returns each block's output; the last is where it
// stopped when err is not nil.
func runBlocks(dir string, env []string, blocks []block) (outs map[int]string, last int, err error) {
	var script strings.Builder
	script.WriteString("set -euo pipefail\ncurl() { command curl --fail-with-body --max-time 20 \"$@\"; }\n")
	for i, b := range blocks {
		if !b.skip {
			fmt.Fprintf(&script, "printf '%s%d\\n'\n%s", strings.ReplaceAll(blockMark, "\n", "\\n"), i, b.code)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir, cmd.Env, cmd.WaitDelay = dir, env, time.Second
	// Its own process group, killed whole: a block that starts a server
	// (a README gone wrong) must not outlive the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	outs = map[int]string{}
	last = -1
	for _, part := range strings.Split(string(out), blockMark)[1:] {
		num, text, _ := strings.Cut(part, "\n")
		last, _ = strconv.Atoi(num)
		outs[last] = text
	}
	return outs, last, err
}
