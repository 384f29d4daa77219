package serving

import "os"

// ModelDir is the folder that holds the files of the model this server
// serves: $FAIR_MODEL_DIR, which fair sets when it serves a saved model
// (fair serve --model NAME, whose files it pulls there before the server
// starts), else KServe's /mnt/models. Run locally with FAIR_MODEL_DIR set
// to the folder a local training run wrote.
func ModelDir() string {
	if d := os.Getenv("FAIR_MODEL_DIR"); d != "" {
		return d
	}
	return "/mnt/models"
}
