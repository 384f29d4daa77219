package serving

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// processMetrics reads CPU time, resident memory and open files from the
// kernel, as Prometheus' process collector does.
func processMetrics() []processMetric {
	var out []processMetric
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpu := float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
		out = append(out, processMetric{"process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpu})
	}
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			if pages, err := strconv.ParseFloat(f[1], 64); err == nil {
				out = append(out, processMetric{"process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", pages * float64(os.Getpagesize())})
			}
		}
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		out = append(out, processMetric{"process_open_fds", "gauge", "Number of open file descriptors.", float64(len(fds))})
	}
	return out
}
