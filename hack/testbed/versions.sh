# Versions of the parts the test bed takes from the Go module proxy.
# Sourced by testbed and install-deps.sh; the kube version is in hack/kube/go.mod,
# CoreDNS's in hack/coredns/go.mod. The Kubeflow controllers are also pinned
# in hack/kubeflow/go.mod, Argo in hack/argo/go.mod, KServe in
# hack/kserve/go.mod and Katib in hack/katib/go.mod; their build scripts
# refuse to build when the two differ.
TRAINING_OPERATOR=github.com/kubeflow/training-operator@v1.9.4
TRAINER=github.com/kubeflow/trainer/v2@v2.3.0
JOBSET=sigs.k8s.io/jobset@v0.12.0
ARGO=github.com/argoproj/argo-workflows/v3@v3.7.3
KSERVE=github.com/kserve/kserve@v0.20.0
KATIB=github.com/kubeflow/katib@v0.19.0
