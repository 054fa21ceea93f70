package awsfake

import (
	"encoding/xml"
	"net/url"
)

// STS is a Security Token Service fake (awsQuery): GetCallerIdentity for
// one fixed account.
type STS struct {
	*queryXMLFake
	Account string
}

// NewSTS returns an STS fake that reports account as the caller's.
func NewSTS(account string) *STS {
	f := &STS{Account: account}
	f.queryXMLFake = &queryXMLFake{
		xmlns: "https://sts.amazonaws.com/doc/2011-06-15/",
		ops:   map[string]func(url.Values) (any, error){"GetCallerIdentity": f.getCallerIdentity},
	}
	return f
}

func (f *STS) getCallerIdentity(url.Values) (any, error) {
	return struct {
		XMLName xml.Name `xml:"R"`
		Arn     string   `xml:"Arn"`
		UserID  string   `xml:"UserId"`
		Account string   `xml:"Account"`
	}{Arn: "arn:aws:iam::" + f.Account + ":user/fake", UserID: "AIDAFAKE", Account: f.Account}, nil
}
