package stack

import (
	"encoding/json"

	"github.com/lowfare/lowfare/internal/cfn"
)

// keepImages is how many images the repository keeps; older ones expire.
// Rollbacks reach back this many deploys.
const keepImages = 10

// registry is the bootstrap stack: the ECR repository the image is pushed
// to before the main stack can run it. Its own stack, because the main
// stack's first deploy already needs the image.
func (b *builder) registry() {
	policy, _ := json.Marshal(map[string]any{
		"rules": []any{map[string]any{
			"rulePriority": 1,
			"description":  "keep the last images, for rollbacks",
			"selection": map[string]any{
				"tagStatus":   "any",
				"countType":   "imageCountMoreThan",
				"countNumber": keepImages,
			},
			"action": map[string]any{"type": "expire"},
		}},
	})
	b.addTo(b.boot, PartRegistry, "Repository", "AWS::ECR::Repository", cfn.Props{
		"RepositoryName": b.n.Repository,
		// Scan every pushed image for known vulnerabilities (basic scanning
		// is free).
		"ImageScanningConfiguration": map[string]any{"ScanOnPush": true},
		// Deploys run images by digest, never by tag, so tags may move;
		// mutable tags let a re-push of the same revision succeed.
		"ImageTagMutability":      "MUTABLE",
		"EncryptionConfiguration": map[string]any{"EncryptionType": "AES256"},
		"LifecyclePolicy":         map[string]any{"LifecyclePolicyText": string(policy)},
		// The images are rebuilt from source; `lowfare destroy` must not
		// fail on a non-empty repository.
		"EmptyOnDelete": true,
	})
	b.boot.Outputs[OutputRepositoryURI] = &cfn.Output{Description: "Push images here", Value: cfn.GetAtt("Repository", "RepositoryUri")}
	b.boot.Outputs[OutputRepositoryName] = &cfn.Output{Description: "The ECR repository", Value: cfn.Ref("Repository")}
}

// repositoryARN is the bootstrap repository's ARN, built from its fixed
// name so the main stack needs no cross-stack import.
func (b *builder) repositoryARN() any {
	return cfn.Sub("arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/" + b.n.Repository)
}
