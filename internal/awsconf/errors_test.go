package awsconf

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// cfnError is the error the real CloudFormation client returns for an
// awsquery error response with this code and message, as CloudFormation
// sends it (HTTP 400, <ErrorResponse><Error>...).
func cfnError(t *testing.T, code, msg string) error {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`, code, msg)
	}))
	defer srv.Close()
	c := cloudformation.New(cloudformation.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
	})
	_, err := c.DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String("x")})
	if err == nil {
		t.Fatal("no error from the error response")
	}
	return err
}

// ddbError is the error the real DynamoDB client returns for an awsJson
// error response of this type.
func ddbError(t *testing.T, typ, msg string) error {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, typ, msg)
	}))
	defer srv.Close()
	c := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
	})
	_, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("x")})
	if err == nil {
		t.Fatal("no error from the error response")
	}
	return err
}

func TestClassifyRealErrorShapes(t *testing.T) {
	for _, tt := range []struct {
		name          string
		err           func(t *testing.T) error
		code          string
		stack, notRes bool
	}{
		{"DescribeStacks of a missing stack", func(t *testing.T) error {
			return cfnError(t, "ValidationError", "Stack with id lowfare-links-dev does not exist")
		}, "ValidationError", true, false},
		{"UPDATE change set of a missing stack", func(t *testing.T) error {
			return cfnError(t, "ValidationError", "Stack [lowfare-links-dev] does not exist")
		}, "ValidationError", true, false},
		{"no owner of a physical ID", func(t *testing.T) error {
			return cfnError(t, "ValidationError", "Stack for lowfare-links-dev-Table-ABC does not exist")
		}, "ValidationError", true, false},
		{"StackNotFoundException", func(t *testing.T) error {
			return cfnError(t, "StackNotFoundException", "The specified stack ARN doesn't exist")
		}, "StackNotFoundException", true, false},
		{"wrapped by lowfare", func(t *testing.T) error {
			return fmt.Errorf("describing stack x: %w", cfnError(t, "ValidationError", "Stack with id x does not exist"))
		}, "ValidationError", true, false},
		{"a template error is another ValidationError", func(t *testing.T) error {
			return cfnError(t, "ValidationError", "Template format error: JSON not well-formed.")
		}, "ValidationError", false, false},
		{"a busy stack", func(t *testing.T) error {
			return cfnError(t, "ValidationError", "Stack:arn:aws:cloudformation:us-east-1:1:stack/x/1 is in UPDATE_IN_PROGRESS state and can not be updated.")
		}, "ValidationError", false, false},
		{"a missing change set", func(t *testing.T) error { return cfnError(t, "ChangeSetNotFound", "ChangeSet [cs] does not exist") }, "ChangeSetNotFound", false, false},
		{"throttled", func(t *testing.T) error { return cfnError(t, "Throttling", "Rate exceeded") }, "Throttling", false, false},
		{"a missing table", func(t *testing.T) error {
			return ddbError(t, "ResourceNotFoundException", "Requested resource not found: Table: x not found")
		}, "ResourceNotFoundException", false, true},
		{"a protected table", func(t *testing.T) error {
			return ddbError(t, "ValidationException", "Resource cannot be deleted as it is currently protected against deletion.")
		}, "ValidationException", false, false},
		{"not an API error", func(*testing.T) error { return errors.New("Stack with id x does not exist") }, "", false, false},
		{"nil", func(*testing.T) error { return nil }, "", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err(t)
			if got := ErrorCode(err); got != tt.code {
				t.Errorf("ErrorCode(%v) = %q; want %q", err, got, tt.code)
			}
			if got := IsStackNotFound(err); got != tt.stack {
				t.Errorf("IsStackNotFound(%v) = %v", err, got)
			}
			if got := IsResourceNotFound(err); got != tt.notRes {
				t.Errorf("IsResourceNotFound(%v) = %v", err, got)
			}
		})
	}
}
