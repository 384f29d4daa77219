// Command train-go fits a logistic regression on generated data in pure Go
// and prints the loss of each epoch: a small training job to run with
// `fair train ./examples/train-go --gpus 1`. It reads RANK and WORLD_SIZE
// when a distributed kind (pytorchjob) sets them, and trains on its shard.
package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
)

func main() {
	rank, world := envInt("RANK", 0), envInt("WORLD_SIZE", 1)
	epochs := envInt("EPOCHS", 10)
	rng := rand.New(rand.NewPCG(42, uint64(rank)))

	// Two features; the label is 1 when 3x - 2y + 0.5 > 0, with noise.
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
		fmt.Printf("rank %d/%d epoch %2d loss %.4f\n", rank, world, epoch, loss/m)
	}
	fmt.Printf("rank %d/%d weights %.3f %.3f bias %.3f\n", rank, world, w[0], w[1], b)
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return v
	}
	return def
}
