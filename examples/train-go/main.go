// Command train-go fits a logistic regression on generated data in pure Go
// and prints the loss of each epoch: a small training job to run with
// `fair train ./examples/train-go --gpus 1`. Under a distributed kind
// (`--kind pytorchjob --workers 3`) each replica trains on its shard of the
// data (RANK, WORLD_SIZE) and the workers send their weights to the master
// (MASTER_ADDR:MASTER_PORT), which averages them: a one-step all-reduce.
package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func main() {
	rank, world := envInt("RANK", 0), envInt("WORLD_SIZE", 1)
	epochs := envInt("EPOCHS", 10)
	rng := rand.New(rand.NewPCG(42, uint64(rank)))

	// Two features; the label is 1 when 3x - 2y + 0.5 > 0, with noise. In a
	// pipeline, the rows come from the step that feeds input "data"
	// (a CSV file of x,y,label) instead.
	xs, ys := generate(rank, world, rng)
	if path := os.Getenv("FAIR_IN_data"); path != "" {
		var err error
		if xs, ys, err = readCSV(path, rank, world); err != nil {
			fmt.Fprintln(os.Stderr, "read the data:", err)
			os.Exit(1)
		}
		fmt.Printf("rank %d/%d read %d rows from %s\n", rank, world, len(xs), path)
	}

	w, b, lr := [2]float64{}, 0.0, 0.5
	for epoch := 1; epoch <= epochs; epoch++ {
		var gw [2]float64
		var gb, loss float64
		for i, x := range xs {
			p := 1 / (1 + math.Exp(-(w[0]*x[0] + w[1]*x[1] + b)))
			d := p - ys[i]
			gw[0], gw[1], gb = gw[0]+d*x[0], gw[1]+d*x[1], gb+d
			loss -= ys[i]*math.Log(p+1e-12) + (1-ys[i])*math.Log(1-p+1e-12)
		}
		m := float64(len(xs))
		w[0], w[1], b = w[0]-lr*gw[0]/m, w[1]-lr*gw[1]/m, b-lr*gb/m
		// name=value: fair keeps the last values with the model, and
		// Katib's metrics collector reads the same lines.
		fmt.Printf("rank %d/%d epoch=%d loss=%.4f\n", rank, world, epoch, loss/m)
	}
	fmt.Printf("rank %d/%d weights %.3f %.3f bias %.3f\n", rank, world, w[0], w[1], b)
	params := []float64{w[0], w[1], b}
	if world > 1 {
		var err error
		if params, err = allReduce(rank, world, params); err != nil {
			fmt.Fprintln(os.Stderr, "all-reduce:", err)
			os.Exit(1)
		}
	}
	// Under fair train --model NAME, what rank 0 writes to $FAIR_MODEL_DIR
	// becomes model NAME in the registry (examples/serve-trained serves it).
	if dir := os.Getenv("FAIR_MODEL_DIR"); dir != "" && rank == 0 {
		b, _ := json.Marshal(map[string]float64{"w0": params[0], "w1": params[1], "b": params[2]})
		if err := os.WriteFile(filepath.Join(dir, "model.json"), b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "save the model:", err)
			os.Exit(1)
		}
		fmt.Printf("rank 0/%d wrote the model to %s\n", world, dir)
	}
}

func generate(rank, world int, rng *rand.Rand) ([][2]float64, []float64) {
	const n = 2000
	xs := make([][2]float64, 0, n)
	ys := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		if i%world != rank {
			continue
		}
		x := [2]float64{rng.NormFloat64(), rng.NormFloat64()}
		y := 0.0
		if 3*x[0]-2*x[1]+0.5+0.3*rng.NormFloat64() > 0 {
			y = 1
		}
		xs, ys = append(xs, x), append(ys, y)
	}
	return xs, ys
}

// readCSV reads this replica's shard of x,y,label rows.
func readCSV(path string, rank, world int) ([][2]float64, []float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, nil, err
	}
	var xs [][2]float64
	var ys []float64
	for i, r := range rows {
		if i%world != rank {
			continue
		}
		var v [3]float64
		if len(r) != 3 {
			return nil, nil, fmt.Errorf("row %d has %d fields, want x,y,label", i+1, len(r))
		}
		for j := range v {
			if v[j], err = strconv.ParseFloat(r[j], 64); err != nil {
				return nil, nil, fmt.Errorf("row %d: %v", i+1, err)
			}
		}
		xs, ys = append(xs, [2]float64{v[0], v[1]}), append(ys, v[2])
	}
	if len(xs) == 0 {
		return nil, nil, errors.New("no rows")
	}
	return xs, ys, nil
}

// allReduce averages the model across replicas: workers dial the master
// and send their parameters; the master waits for all of them and returns
// the average (the workers, their own parameters).
func allReduce(rank, world int, params []float64) ([]float64, error) {
	addr := net.JoinHostPort(os.Getenv("MASTER_ADDR"), os.Getenv("MASTER_PORT"))
	if rank != 0 {
		var conn net.Conn
		var err error
		for start := time.Now(); time.Since(start) < 2*time.Minute; time.Sleep(time.Second) {
			if conn, err = net.Dial("tcp", addr); err == nil {
				break
			}
		}
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		fmt.Printf("rank %d/%d sent its weights to the master at %s\n", rank, world, addr)
		return params, json.NewEncoder(conn).Encode(params)
	}
	l, err := net.Listen("tcp", ":"+os.Getenv("MASTER_PORT"))
	if err != nil {
		return nil, err
	}
	defer l.Close()
	sum := append([]float64(nil), params...)
	for i := 1; i < world; i++ {
		conn, err := l.Accept()
		if err != nil {
			return nil, err
		}
		var p []float64
		err = json.NewDecoder(conn).Decode(&p)
		conn.Close()
		if err != nil || len(p) != len(sum) {
			return nil, fmt.Errorf("bad parameters from a worker: %v", err)
		}
		for j := range sum {
			sum[j] += p[j]
		}
	}
	for j := range sum {
		sum[j] /= float64(world)
	}
	fmt.Printf("rank 0/%d averaged weights of %d replicas: %.3f %.3f bias %.3f\n", world, world, sum[0], sum[1], sum[2])
	return sum, nil
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return v
	}
	return def
}
