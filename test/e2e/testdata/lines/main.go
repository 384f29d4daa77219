// Command lines prints numbered lines and exits with a chosen status; the
// deployer's tests run it as a training job. LINES (default 5) lines,
// INTERVAL between them (default 0), then exit EXIT (default 0).
//
// Under a distributed training operator (RANK, WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT set) it first meets its peers as torch.distributed does: rank
// 0 listens on MASTER_PORT until every other rank has checked in, so the
// master does not finish before the workers have started (ALONE=1 skips
// that, as a program that needs no peers would). Each line names the rank.
// HANG=1 makes every rank but 0 block after its lines, as a worker stuck
// in a collective does once the master has gone.
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	n, _ := strconv.Atoi(os.Getenv("LINES"))
	if n == 0 {
		n = 5
	}
	interval, _ := time.ParseDuration(os.Getenv("INTERVAL"))
	code, _ := strconv.Atoi(os.Getenv("EXIT"))
	who := ""
	if rank := os.Getenv("RANK"); rank != "" {
		who = " rank " + rank + "/" + os.Getenv("WORLD_SIZE")
		if os.Getenv("ALONE") != "1" {
			if err := rendezvous(rank); err != nil {
				fmt.Fprintln(os.Stderr, "rendezvous:", err)
				os.Exit(2)
			}
		}
	}
	for i := 1; i <= n; i++ {
		fmt.Printf("line %d of %d%s\n", i, n, who)
		if i < n {
			time.Sleep(interval)
		}
	}
	if os.Getenv("HANG") == "1" && os.Getenv("RANK") != "" && os.Getenv("RANK") != "0" {
		time.Sleep(24 * time.Hour)
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "exiting with %d\n", code)
	}
	os.Exit(code)
}

func rendezvous(rank string) error {
	world, _ := strconv.Atoi(os.Getenv("WORLD_SIZE"))
	port := os.Getenv("MASTER_PORT")
	if world < 2 || port == "" {
		return nil
	}
	if rank == "0" {
		ln, err := net.Listen("tcp", ":"+port)
		if err != nil {
			return err
		}
		defer ln.Close()
		for i := 1; i < world; i++ {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			c.Close()
		}
		return nil
	}
	addr := net.JoinHostPort(os.Getenv("MASTER_ADDR"), port)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}
