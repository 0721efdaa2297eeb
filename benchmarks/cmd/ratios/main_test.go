package main

import (
	"strings"
	"testing"
)

const marked = `goos: linux
pkg: github.com/postpolicy/postpolicy/benchmarks
# round 1
# load 4.00 3.00 2.00
BenchmarkSign/impl=floor-2          	  1000	      2000 ns/op	       0 B/op	       0 allocs/op
BenchmarkSign/impl=minio-go-2       	  1000	     24000 ns/op	   15918 B/op	     115 allocs/op
BenchmarkSignParallel/impl=floor-2  	  1000	      1000 ns/op	   1000000 sigs/s	       0 B/op	       0 allocs/op
PASS
# round 2
BenchmarkSign/impl=minio-go-2       	  1000	     40000 ns/op	   15918 B/op	     115 allocs/op
BenchmarkSign/impl=floor-2          	  1000	      4000 ns/op	       0 B/op	       0 allocs/op
# round 3
BenchmarkSign/impl=floor-2          	  1000	      3000 ns/op	       0 B/op	       0 allocs/op
BenchmarkSign/impl=minio-go-2       	  1000	     33000 ns/op	   15918 B/op	     115 allocs/op
BenchmarkSign/impl=floor-prefix-2
BenchmarkSign/impl=floor-prefix-2   	  1000	      1000 ns/op	       0 B/op	       0 allocs/op
`

func TestParseMarked(t *testing.T) {
	rs, err := parse(strings.NewReader(marked))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 8 {
		t.Fatalf("%d results, want 8: %+v", len(rs), rs)
	}
	r := rs[2]
	if r.round != 1 || r.bench != "BenchmarkSignParallel" || r.impl != "floor" || r.metrics["sigs/s"] != 1e6 {
		t.Errorf("third result %+v", r)
	}
	if rs[7].round != 3 || rs[7].impl != "floor-prefix" {
		t.Errorf("last result %+v", rs[7])
	}
}

func TestParseUnmarked(t *testing.T) {
	in := strings.Join([]string{
		"BenchmarkSign/impl=floor-2 100 10 ns/op",
		"BenchmarkSign/impl=floor-2 100 20 ns/op",
		"BenchmarkSign/impl=x 100 30 ns/op", // GOMAXPROCS=1: no suffix
		"BenchmarkOther-2 100 30 ns/op",     // no impl element: ignored
	}, "\n")
	rs, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || rs[0].round != 1 || rs[1].round != 2 || rs[2].round != 1 || rs[2].impl != "x" {
		t.Errorf("%+v", rs)
	}
}

func TestReport(t *testing.T) {
	rs, err := parse(strings.NewReader(marked))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	report(&b, rs, []string{"floor", "floor-prefix", "postpolicy"})
	out := b.String()
	// minio-go ÷ floor per round: 12, 10, 11 → median 11.0, range 10.0–12.0.
	// floor-prefix ran in round 3 only: minio-go ÷ floor-prefix is 33.
	for _, want := range []string{
		"### BenchmarkSign (3 rounds)",
		"| impl | ns/op | ÷ floor | ÷ floor-prefix | B/op | allocs/op |",
		"| floor-prefix | 1,000 | 0.33 | 1 | 0 | 0 |",
		"| floor | 3,000 | 1 | 3.00 | 0 | 0 |",
		"| minio-go | 33,000 | 11.0 (10.0–12.0) | 33.0 | 15,918 | 115 |",
		"### BenchmarkSignParallel (1 round)",
		"| floor | 1,000 | 1 | 0 | 0 | 1,000,000 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
