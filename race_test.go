//go:build race

package postpolicy_test

// streamSize is smaller under the race detector, whose instrumentation makes
// every byte copied many times slower.
const streamSize = 64 << 20
