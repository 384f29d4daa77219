package iostreams

import (
	"bytes"
	"sync"
)

// SyncBuffer is a bytes.Buffer that may be read while another goroutine
// writes it, e.g. a command's output followed while the command runs.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
