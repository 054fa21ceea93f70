package release

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/deploy"
	"github.com/lowfare/lowfare/internal/deploy/preflight"
	"github.com/lowfare/lowfare/internal/image"
	"github.com/lowfare/lowfare/internal/ops"
	"github.com/lowfare/lowfare/internal/stack"
)

// Preflight asks AWS, read-only, what a rollback would otherwise reveal:
// nothing is created or changed; a failure is a *preflight.Error.
func (rn *Runner) Preflight(ctx context.Context, r *Release) error {
	return preflight.Check(ctx, rn.AWS, r.Spec, r.PreflightStacks()).Err()
}

// Deploy releases r: preflight, the ECS service-linked role, the bootstrap
// stack (only for an image lowfare pushes), the image (built and pushed
// when service.image is a Go package, pushed as it is when it is an image
// on disk), the main stack, and the live tag on the image it now runs.
// When the service slept through the update (service.idle), the image is
// first run to health, and the service put back to sleep after the tag
// (proveIfAsleep); an image that fails is a *ProofError, after the main
// stack went back to what it was (rollBack). It returns the main stack's
// result, outputs included.
func (rn *Runner) Deploy(ctx context.Context, r *Release) (*deploy.Result, error) {
	if err := rn.Preflight(ctx, r); err != nil {
		return nil, err
	}
	if err := rn.ensureRole(ctx, r); err != nil {
		return nil, err
	}
	// The cluster reads its password from SSM when the stack creates it:
	// it must exist first, and CloudFormation cannot write a SecureString.
	if _, err := ops.EnsureDatabasePassword(ctx, rn.AWS.SSM, r.Spec); err != nil {
		return nil, err
	}
	boot := r.bootstrapStack()
	var bootOutputs map[string]string
	if boot.Body != nil {
		bootRes, err := rn.deployStack(ctx, boot)
		if err != nil {
			return nil, err
		}
		bootOutputs = bootRes.Outputs
	} else {
		rn.leftoverBootstrap(ctx, boot.Name)
	}
	imageURI, markLive, err := rn.releaseImage(ctx, r, boot.Name, bootOutputs)
	if err != nil {
		return nil, err
	}
	prev := rn.readBefore(ctx, r)
	res, err := rn.deployStack(ctx, r.mainStack(imageURI))
	if err != nil {
		return nil, err
	}
	// A service asleep (service.idle) ran nothing of the update: run the
	// new image to health before calling it live, and put the stack back
	// when it fails.
	restoreSleep, err := rn.proveIfAsleep(ctx, r, imageURI)
	if fail, ok := errors.AsType[*ProofError](err); ok {
		rn.rollBack(ctx, fail, prev, res.Changed)
	}
	if err != nil {
		return nil, err
	}
	if markLive != nil {
		// The stack runs this image now: the repository's lifecycle policy
		// never expires the one tagged stack.LiveImageTag.
		if err := markLive(); err != nil {
			rn.Report.Warning(fmt.Errorf("the deploy succeeded, but tagging its image %s failed (%v); until a deploy tags it, the repository's lifecycle policy may expire it once newer images are pushed", stack.LiveImageTag, err))
		}
	}
	if restoreSleep != nil {
		restoreSleep()
	}
	return res, nil
}

// leftoverBootstrap warns about a bootstrap stack an earlier deploy made
// (service.image was a Go package then): an image reference runs from its
// own registry, so its repository holds images nothing runs any more.
// Deleting it is the user's call (its images may be wanted for a
// rollback); destroy deletes it with the app.
func (rn *Runner) leftoverBootstrap(ctx context.Context, name string) {
	outs, err := rn.Stacks.Outputs(ctx, name)
	if err != nil {
		return // none (or unreadable): nothing to say
	}
	repo := outs[stack.OutputRepositoryURI]
	if repo == "" {
		repo = "its ECR repository"
	}
	rn.Report.Warning(fmt.Errorf("stack %s from an earlier deploy holds %s, which nothing runs now that service.image is an image reference; delete it when its images are no longer wanted (aws cloudformation delete-stack --stack-name %s; its images go with it), or lowfare destroy deletes it with the app", name, repo, name))
}

// ensureRole creates the ECS service-linked role when the account has none
// (an ECS service cannot be created without it).
func (rn *Runner) ensureRole(ctx context.Context, r *Release) error {
	if !r.Spec.ECS() {
		return nil
	}
	created, err := preflight.EnsureServiceLinkedRole(ctx, rn.AWS.IAM)
	if err != nil {
		return err
	}
	if created {
		rn.Report.RoleCreated(preflight.ECSServiceRole)
	}
	return nil
}

// deployStack deploys one stack and reports a change set with nothing to do.
func (rn *Runner) deployStack(ctx context.Context, st deploy.Stack) (*deploy.Result, error) {
	res, err := rn.Stacks.Deploy(ctx, st)
	if err != nil {
		return nil, err
	}
	if !res.Changed {
		rn.Report.Unchanged(st.Name)
	}
	return res, nil
}

// releaseImage is the image the main stack runs: service.image as it is,
// or, for a Go package or an image on disk, the image built (or read) and
// pushed to the bootstrap stack's repository, by digest. markLive (nil for
// an image reference) tags it live once the main stack runs it.
func (rn *Runner) releaseImage(ctx context.Context, r *Release, bootName string, bootOutputs map[string]string) (uri string, markLive func() error, err error) {
	if !r.Spec.Service.Pushed() {
		return r.Spec.Service.Image, nil, nil
	}
	repo, err := rn.repositoryURI(ctx, bootName, bootOutputs)
	if err != nil {
		return "", nil, err
	}
	built, done, err := rn.image(ctx, r)
	if err != nil {
		return "", nil, err
	}
	defer done()
	auth, err := image.ECRAuth(ctx, rn.AWS.ECR)
	if err != nil {
		return "", nil, err
	}
	if uri, err = rn.Images.Push(ctx, built, repo+":"+image.Tag(built.Revision), auth); err != nil {
		return "", nil, err
	}
	return uri, func() error { return image.Retag(ctx, uri, stack.LiveImageTag, auth) }, nil
}

// repositoryURI is the bootstrap stack's repository: its output, else the
// repository found through the stack's resources (a stack without outputs:
// older lowfare, or moto).
func (rn *Runner) repositoryURI(ctx context.Context, bootName string, outputs map[string]string) (string, error) {
	if uri := outputs[stack.OutputRepositoryURI]; uri != "" {
		return uri, nil
	}
	name, err := rn.Stacks.PhysicalID(ctx, bootName, "Repository")
	if err != nil {
		return "", err
	}
	if name == "" {
		return "", fmt.Errorf("stack %s has no %s output and no Repository resource; was it created by another tool?", bootName, stack.OutputRepositoryURI)
	}
	out, err := rn.AWS.ECR.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
	if err != nil || len(out.Repositories) == 0 {
		return "", fmt.Errorf("stack %s: reading its repository %s: %v", bootName, name, err)
	}
	return aws.ToString(out.Repositories[0].RepositoryUri), nil
}

// DryRun reports both change sets and deletes them: nothing changes, not
// even the service-linked role. The image is built (not pushed) so the main
// change set shows whether the code changed.
func (rn *Runner) DryRun(ctx context.Context, r *Release) error {
	if err := rn.Preflight(ctx, r); err != nil {
		return err
	}
	boot := r.bootstrapStack()
	if boot.Body != nil {
		changes, err := rn.Stacks.Plan(ctx, boot)
		if err != nil {
			return err
		}
		rn.Report.Changes(boot.Name, changes)
	}
	imageURI := r.Spec.Service.Image
	if r.Spec.Service.Pushed() {
		var err error
		if imageURI, err = rn.builtImage(ctx, r, boot.Name); err != nil {
			return err
		}
	}
	main := r.mainStack(imageURI)
	changes, err := rn.Stacks.Plan(ctx, main)
	if err != nil {
		return err
	}
	rn.Report.Changes(main.Name, changes)
	return nil
}

// builtImage builds the image and names it by digest in the bootstrap
// stack's repository (a placeholder before that stack exists).
func (rn *Runner) builtImage(ctx context.Context, r *Release, bootName string) (string, error) {
	repo := "<repository of " + bootName + ">"
	outs, err := rn.Stacks.Outputs(ctx, bootName)
	switch {
	case err == nil && outs[stack.OutputRepositoryURI] != "":
		repo = outs[stack.OutputRepositoryURI]
	case err != nil && !errors.Is(err, awsconf.ErrStackNotFound):
		return "", err
	}
	built, done, err := rn.image(ctx, r)
	if err != nil {
		return "", err
	}
	done()
	return repo + "@" + built.Digest.String(), nil
}

// image is the image to push: service.image built (a Go package, through
// Images) or read from disk for service.arch (an image on disk, relative to
// the spec's directory). done releases what reading it needed, once the
// push is over.
func (rn *Runner) image(ctx context.Context, r *Release) (built *image.Built, done func(), err error) {
	svc := r.Spec.Service
	if !svc.Archive() {
		built, err := rn.Images.Build(ctx, r)
		return built, func() {}, err
	}
	path := svc.Image
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(r.File), path)
	}
	built, done, err = image.FromArchive(svc.Image, path, svc.Arch)
	if err != nil {
		return nil, nil, &InputError{File: r.File, Err: err}
	}
	return built, done, nil
}
