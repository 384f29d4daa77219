// Package serving is the runtime linked into model servers that fair builds:
// a Go predict function or Model becomes an HTTP server that speaks the Open
// Inference Protocol v2 (KServe v2 / Triton REST), KServe v1 predict, and
// Prometheus /metrics, so KServe, Triton clients and autoscalers understand
// it.
//
// The smallest server:
//
//	func main() {
//		m := serving.Func("linear", func(rows [][]float32) ([]float32, error) {
//			out := make([]float32, len(rows))
//			for i, r := range rows {
//				out[i] = 2*r[0] + 1
//			}
//			return out, nil
//		}, serving.Batching(64, 2*time.Millisecond))
//		if err := serving.Serve(m); err != nil {
//			log.Fatal(err)
//		}
//	}
//
// Serve listens on :8080 (or :$PORT), drains in-flight requests on SIGTERM,
// and logs one line per request at debug level. New gives a Server with
// options (several models and versions, address, body limit, logger); it is
// an http.Handler.
//
// Per model, Batching merges concurrent requests along the first dimension
// into one Predict call and splits the outputs back; Instances bounds
// concurrent Predict calls and MaxQueue bounds waiting requests (429 past
// it). See docs/serving.md for the protocol details.
package serving
