package awsfake

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// IAM is an Identity and Access Management fake (awsQuery): GetRole and
// CreateServiceLinkedRole, as AWS answers them. moto is not enough here:
// it names the ECS role AWSServiceRoleForecs instead of AWSServiceRoleForECS
// and answers a second create with EntityAlreadyExists, where AWS says
// InvalidInput "... has been taken in this account"
// (moto/iam/models.py, create_service_linked_role).
type IAM struct {
	*queryXMLFake
	Account string
	// DenyCreate makes CreateServiceLinkedRole answer AccessDenied;
	// DenyGet does the same for GetRole.
	DenyCreate, DenyGet bool

	rmu   sync.Mutex
	roles map[string]string // name -> path
}

// NewIAM returns an IAM fake with no roles.
func NewIAM(account string) *IAM {
	f := &IAM{Account: account, roles: map[string]string{}}
	f.queryXMLFake = &queryXMLFake{
		xmlns: "https://iam.amazonaws.com/doc/2010-05-08/",
		ops: map[string]func(url.Values) (any, error){
			"GetRole":                 f.getRole,
			"CreateServiceLinkedRole": f.createServiceLinkedRole,
		},
	}
	return f
}

// HasRole reports whether the role exists.
func (f *IAM) HasRole(name string) bool {
	f.rmu.Lock()
	defer f.rmu.Unlock()
	_, ok := f.roles[name]
	return ok
}

type iamRoleXML struct {
	RoleName string `xml:"RoleName"`
	Path     string `xml:"Path"`
	Arn      string `xml:"Arn"`
	RoleID   string `xml:"RoleId"`
}

func (f *IAM) role(name string) any {
	return struct {
		XMLName xml.Name   `xml:"R"`
		Role    iamRoleXML `xml:"Role"`
	}{Role: iamRoleXML{RoleName: name, Path: f.roles[name], Arn: "arn:aws:iam::" + f.Account + ":role" + f.roles[name] + name, RoleID: "AROAFAKE"}}
}

func (f *IAM) getRole(form url.Values) (any, error) {
	f.rmu.Lock()
	defer f.rmu.Unlock()
	name := form.Get("RoleName")
	if f.DenyGet {
		return nil, &APIError{Status: http.StatusForbidden, Type: "AccessDenied", Message: "User: arn:aws:iam::" + f.Account + ":user/fake is not authorized to perform: iam:GetRole"}
	}
	if _, ok := f.roles[name]; !ok {
		return nil, &APIError{Status: http.StatusNotFound, Type: "NoSuchEntity", Message: "The role with name " + name + " cannot be found."}
	}
	return f.role(name), nil
}

// serviceRoleNames are the service-linked role names AWS gives the
// services lowfare uses.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html
var serviceRoleNames = map[string]string{"ecs.amazonaws.com": "AWSServiceRoleForECS"}

func (f *IAM) createServiceLinkedRole(form url.Values) (any, error) {
	f.rmu.Lock()
	defer f.rmu.Unlock()
	if f.DenyCreate {
		return nil, &APIError{Status: http.StatusForbidden, Type: "AccessDenied", Message: "User: arn:aws:iam::" + f.Account + ":user/fake is not authorized to perform: iam:CreateServiceLinkedRole"}
	}
	svc := form.Get("AWSServiceName")
	name, ok := serviceRoleNames[svc]
	if !ok {
		return nil, Errorf("InvalidInput", "Service %s is not a valid service name.", strings.TrimSpace(svc))
	}
	if _, ok := f.roles[name]; ok {
		return nil, Errorf("InvalidInput", "Service role name %s has been taken in this account, please try a different suffix.", name)
	}
	f.roles[name] = "/aws-service-role/" + svc + "/"
	return f.role(name), nil
}
