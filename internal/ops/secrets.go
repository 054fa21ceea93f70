package ops

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/lowfare/lowfare/internal/spec"
)

// secretName is what a secret may be called: it becomes an environment
// variable name in the task and the last segment of an SSM parameter name.
var secretName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// ValidateSecretName says why name cannot be a secret's name, or nil.
func ValidateSecretName(name string) error {
	if !secretName.MatchString(name) {
		return fmt.Errorf("secret name %q is not valid: use letters, digits and _, starting with a letter or _ (it becomes an environment variable), at most 128 characters", name)
	}
	return nil
}

// maxSecretBytes is the standard-tier parameter limit (4 KB); the advanced
// tier costs money, so lowfare does not use it.
const maxSecretBytes = 4096

// SetSecret stores value as a SecureString under the spec's prefix,
// replacing any earlier value, and returns the new version. The value is
// never part of an error or a log line.
func SetSecret(ctx context.Context, c *ssm.Client, s *spec.Spec, name, value string) (int64, error) {
	if err := ValidateSecretName(name); err != nil {
		return 0, err
	}
	if err := databasePasswordGuard(s, name, "set"); err != nil {
		return 0, err
	}
	if value == "" {
		return 0, fmt.Errorf("secret %s: the value is empty", name)
	}
	if len(value) > maxSecretBytes {
		return 0, fmt.Errorf("secret %s: the value has %d bytes, a standard SSM parameter holds at most %d", name, len(value), maxSecretBytes)
	}
	param := s.SecretParameter(name)
	out, err := call(ctx, func(ctx context.Context) (*ssm.PutParameterOutput, error) {
		return c.PutParameter(ctx, &ssm.PutParameterInput{
			Name:      aws.String(param),
			Value:     aws.String(value),
			Type:      ssmtypes.ParameterTypeSecureString,
			Overwrite: aws.Bool(true),
			Tier:      ssmtypes.ParameterTierStandard,
		})
	})
	if err != nil {
		return 0, fmt.Errorf("storing secret %s (%s): %w", name, param, err)
	}
	return out.Version, nil
}

// SecretInfo describes a stored secret without its value.
type SecretInfo struct {
	Name         string    `json:"name"`
	Parameter    string    `json:"parameter"`
	Version      int64     `json:"version"`
	LastModified time.Time `json:"last_modified"`
	InSpec       bool      `json:"in_spec"` // named in service.secrets
}

// ListSecrets lists the secrets under the spec's prefix from their metadata
// alone (DescribeParameters): values are never fetched, let alone decrypted.
// Secrets the spec names but that are not stored are not listed here; see
// MissingSecrets.
func ListSecrets(ctx context.Context, c *ssm.Client, s *spec.Spec) ([]SecretInfo, error) {
	prefix := s.SecretPrefix()
	inSpec := map[string]bool{}
	for _, n := range s.Service.Secrets {
		inSpec[n] = true
	}
	var out []SecretInfo
	in := &ssm.DescribeParametersInput{
		ParameterFilters: []ssmtypes.ParameterStringFilter{{
			Key: aws.String("Path"), Option: aws.String("OneLevel"), Values: []string{strings.TrimSuffix(prefix, "/")},
		}},
		MaxResults: aws.Int32(50),
	}
	for {
		page, err := call(ctx, func(ctx context.Context) (*ssm.DescribeParametersOutput, error) {
			return c.DescribeParameters(ctx, in)
		})
		if err != nil {
			return nil, fmt.Errorf("listing secrets under %s: %w", prefix, err)
		}
		for _, p := range page.Parameters {
			full := aws.ToString(p.Name)
			name := strings.TrimPrefix(full, prefix)
			out = append(out, SecretInfo{Name: name, Parameter: full, Version: p.Version,
				LastModified: aws.ToTime(p.LastModifiedDate), InSpec: inSpec[name]})
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ErrSecretNotFound is returned by DeleteSecret for a name that is not stored.
var ErrSecretNotFound = errors.New("secret not found")

// DeleteSecret removes a secret.
func DeleteSecret(ctx context.Context, c *ssm.Client, s *spec.Spec, name string) error {
	if err := ValidateSecretName(name); err != nil {
		return err
	}
	if err := databasePasswordGuard(s, name, "deleted"); err != nil {
		return err
	}
	param := s.SecretParameter(name)
	_, err := call(ctx, func(ctx context.Context) (*ssm.DeleteParameterOutput, error) {
		return c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(param)})
	})
	var nf *ssmtypes.ParameterNotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("%w: %s (%s); lowfare secrets list shows what is stored", ErrSecretNotFound, name, param)
	}
	if err != nil {
		return fmt.Errorf("deleting secret %s (%s): %w", name, param, err)
	}
	return nil
}

// MissingSecrets returns the names in the spec's service.secrets that have
// no parameter under its prefix, in spec order. deploy refuses while any is
// missing. Values are not decrypted.
func MissingSecrets(ctx context.Context, c *ssm.Client, s *spec.Spec) ([]string, error) {
	var missing []string
	names := s.Service.Secrets
	const batch = 10 // GetParameters takes at most 10 names
	for start := 0; start < len(names); start += batch {
		chunk := names[start:min(start+batch, len(names))]
		params := make([]string, len(chunk))
		for i, n := range chunk {
			params[i] = s.SecretParameter(n)
		}
		out, err := call(ctx, func(ctx context.Context) (*ssm.GetParametersOutput, error) {
			return c.GetParameters(ctx, &ssm.GetParametersInput{Names: params, WithDecryption: aws.Bool(false)})
		})
		if err != nil {
			return nil, fmt.Errorf("checking secrets under %s: %w", s.SecretPrefix(), err)
		}
		invalid := map[string]bool{}
		for _, p := range out.InvalidParameters {
			invalid[p] = true
		}
		for i, n := range chunk {
			if invalid[params[i]] {
				missing = append(missing, n)
			}
		}
	}
	return missing, nil
}
