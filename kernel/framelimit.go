package kernel

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/transport"
)

// maxFrame bounds one ZeroMQ frame a peer may send the kernel. The ZeroMQ
// library allocates whatever size a frame declares, before any message is
// authenticated: without a bound, anything that reaches the kernel's ports
// could make it allocate exabytes and die with the user's state.
const maxFrame = 64 << 20

// boundedTCP is the name of the tcp transport whose connections have their
// frames checked as they are read.
const boundedTCP = "fair-tcp"

func init() {
	if err := zmq4.RegisterTransport(boundedTCP, boundedTransport{transport.New("tcp"), maxFrame}); err != nil {
		panic(err)
	}
}

type boundedTransport struct {
	transport.Transport
	max uint64
}

func (t boundedTransport) Listen(ctx context.Context, addr string) (net.Listener, error) {
	ln, err := t.Transport.Listen(ctx, addr)
	if err != nil {
		return nil, err
	}
	return &boundedListener{Listener: ln, max: t.max}, nil
}

type boundedListener struct {
	net.Listener
	max uint64
}

func (l *boundedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &frameConn{Conn: c, max: l.max, greeting: 64}, nil
}

// frameConn follows the ZMTP 3 stream it reads (a 64-byte greeting, then
// frames of a flag byte, a 1- or 8-byte size and a body) and fails the
// read that brings a frame header declaring more than max bytes.
type frameConn struct {
	net.Conn
	max      uint64
	greeting int    // greeting bytes still to come
	hdr      []byte // header bytes of the frame being read
	body     uint64 // body bytes still to come
}

func (c *frameConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if ferr := c.follow(p[:n]); ferr != nil {
		c.Conn.Close()
		return 0, ferr
	}
	return n, err
}

func (c *frameConn) follow(b []byte) error {
	for len(b) > 0 {
		switch {
		case c.greeting > 0:
			k := min(c.greeting, len(b))
			c.greeting -= k
			b = b[k:]
		case c.body > 0:
			k := min(c.body, uint64(len(b)))
			c.body -= k
			b = b[k:]
		default:
			c.hdr = append(c.hdr, b[0])
			b = b[1:]
			long := c.hdr[0]&0x02 != 0
			switch {
			case !long && len(c.hdr) == 2:
				c.body = uint64(c.hdr[1])
				c.hdr = c.hdr[:0]
			case long && len(c.hdr) == 9:
				c.body = binary.BigEndian.Uint64(c.hdr[1:])
				c.hdr = c.hdr[:0]
				if c.body > c.max {
					return fmt.Errorf("zmq frame of %d bytes refused (at most %d)", c.body, c.max)
				}
			}
		}
	}
	return nil
}
