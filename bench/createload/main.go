// Command createload measures key creation end to end: it starts tokend in
// process on SQLite in a temporary directory (wired as "tokend serve"
// wires it), creates an admin key (tokend:admin), and drives POST /v1/keys
// through the real HTTP server with a closed-loop load generator.
//
//	go run ./bench/createload [-c 32] [-d 10s]
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/tokend/tokend/bench/internal/loadgen"
	"github.com/tokend/tokend/bench/internal/node"
)

const minRate = 2000 // keys/s on SQLite

func main() {
	c := flag.Int("c", 32, "concurrent connections (16 to 64 is the intended range)")
	d := flag.Duration("d", 10*time.Second, "duration of the measured run")
	flag.Parse()
	if err := run(*c, *d); err != nil {
		fmt.Fprintln(os.Stderr, "createload:", err)
		os.Exit(1)
	}
}

func run(c int, d time.Duration) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "tokend-createload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Printf("createload: %s, %d CPUs, GOMAXPROCS %d\n", runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Println("NOTE: the load generator and tokend run in ONE process and share these cores.")
	fmt.Println(node.LogNote)
	fmt.Printf("store: SQLite in %s; %d connections, keep-alive\n", dir, c)
	n, err := node.Start(ctx, node.Config{Dir: dir})
	if err != nil {
		return err
	}
	defer n.Close()
	apiID, err := n.CreateBenchAPI(ctx)
	if err != nil {
		return err
	}
	admin, err := n.AdminKey(ctx, "bench admin", "tokend:admin")
	if err != nil {
		return err
	}
	t := loadgen.Target{URL: n.URL + "/v1/keys", Auth: "Bearer " + admin, WantStatus: http.StatusCreated,
		Want: []byte(`"secret":"` + node.Prefix + `_`),
		Body: func(i uint64, buf []byte) []byte {
			buf = append(buf, `{"api_id":"`+apiID+`","subject":"user_`...)
			buf = strconv.AppendUint(buf, i%1_000_000, 10)
			return append(buf, `","name":"load","scopes":["read"]}`...)
		}}
	client := loadgen.Client(c)
	loadgen.Run(client, t, c, time.Second, 0) // open the connections
	r := loadgen.Run(client, t, c, d, 0)
	fmt.Printf("POST /v1/keys, %s: %s\n", d, r)
	fmt.Printf("  %.0f keys/s (target >= %d on SQLite) %s; RSS %s\n", r.RPS(), minRate, mark(r.RPS() >= minRate), node.RSS())
	return nil
}

func mark(ok bool) string {
	if ok {
		return "MET"
	}
	return "NOT MET"
}
