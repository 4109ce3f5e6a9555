package main

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// report prints, per case, the median req/s and p99 of every target over
// the runs, with the spread, and each tokend's ratio to bare.
func report(w io.Writer, rs *results, targets []*target, o options) {
	fmt.Fprintf(w, "\n-- summary: median of %d run(s) of %s, wrk -t%d -c%d --\n", o.runs, o.d, o.t, o.c)
	fmt.Fprintf(w, "%-7s %-7s %10s %14s %10s %7s %9s %9s %7s\n", "case", "target", "req/s", "(min-max)", "p99", "ratio",
		"CPU/req", "cpu-ratio", "errors")
	for _, c := range rs.cases {
		bare := median(rs.runs[c]["bare"], func(r result) float64 { return r.rps })
		bareCPU := median(rs.runs[c]["bare"], func(r result) float64 { return float64(r.cpu + r.wrkCPU) })
		for _, t := range targets {
			runs := rs.runs[c][t.name]
			rps := median(runs, func(r result) float64 { return r.rps })
			lo, hi := spread(runs)
			p99 := time.Duration(median(runs, func(r result) float64 { return float64(r.p99) }))
			var errs int64
			for _, r := range runs {
				errs += r.errors
			}
			cpu := median(runs, func(r result) float64 { return float64(r.cpu) })
			all := median(runs, func(r result) float64 { return float64(r.cpu + r.wrkCPU) })
			fmt.Fprintf(w, "%-7s %-7s %10.0f %14s %10s %7.2f %7.1fµs %9.2f %7d\n", c, t.name, rps, fmt.Sprintf("(%.0f-%.0f)", lo, hi),
				p99.Round(10*time.Microsecond), rps/bare, cpu/1e3, bareCPU/all, errs)
		}
	}
	if len(rs.sign) > 0 {
		s := medianOf(rs.sign)
		bare := median(rs.runs["token"]["bare"], func(r result) float64 { return r.rps })
		fmt.Fprintf(w, "raw ES256 signature, RFC 6979 (alone, every core): %.0f signatures/s = %.2f of bare token req/s\n", s, s/bare)
	}
	fmt.Fprintln(w, "ratio: req/s over bare's. CPU/req: the server process's CPU time per request. cpu-ratio: (bare's + its")
	fmt.Fprintln(w, "wrk's CPU/req) over (this target's + its wrk's), the ratio a machine running nothing else would show;")
	fmt.Fprintln(w, "CPU time hardly depends on other load, so it is the steadier figure on a shared machine.")
}

func median(runs []result, f func(result) float64) float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	return medianOf(v)
}

func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func spread(runs []result) (lo, hi float64) {
	for i, r := range runs {
		if i == 0 || r.rps < lo {
			lo = r.rps
		}
		if r.rps > hi {
			hi = r.rps
		}
	}
	return lo, hi
}
