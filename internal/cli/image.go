package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/deploy/preflight"
	"github.com/lowfare/lowfare/internal/gosrc"
	"github.com/lowfare/lowfare/internal/image"
	"github.com/lowfare/lowfare/internal/release"
	"github.com/lowfare/lowfare/internal/spec"
)

type imageFlags struct {
	file string
	push string
	arch string
	out  string
}

func newImageCmd(opts *rootOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "image",
		Short: "Build the service image without Docker",
		Long: `image builds the image your service runs, without Docker: service.image,
a Go main package in the spec file's directory (such as . or ./cmd/server),
compiled for the spec's service.arch into a small OCI image with no base
image. deploy builds and pushes it for you; run image build yourself to see
its digest and size, to try another architecture, or to push it to a
registry of your own.

An image reference in service.image (such as
public.ecr.aws/docker/library/nginx:latest) is used as it is: nothing to
build. So is an image on disk, from any language or tool: a tarball from
docker save, podman save, jib or nix (./app.tar), or an OCI image layout
directory from skopeo, buildah or ko (./image); deploy pushes it to the
app's ECR repository as it pushes the images it builds, the variant for
service.arch when it holds several. Both run as the image's own user on a
writable root filesystem unless service.user and service.readonly_root say
otherwise.`,
		Example: `  # build service.image for the spec's architecture; print digest and size
  lowfare image build

  # the x86_64 image, from another spec file
  lowfare image build --arch x86_64 -f prod.yaml

  # build and push to a registry (ECR authenticates with your AWS credentials)
  lowfare image build --push 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:try

  # write the image to look at: a tarball for docker load, or an OCI layout
  lowfare image build -o app.tar
  lowfare image build -o ./image`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErrf("missing subcommand: lowfare image build")
		},
	}
	f := &imageFlags{}
	build := &cobra.Command{
		Use:   "build",
		Short: "Build service.image into an OCI image; print its digest and size",
		Long: `image build compiles service.image (a Go main package such as ./cmd/links, in
the spec file's directory) with CGO off and -trimpath for linux/<arch> (a
package that needs cgo, such as github.com/mattn/go-sqlite3, is refused
first, exit 2, naming how it is imported and a pure-Go alternative), and
assembles an OCI image without Docker and without a base image: the static
binary at /app/<name>, this machine's CA bundle, an /etc/passwd entry for
uid 65532 (the image's user), the Go toolchain's timezone data, and
lowfare's health probe at /lowfare/healthcheck (the container health check).
For profile serverless the entrypoint is lowfare's Lambda adapter at
/lowfare/lambda-adapter, which runs the app on $PORT and turns Lambda
invocations into HTTP requests to it. The same tree gives the same digest.

The first build downloads and compiles the module's dependencies (minutes
for the AWS SDK); later builds reuse Go's build cache. Progress and elapsed
time show as it goes.

--push REF uploads it (ECR registries authenticate with
ecr:GetAuthorizationToken; others with your Docker credentials, or none).
-o PATH writes it to disk so you can look at what was built: a tarball
when PATH ends in .tar (docker load -i PATH, podman load -i PATH), else an
OCI image layout directory (crane, skopeo, umoci read it). Either also
works as service.image.

An image reference or an image on disk in service.image has nothing to
build (exit 2): deploy uses it as it is.`,
		Example: `  lowfare image build
  lowfare image build --arch x86_64
  lowfare image build --push ghcr.io/you/shop:dev
  lowfare image build -o app.tar && docker load -i app.tar`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runImageBuild(cmd.Context(), opts, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	addSpecFlag(build, &f.file)
	build.Flags().StringVar(&f.push, "push", "", "push to this reference (registry/repository[:tag])")
	build.Flags().StringVar(&f.arch, "arch", "", "arm64 or x86_64 (default: the spec's service.arch)")
	build.Flags().StringVarP(&f.out, "output", "o", "", "write the image to PATH: a tarball if it ends in .tar, else an OCI layout directory")
	c.AddCommand(build)
	return c
}

func runImageBuild(ctx context.Context, opts *rootOptions, f *imageFlags, out, errOut io.Writer) error {
	s, err := loadSpec(opts, f.file)
	if err != nil {
		return err
	}
	if s.Service.Archive() {
		return usageErrf("%s: service.image %q is an image on disk, which deploy pushes as it is: nothing to build", f.file, s.Service.Image)
	}
	if !image.IsLocalPackage(s.Service.Image) {
		return usageErrf("%s: service.image %q is an image reference, used as it is: nothing to build", f.file, s.Service.Image)
	}
	// What plan warns about, refused here with what to do, before go build
	// would say it in its own words.
	if err := imageError(f.file, s); err != nil {
		return err
	}
	if f.arch != "" {
		if _, err := image.GOARCH(f.arch); err != nil {
			return usageErrf("--arch: %v", err)
		}
		s.Service.Arch = f.arch
	}
	var ref name.Reference
	if f.push != "" {
		if ref, err = name.ParseReference(f.push); err != nil {
			return usageErrf("--push %q: %v", f.push, err)
		}
	}
	built, err := buildImage(ctx, f.file, s, out, errOut)
	if err != nil {
		return err
	}
	if f.out != "" {
		// The name docker load gives it: the app and the revision's tag.
		if err := image.WriteOutput(built.Image, f.out, s.App+":"+image.Tag(built.Revision)); err != nil {
			return fmt.Errorf("-o %s: %w", f.out, err)
		}
		kind := "an OCI image layout"
		if strings.HasSuffix(f.out, ".tar") {
			kind = "a tarball (docker load -i " + f.out + ")"
		}
		fmt.Fprintf(out, "Wrote %s to %s\n", kind, f.out)
	}
	if ref == nil {
		return nil
	}
	var auth authn.Authenticator
	if region, ok := image.ECRRegion(f.push); ok {
		cfg, err := awsconf.Load(ctx, awsconf.Options{Profile: opts.Profile, Region: region})
		if err != nil {
			return err
		}
		if auth, err = image.ECRAuth(ctx, ecr.NewFromConfig(cfg)); err != nil {
			return err
		}
	} else {
		if auth, err = authn.DefaultKeychain.Resolve(ref.Context()); err != nil {
			return fmt.Errorf("reading registry credentials for %s: %w", ref.Context().RegistryStr(), err)
		}
	}
	_, err = pushImage(ctx, out, built, f.push, auth)
	return err
}

// buildImage builds service.image in the spec file's directory, for the
// spec's architecture and profile, showing what it does as it goes.
func buildImage(ctx context.Context, file string, s *spec.Spec, out, errOut io.Writer) (*image.Built, error) {
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return nil, err
	}
	goarch, err := image.GOARCH(s.Service.Arch)
	if err != nil {
		return nil, usageErrf("%s: service.arch: %v", file, err)
	}
	kind := "for ECS"
	switch {
	case !s.ECS():
		kind = "for Lambda (the Lambda adapter runs the app)"
	case s.Service.Idle.ServesApp():
		kind = "for ECS, with the Lambda adapter (service.idle serve: app runs it on Lambda while the service sleeps)"
	}
	fmt.Fprintf(out, "Building %s for linux/%s, %s\n", s.Service.Image, goarch, kind)
	p := newProgress(out, isTerminal(out))
	built, err := image.Build(ctx, image.Options{
		Dir: dir, Package: s.Service.Image, Arch: s.Service.Arch,
		Serverless: !s.ECS(), LambdaAdapter: s.Service.Idle.ServesApp(), Log: errOut, Step: p.step,
	})
	elapsed := p.stop()
	if ce, ok := errors.AsType[*gosrc.CgoError](err); ok {
		return nil, usageErrf("%s: service.image %s: %v", file, s.Service.Image, ce)
	}
	if err != nil {
		return nil, err
	}
	rev := built.Revision
	if rev == "" {
		rev = "unknown (not a git checkout)"
	}
	fmt.Fprintf(out, "Image %s, %.1f MB, revision %s (built in %s)\n", built.Digest, float64(built.Size)/1e6, rev, roundElapsed(elapsed))
	return built, nil
}

// pushImage pushes the built image to ref and returns its reference by
// digest, showing layers and bytes as they go.
func pushImage(ctx context.Context, out io.Writer, built *image.Built, ref string, auth authn.Authenticator) (string, error) {
	layers, err := built.Image.Layers()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(out, "Pushing %s: %d layers, %s\n", ref, len(layers), megabytes(built.Size))
	p := newProgress(out, isTerminal(out))
	p.step("pushing")
	pushed, err := image.Push(ctx, built.Image, ref, auth, func(pr image.Progress) {
		p.detail(fmt.Sprintf("%s of %s", megabytes(pr.Done), megabytes(pr.Total)))
	})
	elapsed := p.stop()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(out, "Pushed %s (in %s)\n", pushed, roundElapsed(elapsed))
	return pushed, nil
}

// cgoProblem says that service.image, a Go main package, needs cgo, which
// the image build refuses (gosrc.CheckCgo): what plan warns about and
// image build, plan --check, deploy and dev refuse with exit 2, before a
// build. "" when it does not, or when go cannot tell (the build says why).
func cgoProblem(file string, s *spec.Spec) string {
	goarch, err := image.GOARCH(s.Service.Arch)
	if err != nil {
		return "" // the spec's validation names the architecture
	}
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return ""
	}
	err = gosrc.CheckCgo(context.Background(), gosrc.BuildOptions{
		Dir: dir, Package: s.Service.Image, GOOS: "linux", GOARCH: goarch, Release: true,
	})
	if err != nil {
		return fmt.Sprintf("service.image %s: %v", s.Service.Image, err)
	}
	return ""
}

// preflightExit is err, with exit 2 when it is a preflight failure whose
// fix is in the spec (preflight.Error.BadInput: an image reference with no
// variant for service.arch) or an image on disk a release could not use,
// as for every other bad input.
func preflightExit(err error) error {
	if pe, ok := errors.AsType[*preflight.Error](err); ok && pe.BadInput {
		return usageErr(err)
	}
	if _, ok := errors.AsType[*release.InputError](err); ok {
		return usageErr(err)
	}
	return err
}

// archiveProblem says what is wrong with service.image when it is an image
// on disk: missing, not an image, or without a variant for service.arch;
// "" when deploy can push it. Read as deploy reads it, from the spec
// file's directory.
func archiveProblem(file string, s *spec.Spec) string {
	path := s.Service.Image
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(file), path)
	}
	_, cleanup, err := image.LoadArchive(s.Service.Image, path, s.Service.Arch)
	cleanup()
	if err != nil {
		return err.Error()
	}
	return ""
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func roundElapsed(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// progress shows what a long step is doing and for how long: on a
// terminal one live line, redrawn every second; elsewhere (a log, CI) a
// line when a step starts and one every progressEvery while it lasts, so
// a slow first build is never silent.
type progress struct {
	out   io.Writer
	live  bool
	every time.Duration // between plain lines

	mu      sync.Mutex
	what    string
	extra   string
	began   time.Time // of the whole run
	since   time.Time // of the current step
	drawn   bool      // a live line is on screen
	printed time.Time // last plain line
	done    chan struct{}
	exited  chan struct{}
}

const progressEvery = 5 * time.Second

func newProgress(out io.Writer, live bool) *progress {
	p := &progress{out: out, live: live, every: progressEvery, began: time.Now(), done: make(chan struct{}), exited: make(chan struct{})}
	go p.run()
	return p
}

func (p *progress) run() {
	defer close(p.exited)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case now := <-t.C:
			p.mu.Lock()
			p.show(now, false)
			p.mu.Unlock()
		}
	}
}

// step starts a step.
func (p *progress) step(what string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.what, p.extra, p.since = what, "", time.Now()
	p.show(p.since, true)
}

// detail sets the step's running detail (bytes pushed).
func (p *progress) detail(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.extra = s
	if p.live {
		p.show(time.Now(), false)
	}
}

// show draws the current step; started says it has just begun, which
// prints the step whole on a line of its own. A live line then carries only
// the step's short form (up to " ("), so it fits a terminal's width and
// redraws in place. Callers hold mu.
func (p *progress) show(now time.Time, started bool) {
	if p.what == "" {
		return
	}
	short, _, _ := strings.Cut(p.what, " (")
	if p.extra != "" {
		short += ": " + p.extra
	}
	elapsed := now.Sub(p.since).Truncate(time.Second)
	switch {
	case started:
		if p.drawn {
			fmt.Fprint(p.out, "\r\033[K")
			p.drawn = false
		}
		fmt.Fprintf(p.out, "  %s\n", p.what)
		p.printed = now
	case p.live:
		fmt.Fprintf(p.out, "\r\033[K  %s (%s)", short, elapsed)
		p.drawn = true
	case now.Sub(p.printed) >= p.every:
		fmt.Fprintf(p.out, "  ... %s, %s elapsed\n", short, elapsed)
		p.printed = now
	}
}

// stop ends the display (clearing a live line) and returns the time since
// newProgress.
func (p *progress) stop() time.Duration {
	close(p.done)
	<-p.exited
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.out, "\r\033[K")
		p.drawn = false
	}
	return time.Since(p.began)
}
