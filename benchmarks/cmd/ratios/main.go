// Command ratios reads `go test -bench` output of the benchmarks module and
// prints, for each benchmark and implementation, its ns/op divided by a base
// implementation's ns/op in the same round, as the median and the min–max
// range over the rounds, with its median ns/op, B/op, allocs/op and (when
// reported) sigs/s, as Markdown tables.
//
// On a shared, noisy machine absolute times swing between rounds, but a
// slowdown during one round affects every implementation measured in it,
// so ratios within a round are far steadier than ratios of medians.
//
// Usage:
//
//	go run ./cmd/ratios [-base floor,floor-prefix,postpolicy] [-bench regexp] [file ...]
//
// -bench keeps only the benchmarks whose name (without the impl element)
// the regular expression matches, for example '^BenchmarkPresignPut$' with
// -base minio-go,aws-sdk-go-v2,postpolicy for the presigned PUTs, which
// have no floor.
//
// It reads standard input without files. Rounds are delimited by lines
// "# round N", as scripts/run.sh writes them; without such lines the k-th
// result of each benchmark and implementation belongs to round k (the output
// of one `go test -count K` run). Implementations are named by a
// sub-benchmark element impl=NAME, as in BenchmarkSign/impl=minio-go.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	bases := flag.String("base", "floor,floor-prefix,postpolicy", "comma-separated implementations to divide by")
	benchRE := flag.String("bench", "", "only the benchmarks whose name (without impl=) matches this regular expression")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: ratios [-base impl,...] [-bench regexp] [bench output ...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	var results []result
	if flag.NArg() == 0 {
		rs, err := parse(os.Stdin)
		if err != nil {
			fatal(err)
		}
		results = rs
	}
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fatal(err)
		}
		rs, err := parse(f)
		f.Close()
		if err != nil {
			fatal(fmt.Errorf("%s: %w", name, err))
		}
		results = append(results, rs...)
	}
	if *benchRE != "" {
		re, err := regexp.Compile(*benchRE)
		if err != nil {
			fatal(fmt.Errorf("-bench: %w", err))
		}
		results = onlyBenches(results, re)
	}
	if len(results) == 0 {
		fatal(fmt.Errorf("no benchmark results with an impl=NAME element"))
	}
	report(os.Stdout, results, strings.Split(*bases, ","))
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "ratios:", err)
	os.Exit(1)
}

// result is one benchmark line.
type result struct {
	round   int    // 1-based
	bench   string // the name without the impl element, e.g. BenchmarkSign
	impl    string
	metrics map[string]float64 // by unit: ns/op, B/op, allocs/op, sigs/s, ...
}

var (
	roundLine   = regexp.MustCompile(`^#\s*round\s+(\d+)\b`)
	procsSuffix = regexp.MustCompile(`-\d+$`)
)

// parse reads benchmark output. It ignores lines that are not results or
// round markers, and results without an impl=NAME element.
func parse(r io.Reader) ([]result, error) {
	var out []result
	round, marked := 0, false
	seen := map[[2]string]int{} // results per bench and impl, for unmarked input
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if m := roundLine.FindStringSubmatch(text); m != nil {
			round, _ = strconv.Atoi(m[1])
			marked = true
			continue
		}
		if !strings.HasPrefix(text, "Benchmark") {
			continue
		}
		f := strings.Fields(text)
		if len(f) < 4 || len(f)%2 != 0 {
			continue // a benchmark's name printed alone, or its log output
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue
		}
		bench, impl := splitName(procsSuffix.ReplaceAllString(f[0], ""))
		if impl == "" {
			continue
		}
		res := result{bench: bench, impl: impl, metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: metric %q: %w", line, f[i], err)
			}
			res.metrics[f[i+1]] = v
		}
		if _, ok := res.metrics["ns/op"]; !ok {
			return nil, fmt.Errorf("line %d: no ns/op", line)
		}
		k := [2]string{bench, impl}
		seen[k]++
		res.round = round
		if !marked {
			res.round = seen[k]
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

// onlyBenches returns the results of the benchmarks whose name re matches.
func onlyBenches(results []result, re *regexp.Regexp) []result {
	return slices.DeleteFunc(results, func(r result) bool { return !re.MatchString(r.bench) })
}

// splitName splits BenchmarkSign/impl=minio-go into BenchmarkSign and
// minio-go; other elements stay in the benchmark's name.
func splitName(name string) (bench, impl string) {
	var rest []string
	for _, el := range strings.Split(name, "/") {
		if v, ok := strings.CutPrefix(el, "impl="); ok {
			impl = v
			continue
		}
		rest = append(rest, el)
	}
	return strings.Join(rest, "/"), impl
}

func report(w io.Writer, results []result, bases []string) {
	var benches []string
	for _, r := range results {
		if !slices.Contains(benches, r.bench) {
			benches = append(benches, r.bench)
		}
	}
	for i, bench := range benches {
		if i > 0 {
			fmt.Fprintln(w)
		}
		table(w, bench, results, bases)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "÷ X: the implementation's ns/op divided by X's ns/op in the same round; the median over the rounds, (min–max). Other columns: medians over the rounds.")
}

func table(w io.Writer, bench string, results []result, bases []string) {
	// byImpl[impl][round] holds the metrics; with several results in one
	// round (go test -count > 1 in a marked round), the median of each.
	byImpl := map[string]map[int]map[string][]float64{}
	rounds := map[int]bool{}
	for _, r := range results {
		if r.bench != bench {
			continue
		}
		if byImpl[r.impl] == nil {
			byImpl[r.impl] = map[int]map[string][]float64{}
		}
		if byImpl[r.impl][r.round] == nil {
			byImpl[r.impl][r.round] = map[string][]float64{}
		}
		for unit, v := range r.metrics {
			byImpl[r.impl][r.round][unit] = append(byImpl[r.impl][r.round][unit], v)
		}
		rounds[r.round] = true
	}
	metric := func(impl string, round int, unit string) (float64, bool) {
		vs := byImpl[impl][round][unit]
		if len(vs) == 0 {
			return 0, false
		}
		return median(vs), true
	}
	overRounds := func(impl, unit string) []float64 {
		var vs []float64
		for round := range byImpl[impl] {
			if v, ok := metric(impl, round, unit); ok {
				vs = append(vs, v)
			}
		}
		return vs
	}

	var impls []string
	for impl := range byImpl {
		impls = append(impls, impl)
	}
	slices.SortFunc(impls, func(a, b string) int {
		ma, mb := median(overRounds(a, "ns/op")), median(overRounds(b, "ns/op"))
		if ma != mb {
			if ma < mb {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	var shownBases []string
	for _, b := range bases {
		if _, ok := byImpl[b]; ok {
			shownBases = append(shownBases, b)
		}
	}
	extra := []string{"B/op", "allocs/op"}
	for _, impl := range impls {
		if len(overRounds(impl, "sigs/s")) > 0 {
			extra = append(extra, "sigs/s")
			break
		}
	}

	plural := "s"
	if len(rounds) == 1 {
		plural = ""
	}
	fmt.Fprintf(w, "### %s (%d round%s)\n\n", bench, len(rounds), plural)
	fmt.Fprint(w, "| impl | ns/op |")
	for _, b := range shownBases {
		fmt.Fprintf(w, " ÷ %s |", b)
	}
	for _, u := range extra {
		fmt.Fprintf(w, " %s |", u)
	}
	fmt.Fprint(w, "\n| --- | ---: |")
	for range shownBases {
		fmt.Fprint(w, " --- |")
	}
	for range extra {
		fmt.Fprint(w, " ---: |")
	}
	fmt.Fprintln(w)
	for _, impl := range impls {
		fmt.Fprintf(w, "| %s | %s |", impl, number(median(overRounds(impl, "ns/op"))))
		for _, base := range shownBases {
			var ratios []float64
			for round := range rounds {
				v, ok1 := metric(impl, round, "ns/op")
				bv, ok2 := metric(base, round, "ns/op")
				if ok1 && ok2 && bv > 0 {
					ratios = append(ratios, v/bv)
				}
			}
			fmt.Fprintf(w, " %s |", ratioCell(ratios, impl == base))
		}
		for _, u := range extra {
			vs := overRounds(impl, u)
			if len(vs) == 0 {
				fmt.Fprint(w, " — |")
				continue
			}
			fmt.Fprintf(w, " %s |", number(median(vs)))
		}
		fmt.Fprintln(w)
	}
}

func ratioCell(ratios []float64, self bool) string {
	switch {
	case self:
		return "1"
	case len(ratios) == 0:
		return "—"
	case len(ratios) == 1:
		return ratio(ratios[0])
	}
	return fmt.Sprintf("%s (%s–%s)", ratio(median(ratios)), ratio(slices.Min(ratios)), ratio(slices.Max(ratios)))
}

// ratio formats a ratio with three significant digits or one decimal.
func ratio(r float64) string {
	switch {
	case r >= 100:
		return strconv.FormatFloat(r, 'f', 0, 64)
	case r >= 10:
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
	return strconv.FormatFloat(r, 'f', 2, 64)
}

// number formats a metric: whole numbers with thousands separators, small
// ones with three significant digits.
func number(v float64) string {
	if v < 100 && v != float64(int64(v)) {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
