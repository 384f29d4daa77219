package kernel

import (
	"encoding/json"
	"sync"
)

// Comm is an open comm between the kernel and a frontend.
type Comm struct {
	ID     string
	Target string
	k      *Kernel
	mu     sync.Mutex
	parent *Message
}

// Send sends data to the frontend side of the comm.
func (c *Comm) Send(data any) {
	c.mu.Lock()
	p := c.parent
	c.mu.Unlock()
	c.k.publish(p, "comm_msg", map[string]any{"comm_id": c.ID, "data": data})
}

// CommTarget handles comms a frontend opens on a target name.
type CommTarget interface {
	Open(c *Comm, data json.RawMessage)
	Message(c *Comm, data json.RawMessage)
	Close(c *Comm, data json.RawMessage)
}

// RegisterCommTarget makes target available to frontends.
func (k *Kernel) RegisterCommTarget(name string, t CommTarget) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.targets[name] = t
}

// Broadcast sends data to every open comm of target.
func (k *Kernel) Broadcast(target string, data any) {
	k.mu.Lock()
	var cs []*Comm
	for _, c := range k.comms {
		if c.Target == target {
			cs = append(cs, c)
		}
	}
	k.mu.Unlock()
	for _, c := range cs {
		c.Send(data)
	}
}

type commContent struct {
	CommID     string          `json:"comm_id"`
	TargetName string          `json:"target_name"`
	Data       json.RawMessage `json:"data"`
}

func (k *Kernel) commInfo(target string) map[string]any {
	k.mu.Lock()
	defer k.mu.Unlock()
	comms := map[string]any{}
	for id, c := range k.comms {
		if target == "" || c.Target == target {
			comms[id] = map[string]any{"target_name": c.Target}
		}
	}
	return map[string]any{"status": "ok", "comms": comms}
}

func (k *Kernel) commOpen(msg *Message) {
	var c commContent
	_ = json.Unmarshal(msg.Content, &c)
	k.mu.Lock()
	t, ok := k.targets[c.TargetName]
	k.mu.Unlock()
	if !ok {
		// Unknown target: tell the frontend the comm is closed.
		k.publish(msg, "comm_close", map[string]any{"comm_id": c.CommID, "data": map[string]any{}})
		return
	}
	comm := &Comm{ID: c.CommID, Target: c.TargetName, k: k, parent: msg}
	k.mu.Lock()
	k.comms[c.CommID] = comm
	k.mu.Unlock()
	t.Open(comm, c.Data)
}

func (k *Kernel) commMsg(msg *Message) {
	var c commContent
	_ = json.Unmarshal(msg.Content, &c)
	k.mu.Lock()
	comm := k.comms[c.CommID]
	var t CommTarget
	if comm != nil {
		t = k.targets[comm.Target]
	}
	k.mu.Unlock()
	if comm == nil || t == nil {
		return
	}
	comm.mu.Lock()
	comm.parent = msg
	comm.mu.Unlock()
	t.Message(comm, c.Data)
}

func (k *Kernel) commClose(msg *Message) {
	var c commContent
	_ = json.Unmarshal(msg.Content, &c)
	k.mu.Lock()
	comm := k.comms[c.CommID]
	delete(k.comms, c.CommID)
	var t CommTarget
	if comm != nil {
		t = k.targets[comm.Target]
	}
	k.mu.Unlock()
	if t != nil {
		t.Close(comm, c.Data)
	}
}
