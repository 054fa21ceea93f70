// Package release is lowfare's release workflow, apart from any command
// line, so that `lowfare deploy`, `destroy` and `diff` and a CI runner run
// the same steps:
//
//   - release.go: a Release, the spec (its region already the one deployed
//     to) with both templates built once, and the AWS clients it uses;
//   - deploy.go: preflight, the ECS service-linked role, the bootstrap
//     stack, the image (build, push, live tag), the main stack, and the dry
//     run that shows both change sets and changes nothing;
//   - asleep.go: the new image of a service that slept through the deploy
//     (service.idle), woken and run to health before the live tag moves;
//     put back to sleep, and the main stack back, when it fails;
//   - destroy.go: what exists (stacks, tables, secrets), then the deletion;
//   - diff.go: the deployed templates and stack tags.
//
// The caller keeps flags, prompts and printing: it builds the image with
// its own progress display (Images) and hears what happens (Reporter).
// Stack events stream to the deploy.Deployer's Out, which it also supplies.
package release

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/deploy"
	"github.com/lowfare/lowfare/internal/deploy/preflight"
	"github.com/lowfare/lowfare/internal/image"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// Release is one spec with both its templates, built once: what preflight
// checks, what a dry run shows and what a deploy sends are the same bytes.
type Release struct {
	// File is the spec's path; a local service.image is relative to its
	// directory.
	File string
	// Spec has the region the stacks go to (a --region already applied):
	// the templates' per-region parts (the VPC link zones) hold only it.
	Spec            *spec.Spec
	Result          *stack.Result
	Bootstrap, Main []byte // the templates as JSON; Bootstrap nil for an image reference (no repository)
}

// InputError is a spec the templates cannot be built from: bad input,
// found before any AWS call.
type InputError struct {
	File string
	Err  error
}

func (e *InputError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// New builds both templates of s, read from file.
func New(file string, s *spec.Spec) (*Release, error) {
	res, err := stack.Build(s)
	if err != nil {
		return nil, &InputError{File: file, Err: err}
	}
	r := &Release{File: file, Spec: s, Result: res}
	if res.Bootstrap != nil {
		if r.Bootstrap, err = json.Marshal(res.Bootstrap); err != nil {
			return nil, err
		}
	}
	if r.Main, err = json.Marshal(res.Main); err != nil {
		return nil, err
	}
	return r, nil
}

// SetPermissionsBoundary makes policyARN the permissions boundary of every
// role of both templates (stack.Result.SetPermissionsBoundary) and
// rebuilds their bodies: what a deploy through lowfare ci's service role
// sends, since that role may create roles only with it.
func (r *Release) SetPermissionsBoundary(policyARN string) error {
	r.Result.SetPermissionsBoundary(policyARN)
	var err error
	if r.Result.Bootstrap != nil {
		if r.Bootstrap, err = json.Marshal(r.Result.Bootstrap); err != nil {
			return err
		}
	}
	r.Main, err = json.Marshal(r.Result.Main)
	return err
}

// PreflightStacks names the app's two stacks with their bodies.
func (r *Release) PreflightStacks() preflight.Stacks {
	return PreflightStacks(r.Spec, r.Bootstrap, r.Main)
}

// PreflightStacks names the app of s's two stacks with the given bodies.
func PreflightStacks(s *spec.Spec, bootBody, mainBody []byte) preflight.Stacks {
	return preflight.Stacks{Main: s.StackName(), Bootstrap: s.BootstrapStackName(), MainBody: mainBody, BootstrapBody: bootBody}
}

// bootstrapStack is the bootstrap stack (the ECR repository) to deploy.
func (r *Release) bootstrapStack() deploy.Stack {
	return deploy.Stack{Name: r.Spec.BootstrapStackName(), Body: r.Bootstrap, Tags: stack.StackTags(r.Spec)}
}

// mainStack is the main stack to deploy, running imageURI.
func (r *Release) mainStack(imageURI string) deploy.Stack {
	return deploy.Stack{
		Name:             r.Spec.StackName(),
		Body:             r.Main,
		Parameters:       map[string]string{stack.ParamImageURI: imageURI},
		CreateParameters: stack.CreateParameters(r.Spec),
		Tags:             stack.StackTags(r.Spec),
	}
}

// Images builds and pushes the app's image; the CLI's implementation shows
// its own progress as it goes.
type Images interface {
	Build(ctx context.Context, r *Release) (*image.Built, error)
	// Push pushes built to ref and returns the reference by digest.
	Push(ctx context.Context, built *image.Built, ref string, auth authn.Authenticator) (string, error)
}

// Reporter hears what a release does, as it happens, beside the stack
// events the Deployer streams.
type Reporter interface {
	// RoleCreated: the account had no ECS service-linked role; the
	// release created it.
	RoleCreated(name string)
	// Unchanged: the stack's change set had nothing to do.
	Unchanged(stack string)
	// Changes: a dry run's change set for the stack, already deleted.
	Changes(stack string, changes []deploy.Change)
	// Warning: something failed that does not fail the release.
	Warning(err error)
	// TableDeleted: destroy deleted a table and its data.
	TableDeleted(name string)
	// Proof: a step of proving the new image of a service that slept
	// through the deploy (service.idle): waking it, what each check saw,
	// healthy, asleep again.
	Proof(p Proof)
}

// Runner runs releases against one account and region.
type Runner struct {
	AWS *awsconf.Clients
	// Stacks runs the stack operations on AWS.CloudFormation, streaming
	// their events to its Out.
	Stacks *deploy.Deployer
	Images Images
	Report Reporter
	// HealthTimeout bounds the wait for the new image of a service that
	// slept through the deploy to be healthy (DefaultHealthTimeout when
	// zero); checks come every Stacks.Poll.
	HealthTimeout time.Duration
}
