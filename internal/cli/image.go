package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/image"
)

type imageFlags struct {
	file string
	push string
	arch string
}

func newImageCmd(opts *rootOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "image",
		Short: "Build the service image without Docker",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErrf("missing subcommand: lowfare image build")
		},
	}
	f := &imageFlags{}
	build := &cobra.Command{
		Use:   "build",
		Short: "Build service.image into an OCI image; print its digest and size",
		Long: `image build compiles service.image (a Go main package such as ./cmd/links, in
the spec file's directory) with CGO off and -trimpath for linux/<arch>, and
assembles an OCI image without Docker and without a base image: the static
binary at /app/<name>, this machine's CA bundle, an /etc/passwd entry for
uid 65532 (the image's user), and the Go toolchain's timezone data. The same
tree gives the same digest.

--push REF uploads it (ECR registries authenticate with
ecr:GetAuthorizationToken; others with your Docker credentials, or none).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runImageBuild(cmd.Context(), opts, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	addSpecFlag(build, &f.file)
	build.Flags().StringVar(&f.push, "push", "", "push to this reference (registry/repository[:tag])")
	build.Flags().StringVar(&f.arch, "arch", "", "arm64 or x86_64 (default: the spec's service.arch)")
	c.AddCommand(build)
	return c
}

func runImageBuild(ctx context.Context, opts *rootOptions, f *imageFlags, out, errOut io.Writer) error {
	s, err := loadSpec(f.file)
	if err != nil {
		return err
	}
	if !image.IsLocalPackage(s.Service.Image) {
		return usageErrf("%s: service.image %q is an image reference, used as it is: nothing to build", f.file, s.Service.Image)
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
	pushed, err := image.Push(ctx, built.Image, f.push, auth)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Pushed %s\n", pushed)
	return nil
}
