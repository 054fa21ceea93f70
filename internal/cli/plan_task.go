package cli

import (
	"fmt"

	"github.com/lowfare/lowfare/internal/spec"
)

// planTask is what the task (or function) gets from the spec: the user it
// runs as, its root filesystem and its port. plan states it because an
// image lowfare did not build keeps its own user and a writable root by
// default, and a wrong pairing (nginx as uid 65532 on a read-only root)
// crash-loops only after a deploy.
type planTask struct {
	// User is service.user; "" runs the image's own user.
	User         string `json:"user"`
	ReadonlyRoot bool   `json:"readonly_root"`
	Port         int    `json:"port"`
	Text         string `json:"text"`
}

func taskPlan(s *spec.Spec) *planTask {
	svc := s.Service
	t := &planTask{User: svc.User, ReadonlyRoot: svc.ReadonlyRoot, Port: svc.Port}
	if !s.ECS() {
		// Lambda decides both for every image.
		t.User, t.ReadonlyRoot = "", true
		t.Text = fmt.Sprintf("function: Lambda runs the image as its own user on a read-only root filesystem with a writable /tmp; the app listens on port %d (lowfare sets PORT=%d)", svc.Port, svc.Port)
		return t
	}
	user := "the image's own user (its USER; root if it sets none)"
	switch {
	case svc.User == spec.BuiltUser && svc.LocalPackage():
		user = svc.User + " (the user of the image lowfare builds)"
	case svc.User != "":
		user = svc.User + " (service.user)"
	}
	root := "a writable root filesystem"
	if svc.ReadonlyRoot {
		root = "a read-only root filesystem with a writable /tmp"
	}
	t.Text = fmt.Sprintf("task: runs as %s on %s; container port %d (lowfare sets PORT=%d)", user, root, svc.Port, svc.Port)
	return t
}
