// Command noimage is the default trainer image of the test bed's fair-go
// ClusterTrainingRuntime. A TrainJob made by fair always sets its own image;
// one that does not runs this, which says so and fails, instead of pulling
// an image from a public registry the test bed cannot reach.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "fair-go runtime: this TrainJob sets no trainer image (spec.trainer.image); fair train --kind trainjob sets it")
	os.Exit(2)
}
