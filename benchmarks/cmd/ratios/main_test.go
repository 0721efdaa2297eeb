package main

import (
	"regexp"
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

// TestReportPresign reads Sign and PresignPut results and keeps the
// PresignPut ones, divided by the peers as scripts/run.sh does.
func TestReportPresign(t *testing.T) {
	in := marked + `# round 4
BenchmarkPresignPut/impl=postpolicy-2       1000   3000 ns/op   3416 B/op   32 allocs/op
BenchmarkPresignPut/impl=minio-go-2         1000   6000 ns/op  11040 B/op  138 allocs/op
BenchmarkPresignPut/impl=aws-sdk-go-v2-2    1000  12000 ns/op  28179 B/op  378 allocs/op
# round 5
BenchmarkPresignPut/impl=minio-go-2         1000  10000 ns/op  11040 B/op  138 allocs/op
BenchmarkPresignPut/impl=aws-sdk-go-v2-2    1000  16000 ns/op  28179 B/op  378 allocs/op
BenchmarkPresignPut/impl=postpolicy-2       1000   4000 ns/op   3416 B/op   32 allocs/op
`
	rs, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	rs = onlyBenches(rs, regexp.MustCompile(`^BenchmarkPresignPut$`))
	if len(rs) != 6 {
		t.Fatalf("%d results, want 6: %+v", len(rs), rs)
	}
	var b strings.Builder
	report(&b, rs, []string{"minio-go", "aws-sdk-go-v2", "postpolicy"})
	out := b.String()
	// postpolicy ÷ minio-go per round: 0.5, 0.4; ÷ aws-sdk-go-v2: 0.25, 0.25.
	for _, want := range []string{
		"### BenchmarkPresignPut (2 rounds)",
		"| impl | ns/op | ÷ minio-go | ÷ aws-sdk-go-v2 | ÷ postpolicy | B/op | allocs/op |",
		"| postpolicy | 3,500 | 0.45 (0.40–0.50) | 0.25 (0.25–0.25) | 1 | 3,416 | 32 |",
		"| minio-go | 8,000 | 1 | 0.56 (0.50–0.62) | 2.25 (2.00–2.50) | 11,040 | 138 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "BenchmarkSign") {
		t.Errorf("report has the Sign benchmarks:\n%s", out)
	}
}
