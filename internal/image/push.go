package image

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// PushTimeout bounds one push (all layers).
const PushTimeout = 10 * time.Minute

// Progress is how far a push is: bytes of the layers and config uploaded
// (or found already in the registry) out of the total.
type Progress struct {
	Done, Total int64
}

// Push uploads img as ref (repo:tag) and returns the reference by digest
// (repo@sha256:...), which is what a deploy should run: a tag can move, a
// digest cannot. onProgress, when set, is called as bytes go out, from
// another goroutine; a successful Push returns after its last call.
func Push(ctx context.Context, img v1.Image, ref string, auth authn.Authenticator, onProgress func(Progress)) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %w", ref, err)
	}
	if auth == nil {
		auth = authn.Anonymous
	}
	ctx, cancel := context.WithTimeout(ctx, PushTimeout)
	defer cancel()
	opts := []remote.Option{remote.WithAuth(auth), remote.WithContext(ctx)}
	done := make(chan struct{})
	if onProgress != nil {
		updates := make(chan v1.Update, 16)
		opts = append(opts, remote.WithProgress(updates))
		go func() {
			defer close(done)
			// remote.Write closes updates when it returns.
			for u := range updates {
				if u.Error == nil {
					onProgress(Progress{Done: u.Complete, Total: u.Total})
				}
			}
		}()
	} else {
		close(done)
	}
	if err := remote.Write(r, img, opts...); err != nil {
		// Not waiting on done: remote.Write leaves updates open when it
		// rejects its options before it starts.
		return "", fmt.Errorf("pushing %s: %w", r, err)
	}
	<-done
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return r.Context().Digest(d.String()).String(), nil
}

// Retag points tag (a tag of the same repository, such as
// stack.LiveImageTag) at the image byDigest (repo@sha256:...) that is
// already in the registry: only the manifest is read and written back, no
// layer moves. Deploy uses it to mark the image a stack runs, which the
// repository's lifecycle policy then never expires.
func Retag(ctx context.Context, byDigest, tag string, auth authn.Authenticator) error {
	src, err := name.NewDigest(byDigest)
	if err != nil {
		return fmt.Errorf("image reference %q: %w", byDigest, err)
	}
	dst := src.Context().Tag(tag)
	if auth == nil {
		auth = authn.Anonymous
	}
	ctx, cancel := context.WithTimeout(ctx, PushTimeout)
	defer cancel()
	opts := []remote.Option{remote.WithAuth(auth), remote.WithContext(ctx)}
	desc, err := remote.Get(src, opts...)
	if err != nil {
		return fmt.Errorf("reading %s: %w", src, err)
	}
	if err := remote.Tag(dst, desc, opts...); err != nil {
		return fmt.Errorf("tagging %s as %s: %w", src, tag, err)
	}
	return nil
}

// ecrHost matches ECR private registry hosts (commercial, FIPS, China);
// its group is the region.
var ecrHost = regexp.MustCompile(`^[0-9]{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$`)

// IsECR reports whether ref's registry is an ECR private registry.
func IsECR(ref string) bool {
	_, ok := ECRRegion(ref)
	return ok
}

// ECRRegion returns the region of ref's registry when it is an ECR private
// registry: a push there needs a token from that region's ECR.
func ECRRegion(ref string) (region string, ok bool) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", false
	}
	m := ecrHost.FindStringSubmatch(r.Context().RegistryStr())
	if m == nil {
		return "", false
	}
	return m[1], true
}

// ECRClient is the one ECR call a push needs.
type ECRClient interface {
	GetAuthorizationToken(ctx context.Context, in *ecr.GetAuthorizationTokenInput, opts ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error)
}

// ECRAuth asks ECR for a registry token (valid 12 hours) and returns it as
// registry basic auth. The token is base64 of "AWS:<password>".
func ECRAuth(ctx context.Context, c ECRClient) (authn.Authenticator, error) {
	out, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return nil, fmt.Errorf("ecr:GetAuthorizationToken: %w", err)
	}
	if len(out.AuthorizationData) == 0 || out.AuthorizationData[0].AuthorizationToken == nil {
		return nil, errors.New("ecr:GetAuthorizationToken returned no token")
	}
	raw, err := base64.StdEncoding.DecodeString(*out.AuthorizationData[0].AuthorizationToken)
	if err != nil {
		return nil, fmt.Errorf("ecr:GetAuthorizationToken: token is not base64: %w", err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok || user == "" {
		return nil, errors.New("ecr:GetAuthorizationToken: token is not user:password")
	}
	return &authn.Basic{Username: user, Password: pass}, nil
}
