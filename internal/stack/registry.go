package stack

import (
	"encoding/json"

	"github.com/lowfare/lowfare/internal/cfn"
)

// keepImages is how many of the newest images the repository keeps, and
// the running one whatever its age; older ones expire. Rollbacks reach back
// this many pushes.
const keepImages = 10

// LiveImageTag is the tag deploy moves to the image the main stack runs
// once a deploy succeeds (internal/cli). The lifecycle policy never expires
// the image that carries it.
const LiveImageTag = "lowfare-live"

// lifecyclePolicy expires untagged and superseded images but never the
// running one. A failed deploy pushes an image too, so a blanket "keep the
// last 10" could expire the image the stack still runs after ten failed
// deploys, and the next task start could not pull it. ECR evaluates rules
// from the lowest rulePriority up, and "an image that matches the tagging
// requirements of a rule cannot be expired by a rule with a lower
// priority" (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html,
// "How lifecycle policies work"; rule fields:
// https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html):
//  1. images tagged LiveImageTag: at most one image has a tag, so "more
//     than 1" never expires it, and the lower rules may not;
//  2. untagged images (a re-pushed tag's old image) a day after their push;
//  3. everything else beyond the keepImages newest ("any" must come last).
func lifecyclePolicy() string {
	policy, err := json.Marshal(map[string]any{
		"rules": []any{
			map[string]any{
				"rulePriority": 1,
				"description":  "never expire the image the stack runs (deploy tags it " + LiveImageTag + ")",
				"selection": map[string]any{
					"tagStatus":     "tagged",
					"tagPrefixList": []any{LiveImageTag},
					"countType":     "imageCountMoreThan",
					"countNumber":   1,
				},
				"action": map[string]any{"type": "expire"},
			},
			map[string]any{
				"rulePriority": 2,
				"description":  "expire untagged images a day after their push",
				"selection": map[string]any{
					"tagStatus":   "untagged",
					"countType":   "sinceImagePushed",
					"countUnit":   "days",
					"countNumber": 1,
				},
				"action": map[string]any{"type": "expire"},
			},
			map[string]any{
				"rulePriority": 3,
				"description":  "keep the last images, for rollbacks",
				"selection": map[string]any{
					"tagStatus":   "any",
					"countType":   "imageCountMoreThan",
					"countNumber": keepImages,
				},
				"action": map[string]any{"type": "expire"},
			},
		},
	})
	if err != nil {
		panic(err) // strings and numbers: cannot fail
	}
	return string(policy)
}

// lambdaPullPolicy lets Lambda pull the function's image: for a container
// image in the same account Lambda needs ecr:BatchGetImage and
// ecr:GetDownloadUrlForLayer in the repository policy, limited to the
// account's functions in this region with aws:sourceArn
// (https://docs.aws.amazon.com/lambda/latest/dg/images-create.html#gettingstarted-images-permissions).
// Without it, creating the function depends on the deployer's
// ecr:SetRepositoryPolicy, and the next bootstrap update would remove what
// Lambda added.
func lambdaPullPolicy() map[string]any {
	return map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":       "LambdaECRImageRetrievalPolicy",
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": "lambda.amazonaws.com"},
			"Action":    []any{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"},
			"Condition": map[string]any{"StringLike": map[string]any{
				"aws:sourceArn": cfn.Sub("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:*"),
			}},
		}},
	}
}

// registry is the bootstrap stack: the ECR repository the image is pushed
// to before the main stack can run it. Its own stack, because the main
// stack's first deploy already needs the image. Only for an image lowfare
// pushes (a Go package it builds, an image on disk): an image reference
// runs from its own registry, and a repository would hold nothing, so
// there is no bootstrap stack (Result.Bootstrap is nil).
func (b *builder) registry() {
	if !b.s.Service.Pushed() {
		return
	}
	props := cfn.Props{
		"RepositoryName": b.n.Repository,
		// Scan every pushed image for known vulnerabilities (basic scanning
		// is free).
		"ImageScanningConfiguration": map[string]any{"ScanOnPush": true},
		// Deploys run images by digest, never by tag, so tags may move;
		// mutable tags let a re-push of the same revision succeed and
		// LiveImageTag follow the running image.
		"ImageTagMutability":      "MUTABLE",
		"EncryptionConfiguration": map[string]any{"EncryptionType": "AES256"},
		"LifecyclePolicy":         map[string]any{"LifecyclePolicyText": lifecyclePolicy()},
		// The images are rebuilt from source; `lowfare destroy` must not
		// fail on a non-empty repository.
		"EmptyOnDelete": true,
	}
	if !b.s.ECS() || (b.s.Service.Idle.ServesApp() && b.s.Service.LocalPackage()) {
		// Profile serverless's function, or service.idle's app function.
		props["RepositoryPolicyText"] = lambdaPullPolicy()
	}
	b.addTo(b.boot, PartRegistry, "Repository", "AWS::ECR::Repository", props)
	b.boot.Outputs[OutputRepositoryURI] = &cfn.Output{Description: "Push images here", Value: cfn.GetAtt("Repository", "RepositoryUri")}
	b.boot.Outputs[OutputRepositoryName] = &cfn.Output{Description: "The ECR repository", Value: cfn.Ref("Repository")}
}

// repositoryARN is the bootstrap repository's ARN, built from its fixed
// name so the main stack needs no cross-stack import.
func (b *builder) repositoryARN() any {
	return cfn.Sub("arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/" + b.n.Repository)
}
