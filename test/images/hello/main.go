// Command hello is the workload of the test bed's end-to-end tests. Alone
// it prints a few lines and exits. As a replica of a distributed job (RANK,
// WORLD_SIZE, MASTER_ADDR, MASTER_PORT set, as the Training Operator does)
// it performs a tiny rendezvous: rank 0 listens, the other ranks connect to
// MASTER_ADDR by name and report their rank, so a passing job proves cluster
// DNS and pod-to-pod networking, not only scheduling.
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	host, _ := os.Hostname()
	lines, _ := strconv.Atoi(os.Getenv("HELLO_LINES"))
	if lines <= 0 {
		lines = 3
	}
	for i := 1; i <= lines; i++ {
		fmt.Printf("hello %d/%d from %s\n", i, lines, host)
	}
	if os.Getenv("WORLD_SIZE") == "" {
		return
	}
	if err := rendezvous(host); err != nil {
		fmt.Fprintln(os.Stderr, "rendezvous:", err)
		os.Exit(1)
	}
}

func rendezvous(host string) error {
	rank, err := strconv.Atoi(os.Getenv("RANK"))
	if err != nil {
		return fmt.Errorf("RANK: %v", err)
	}
	world, err := strconv.Atoi(os.Getenv("WORLD_SIZE"))
	if err != nil || world < 1 {
		return fmt.Errorf("WORLD_SIZE %q is not a positive number", os.Getenv("WORLD_SIZE"))
	}
	port := os.Getenv("MASTER_PORT")
	if port == "" {
		port = "23456"
	}
	fmt.Printf("replica %s: rank %d of %d, master %s:%s\n", host, rank, world, os.Getenv("MASTER_ADDR"), port)
	if rank == 0 {
		return serve(port, world)
	}
	return join(net.JoinHostPort(os.Getenv("MASTER_ADDR"), port), rank)
}

// serve waits until every other rank has checked in.
func serve(port string, world int) error {
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return err
	}
	defer ln.Close()
	var ranks []int
	deadline := time.Now().Add(3 * time.Minute)
	for len(ranks) < world-1 {
		ln.(*net.TCPListener).SetDeadline(deadline)
		c, err := ln.Accept()
		if err != nil {
			return fmt.Errorf("waiting for %d ranks, have %v: %v", world-1, ranks, err)
		}
		msg, _ := bufio.NewReader(c).ReadString('\n')
		fmt.Fprintln(c, "welcome")
		c.Close()
		if r, err := strconv.Atoi(strings.TrimSpace(msg)); err == nil {
			ranks = append(ranks, r)
		}
	}
	sort.Ints(ranks)
	fmt.Printf("rendezvous complete: master saw ranks %v\n", ranks)
	return nil
}

// join connects to the master, retrying while its pod starts.
func join(addr string, rank int) error {
	var err error
	for i := 0; i < 90; i++ {
		var c net.Conn
		c, err = net.DialTimeout("tcp", addr, 2*time.Second)
		if err == nil {
			fmt.Fprintln(c, rank)
			reply, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			fmt.Printf("rank %d joined %s: %s\n", rank, addr, strings.TrimSpace(reply))
			return nil
		}
		time.Sleep(time.Second)
	}
	return fmt.Errorf("cannot reach master %s: %v", addr, err)
}
