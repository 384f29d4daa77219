// Package kernel is fair's Go kernel for Jupyter: the Jupyter messaging
// protocol over ZeroMQ with HMAC-signed messages, an executor that compiles
// cells as Go plugins loaded into one long-lived process (so the notebook
// keeps its live state), rich display, comms, and a registry of %magics.
package kernel

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
)

// ProtocolVersion is the Jupyter messaging protocol version spoken.
const ProtocolVersion = "5.3"

const delim = "<IDS|MSG>"

// Header is a Jupyter message header.
type Header struct {
	MsgID    string `json:"msg_id"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

// Message is a Jupyter message.
type Message struct {
	Identities [][]byte
	Header     Header
	Parent     json.RawMessage
	Metadata   json.RawMessage
	Content    json.RawMessage
	Buffers    [][]byte
}

// ErrSignature is returned for a message whose signature does not match.
var ErrSignature = errors.New("message signature does not match")

// ErrReplay is returned for a signed message seen before: a captured
// message sent again is refused, as jupyter_client's Session does.
var ErrReplay = errors.New("message already received (replayed)")

// replayWindow is how many recent signatures are remembered.
const replayWindow = 1 << 16

// signer signs and verifies messages with HMAC-SHA256, and refuses a
// signed message it has already seen.
type signer struct {
	key []byte

	mu    sync.Mutex
	seen  map[string]struct{}
	order []string
}

func newSigner(key string) *signer { return &signer{key: []byte(key)} }

func (s *signer) sign(parts ...[]byte) []byte {
	if len(s.key) == 0 {
		return nil
	}
	mac := hmac.New(sha256.New, s.key)
	for _, p := range parts {
		mac.Write(p)
	}
	return []byte(hex.EncodeToString(mac.Sum(nil)))
}

// decode parses and verifies a multipart message.
func (s *signer) decode(frames [][]byte) (*Message, error) {
	i := 0
	for i < len(frames) && string(frames[i]) != delim {
		i++
	}
	if i == len(frames) || len(frames) < i+6 {
		return nil, errors.New("malformed message: missing delimiter or parts")
	}
	sig, header, parent, meta, content := frames[i+1], frames[i+2], frames[i+3], frames[i+4], frames[i+5]
	if len(s.key) > 0 {
		if !hmac.Equal(sig, s.sign(header, parent, meta, content)) {
			return nil, ErrSignature
		}
		if !s.first(string(sig)) {
			return nil, ErrReplay
		}
	}
	m := &Message{Identities: frames[:i], Parent: parent, Metadata: meta, Content: content, Buffers: frames[i+6:]}
	if err := json.Unmarshal(header, &m.Header); err != nil {
		return nil, fmt.Errorf("malformed header: %w", err)
	}
	return m, nil
}

// first records sig and reports whether it is new.
func (s *signer) first(sig string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]struct{}{}
	}
	if _, ok := s.seen[sig]; ok {
		return false
	}
	s.seen[sig] = struct{}{}
	s.order = append(s.order, sig)
	if len(s.order) > replayWindow {
		delete(s.seen, s.order[0])
		s.order = s.order[1:]
	}
	return true
}

// encode signs a message into frames.
func (s *signer) encode(m *Message) ([][]byte, error) {
	header, err := json.Marshal(m.Header)
	if err != nil {
		return nil, err
	}
	parent, meta, content := nonEmpty(m.Parent), nonEmpty(m.Metadata), nonEmpty(m.Content)
	frames := append([][]byte{}, m.Identities...)
	frames = append(frames, []byte(delim), s.sign(header, parent, meta, content), header, parent, meta, content)
	return append(frames, m.Buffers...), nil
}

func nonEmpty(b json.RawMessage) []byte {
	if len(b) == 0 {
		return []byte("{}")
	}
	return b
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newMessage makes a message of msgType replying to parent (may be nil).
func newMessage(session, msgType string, parent *Message, content any) (*Message, error) {
	c, err := json.Marshal(content)
	if err != nil {
		return nil, err
	}
	m := &Message{
		Header: Header{MsgID: newID(), Session: session, Username: "kernel", MsgType: msgType,
			Date: time.Now().UTC().Format(time.RFC3339Nano), Version: ProtocolVersion},
		Content: c,
	}
	if parent != nil {
		h, _ := json.Marshal(parent.Header)
		m.Parent = h
		m.Identities = parent.Identities
	}
	return m, nil
}

func toMsg(frames [][]byte) zmq4.Msg { return zmq4.NewMsgFrom(frames...) }
