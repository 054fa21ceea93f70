package spec

import (
	"strings"
)

// ECRRepository is an Amazon ECR private repository named by an image
// reference: <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<name>[:tag][@digest].
type ECRRepository struct {
	Account, Region, Name string
}

// ARN is the repository's ARN, in the partition its region belongs to.
func (r ECRRepository) ARN() string {
	return "arn:" + partitionOf(r.Region) + ":ecr:" + r.Region + ":" + r.Account + ":repository/" + r.Name
}

// ecrReference matches a private ECR image reference (including the FIPS
// endpoints) and captures account, region and repository name. Repository
// names are lowercase letters, digits and . _ - / (ECR's naming rule).
var ecrReference = newLazyRegexp(`^([0-9]{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`)

// ECR returns the private ECR repository service.image names, if it names
// one; public registries (Docker Hub, ghcr.io, public.ecr.aws) do not.
func (s Service) ECR() (ECRRepository, bool) {
	if s.LocalPackage() {
		return ECRRepository{}, false
	}
	m := ecrReference.FindStringSubmatch(s.Image)
	if m == nil {
		return ECRRepository{}, false
	}
	return ECRRepository{Account: m[1], Region: m[2], Name: m[3]}, true
}

// imageDefaults are service.user and service.readonly_root when the file
// sets neither: lowfare's own images run as BuiltUser on a read-only root
// (they need nothing else); an image lowfare did not build keeps its own
// user and may write anywhere, which is what it was made for.
func imageDefaults(svc Service) (user string, readonlyRoot bool) {
	if svc.LocalPackage() {
		return BuiltUser, true
	}
	return "", false
}

func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}
