package awsconf

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"
)

// ErrStackNotFound is a CloudFormation stack that does not exist (or no
// longer: deleted). Every package that reads stacks wraps this one value,
// so errors.Is answers the same wherever the error came from.
var ErrStackNotFound = errors.New("stack not found")

// ErrorCode is the API error code of err (such as "ValidationError" or
// "ResourceNotFoundException"), or "" when err is not an AWS API error.
func ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// IsStackNotFound recognises CloudFormation's answer for a stack that does
// not exist. The API has no error code of its own for it: "If the stack
// doesn't exist, a ValidationError is returned", with a message that names
// the stack: "Stack with id X does not exist" (DescribeStacks, GetTemplate,
// DescribeStackEvents, DescribeStackResources), "Stack [X] does not exist"
// (CreateChangeSet of type UPDATE), "Stack for X does not exist"
// (DescribeStackResources by PhysicalResourceId). Newer actions answer
// StackNotFoundException. A ValidationError for anything else (a template
// error, a busy stack) is not this.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html
func IsStackNotFound(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "StackNotFoundException":
		return true
	case "ValidationError":
		msg := ae.ErrorMessage()
		return strings.HasPrefix(msg, "Stack") && strings.Contains(msg, "does not exist")
	}
	return false
}

// IsResourceNotFound recognises ResourceNotFoundException, the answer of
// DynamoDB, CloudWatch Logs, ACM and Lambda for a named resource that does
// not exist.
func IsResourceNotFound(err error) bool {
	return ErrorCode(err) == "ResourceNotFoundException"
}
