package awsfake

import (
	"encoding/base64"
	"time"
)

// ECR is a fake of the ECR calls a push needs, GetAuthorizationToken, and
// DescribeRepositories (for a bootstrap stack without outputs), on the real
// JSON 1.1 protocol (X-Amz-Target
// AmazonEC2ContainerRegistry_V20150921.<Operation>). Point the SDK at it
// with AWS_ENDPOINT_URL_ECR or BaseEndpoint.
type ECR struct {
	*JSONService

	// Username and Password are what the token decodes to.
	Username, Password string
	// ProxyEndpoint is returned as the registry's endpoint.
	ProxyEndpoint string
	// Repositories maps the repositories DescribeRepositories knows to
	// their URIs.
	Repositories map[string]string
}

// NewECR returns a fake whose token is AWS:<password>.
func NewECR(proxyEndpoint, password string) *ECR {
	f := &ECR{Username: "AWS", Password: password, ProxyEndpoint: proxyEndpoint}
	f.JSONService = &JSONService{
		TargetPrefix: "AmazonEC2ContainerRegistry_V20150921",
		Version:      "1.1",
		Ops: map[string]JSONOp{
			"GetAuthorizationToken": Handle(f.getAuthorizationToken),
			"DescribeRepositories":  Handle(f.describeRepositories),
		},
	}
	return f
}

type ecrAuthData struct {
	AuthorizationToken string  `json:"authorizationToken"`
	ExpiresAt          float64 `json:"expiresAt"`
	ProxyEndpoint      string  `json:"proxyEndpoint"`
}

func (f *ECR) getAuthorizationToken(struct{ RegistryIds []string }) (any, error) {
	token := base64.StdEncoding.EncodeToString([]byte(f.Username + ":" + f.Password))
	return struct {
		AuthorizationData []ecrAuthData `json:"authorizationData"`
	}{[]ecrAuthData{{
		AuthorizationToken: token,
		ExpiresAt:          float64(time.Now().Add(12 * time.Hour).Unix()),
		ProxyEndpoint:      f.ProxyEndpoint,
	}}}, nil
}

func (f *ECR) describeRepositories(in struct{ RepositoryNames []string }) (any, error) {
	type repo struct {
		RepositoryName string `json:"repositoryName"`
		RepositoryURI  string `json:"repositoryUri"`
	}
	var out []repo
	for _, n := range in.RepositoryNames {
		uri, ok := f.Repositories[n]
		if !ok {
			return nil, Errorf("RepositoryNotFoundException", "The repository with name '%s' does not exist in the registry with id '123456789012'", n)
		}
		out = append(out, repo{n, uri})
	}
	return struct {
		Repositories []repo `json:"repositories"`
	}{out}, nil
}
