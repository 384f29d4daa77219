package deployer

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// What keeps a server from starting is said with the container it is
// about: a failing model pull or modelcar check (init containers), a
// modelcar sidecar whose image does not pull.
func TestReplicaStatusNamesTheHelperContainer(t *testing.T) {
	pending := func(inits, containers []corev1.ContainerStatus) *corev1.Pod {
		p := &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: inits, ContainerStatuses: containers}}
		p.Name = "s-predictor-abc"
		p.Spec.Containers = []corev1.Container{{Name: "kserve-container"}, {Name: "modelcar"}}
		return p
	}
	waiting := func(name, reason, msg string) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}
	}
	initializing := waiting("kserve-container", "PodInitializing", "")
	crash := waiting("modelcar-init", "CrashLoopBackOff", "back-off 10s restarting failed container")
	crash.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error",
		Message: "Pre-fetching modelcar r: \nNOK ... Prefetched but modelcar is invalid (/models does not exist or is empty)\n"}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want string
		exit int32
	}{
		{"init check fails", pending([]corev1.ContainerStatus{crash}, []corev1.ContainerStatus{initializing}),
			"modelcar-init: CrashLoopBackOff: NOK ... Prefetched but modelcar is invalid (/models does not exist or is empty)", 1},
		{"model pull exits", pending([]corev1.ContainerStatus{{Name: "fair-model", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error", Message: "fair-step: no model r/models/m@sha256:00"}}}}, []corev1.ContainerStatus{initializing}),
			"fair-model: Error: fair-step: no model r/models/m@sha256:00", 2},
		{"init image does not pull", pending([]corev1.ContainerStatus{waiting("modelcar-init", "ImagePullBackOff", `Back-off pulling image "r/modelcars/m"`)}, []corev1.ContainerStatus{initializing}),
			`modelcar-init: ImagePullBackOff: Back-off pulling image "r/modelcars/m"`, 0},
		{"sidecar image does not pull", pending(nil, []corev1.ContainerStatus{waiting("kserve-container", "ContainerCreating", ""), waiting("modelcar", "ErrImagePull", "not found")}),
			"modelcar: ErrImagePull: not found", 0},
		{"still initializing", pending([]corev1.ContainerStatus{{Name: "modelcar-init", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}, []corev1.ContainerStatus{initializing}),
			"PodInitializing", 0},
		{"the program's own reason wins", pending([]corev1.ContainerStatus{crash}, []corev1.ContainerStatus{waiting("kserve-container", "InvalidImageName", "")}),
			"InvalidImageName", 0},
	} {
		r := replicaStatus(KindKServe, "s", tc.pod)
		if r.Cause() != tc.want || r.ExitCode != tc.exit {
			t.Errorf("%s: cause %q exit %d, want %q exit %d", tc.name, r.Cause(), r.ExitCode, tc.want, tc.exit)
		}
	}
}
