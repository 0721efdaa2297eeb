//go:build !race

package postpolicy_test

// streamSize is the upload TestVerifyStreamsLargeUpload streams: 1 GiB.
const streamSize = 1 << 30

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
