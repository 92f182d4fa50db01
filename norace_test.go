//go:build !race

package nest_test

const raceEnabled = false
