//go:build !race

package testutil

// Race reports whether the race detector is on. Its instrumentation
// allocates and makes every byte copied many times slower, so tests that
// count allocations or stream gigabytes adjust to it.
const Race = false
