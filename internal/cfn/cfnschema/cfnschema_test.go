package cfnschema

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/lowfare/lowfare/internal/cfn"
)

var (
	regOnce sync.Once
	reg     *Registry
	regErr  error
)

func registry(t *testing.T) *Registry {
	t.Helper()
	regOnce.Do(func() {
		dir, err := RainSchemaDir(context.Background())
		if err != nil {
			regErr = err
			return
		}
		reg = Open(dir)
	})
	if regErr != nil {
		t.Fatalf("registry schemas: %v", regErr)
	}
	return reg
}

func TestPath(t *testing.T) {
	p, err := Path("AWS::ECS::TaskDefinition")
	if err != nil || p != "aws/ecs/taskdefinition.json" {
		t.Errorf("Path = %q, %v", p, err)
	}
	if _, err := Path("Custom::Thing"); err == nil {
		t.Error("Path accepted a non-AWS type")
	}
}

// good is a small valid template that uses intrinsics where the schema wants
// integers, strings and arrays.
func good() *cfn.Template {
	t := cfn.New("good")
	t.Parameters["Port"] = &cfn.Parameter{Type: "Number"}
	t.Add("Vpc", &cfn.Resource{Type: "AWS::EC2::VPC", Properties: cfn.Props{"CidrBlock": "10.0.0.0/16"}})
	t.Add("Group", &cfn.Resource{Type: "AWS::EC2::SecurityGroup", Properties: cfn.Props{
		"GroupDescription": "web",
		"VpcId":            cfn.Ref("Vpc"),
		"SecurityGroupIngress": []any{map[string]any{
			"IpProtocol": "tcp", "FromPort": cfn.Ref("Port"), "ToPort": cfn.Ref("Port"), "CidrIp": cfn.GetAtt("Vpc", "CidrBlock"),
		}},
		"Tags": cfn.TagList(map[string]string{"a": "b"}),
	}})
	t.Add("Repo", &cfn.Resource{Type: "AWS::ECR::Repository", Properties: cfn.Props{
		"ImageScanningConfiguration": map[string]any{"ScanOnPush": true},
	}})
	t.Outputs["Uri"] = &cfn.Output{Value: cfn.Sub("${Repo.RepositoryUri}:${AWS::Region}")}
	return t
}

func TestGoodTemplateValidates(t *testing.T) {
	problems, err := registry(t).ValidateTemplate(good())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

func TestBrokenTemplatesFail(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(*cfn.Template)
		want   string
	}{
		{"unknown property", func(t *cfn.Template) { t.Resources["Repo"].Properties["ScanOnPush"] = true }, "ScanOnPush"},
		{"read-only property", func(t *cfn.Template) { t.Resources["Repo"].Properties["Arn"] = "arn:x" }, "read-only"},
		{"missing required", func(t *cfn.Template) { delete(t.Resources["Group"].Properties, "GroupDescription") }, "GroupDescription"},
		{"wrong type", func(t *cfn.Template) {
			t.Resources["Repo"].Properties["ImageScanningConfiguration"] = map[string]any{"ScanOnPush": "yes"}
		}, "ScanOnPush"},
		{"enum", func(t *cfn.Template) { t.Resources["Repo"].Properties["ImageTagMutability"] = "SOMETIMES" }, "ImageTagMutability"},
		{"unknown type", func(t *cfn.Template) { t.Add("X", &cfn.Resource{Type: "AWS::EC2::Nope"}) }, "no registry schema"},
		{"dangling Ref", func(t *cfn.Template) { t.Resources["Group"].Properties["VpcId"] = cfn.Ref("Nope") }, "Ref Nope"},
		{"dangling GetAtt", func(t *cfn.Template) { t.Resources["Group"].Properties["VpcId"] = cfn.GetAtt("Nope", "VpcId") }, "Nope"},
		{"unknown attribute", func(t *cfn.Template) { t.Resources["Group"].Properties["VpcId"] = cfn.GetAtt("Vpc", "Colour") }, "no attribute Colour"},
		{"dangling Sub", func(t *cfn.Template) { t.Outputs["Uri"].Value = cfn.Sub("${Nope.Arn}") }, "${Nope.Arn}"},
		{"bad DependsOn", func(t *cfn.Template) { t.Resources["Repo"].DependsOn = []string{"Nope"} }, "DependsOn"},
		{"bad policy", func(t *cfn.Template) { t.Resources["Repo"].DeletionPolicy = "Keep" }, "DeletionPolicy"},
		{"RetainExceptOnCreate on replace", func(t *cfn.Template) { t.Resources["Repo"].UpdateReplacePolicy = "RetainExceptOnCreate" }, "UpdateReplacePolicy"},
		{"tags as a map where a list is wanted", func(t *cfn.Template) {
			t.Resources["Group"].Properties["Tags"] = cfn.TagMap(map[string]string{"a": "b"})
		}, "Tags"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmpl := good()
			c.break_(tmpl)
			problems, err := registry(t).ValidateTemplate(tmpl)
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) == 0 {
				t.Fatal("the broken template validated")
			}
			var all []string
			for _, p := range problems {
				all = append(all, p.String())
			}
			if !strings.Contains(strings.Join(all, "\n"), c.want) {
				t.Errorf("no problem mentions %q:\n%s", c.want, strings.Join(all, "\n"))
			}
		})
	}
}

func TestTagsType(t *testing.T) {
	cases := map[string]string{
		"AWS::EC2::VPC":              "array",
		"AWS::ApiGatewayV2::Api":     "object",
		"AWS::CloudWatch::Dashboard": "",
		"AWS::ECS::TaskDefinition":   "array",
	}
	for typ, want := range cases {
		r, err := registry(t).Lookup(typ)
		if err != nil {
			t.Fatal(err)
		}
		if r.TagsType != want {
			t.Errorf("%s: TagsType %q, want %q", typ, r.TagsType, want)
		}
	}
}

// The overlay admits InvokedViaFunctionUrl on a Lambda permission (and
// still checks its type).
func TestOverlay(t *testing.T) {
	tmpl := cfn.New("overlay")
	tmpl.Add("P", &cfn.Resource{Type: "AWS::Lambda::Permission", Properties: cfn.Props{
		"FunctionName": "f", "Action": "lambda:InvokeFunction", "Principal": "*", "InvokedViaFunctionUrl": true,
	}})
	problems, err := registry(t).ValidateTemplate(tmpl)
	if err != nil || len(problems) != 0 {
		t.Fatalf("%v %v", problems, err)
	}
	tmpl.Resources["P"].Properties["InvokedViaFunctionUrl"] = "yes"
	if problems, _ := registry(t).ValidateTemplate(tmpl); len(problems) == 0 {
		t.Error("a string InvokedViaFunctionUrl validated")
	}
}
