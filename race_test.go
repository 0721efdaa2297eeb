//go:build race

package postpolicy_test

// streamSize is smaller under the race detector, whose instrumentation makes
// every byte copied many times slower.
const streamSize = 64 << 20

// raceEnabled reports whether the race detector is on; it allocates on its
// own, so allocation counts are not checked under it.
const raceEnabled = true
