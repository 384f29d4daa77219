//go:build !linux

package serving

// processMetrics has nothing beyond the start time off Linux.
func processMetrics() []processMetric { return nil }
