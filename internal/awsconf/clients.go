package awsconf

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// Clients are the service clients a release (deploy, its preflight,
// destroy, diff) uses, all made here from one configuration: an option
// every client needs is set in one place, and a command makes each client
// once.
type Clients struct {
	Config         aws.Config
	CloudFormation *cloudformation.Client
	ECR            *ecr.Client
	DynamoDB       *dynamodb.Client
	SSM            *ssm.Client
	IAM            *iam.Client
	Route53        *route53.Client
	ACM            *acm.Client
	RDS            *rds.Client // the database (spec.Database)
}

// NewClients makes every client from cfg.
func NewClients(cfg aws.Config) *Clients {
	return &Clients{
		Config:         cfg,
		CloudFormation: cloudformation.NewFromConfig(cfg),
		ECR:            ecr.NewFromConfig(cfg),
		DynamoDB:       dynamodb.NewFromConfig(cfg),
		SSM:            ssm.NewFromConfig(cfg),
		IAM:            iam.NewFromConfig(cfg),
		Route53:        route53.NewFromConfig(cfg),
		ACM:            acm.NewFromConfig(cfg),
		RDS:            rds.NewFromConfig(cfg),
	}
}

// Region is the region the clients talk to.
func (c *Clients) Region() string { return c.Config.Region }

// ECRIn is an ECR client for region: the configured one, or a new one for
// an image reference in another region.
func (c *Clients) ECRIn(region string) *ecr.Client {
	if region == c.Config.Region {
		return c.ECR
	}
	return ecr.NewFromConfig(c.Config, func(o *ecr.Options) { o.Region = region })
}
