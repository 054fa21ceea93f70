// Package ddblocal builds DynamoDB clients for local endpoints (minidyn,
// dynalite, lowfare dev): one definition for the dev stack, the data tools
// and the tests.
package ddblocal

import (
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lowfare/lowfare/internal/awsconf"
)

// CallTimeout bounds every call to a local endpoint.
const CallTimeout = 30 * time.Second

// NewClient returns a client for endpoint with dummy credentials (local
// endpoints accept any) in us-east-1 and a timeout on every call. It skips
// the SDK's CRC32 response check: the endpoint may be minidyn alone (tests)
// or one the user named, which may send no X-Amz-Crc32 header, and the SDK
// would log a warning for every response. (The dev endpoint sends it:
// lowfare dev puts internal/ddbfront in front of minidyn, for the app's
// own clients, which check it.) Its HTTP client owns
// its request bodies (see awsconf.OwnBodies: without it, about one call in
// a few hundred failed with "use of closed network connection").
func NewClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:                          "us-east-1",
		BaseEndpoint:                    aws.String(endpoint),
		Credentials:                     credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:                      awsconf.OwnBodies(&http.Client{Timeout: CallTimeout}),
		DisableValidateResponseChecksum: true,
	})
}
