package stack

import (
	"slices"
	"strings"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
)

// appFunction is a Lambda function that runs the app from its image, for
// profile serverless (Function) and for service.idle serve: app
// (AppFunction): the same environment as the task (PORT, TABLE_NAME,
// service.env), its secrets through the adapter, the service's memory and
// architecture, the role and log group given. entryPoint overrides the
// image's: images built for ECS start the app itself, so the idle function
// names the adapter with the app's binary as its argument
// (ImageConfig.EntryPoint, https://docs.aws.amazon.com/lambda/latest/api/API_ImageConfig.html).
func (b *builder) appFunction(role, logGroup string, entryPoint []any) cfn.Props {
	s := b.s
	env := b.plainEnv()
	if len(s.Service.Secrets) > 0 {
		// Lambda cannot inject SecureString parameters as ECS does (its
		// Environment takes plain values only): the image's Lambda adapter
		// reads these names under this prefix at init, with the function's
		// role, and gives them to the app as environment variables.
		env["SSM_PARAMETER_PREFIX"] = s.SecretPrefix()
		env["LOWFARE_SECRETS"] = strings.Join(slices.Sorted(slices.Values(s.Service.Secrets)), ",")
	}
	props := cfn.Props{
		"Description":   "lowfare " + s.App + "/" + s.Env,
		"PackageType":   "Image",
		"Code":          map[string]any{"ImageUri": cfn.Ref(ParamImageURI)},
		"Architectures": []any{s.Service.Arch}, // arm64 | x86_64, as Lambda spells them
		"MemorySize":    s.Service.Memory,
		"Timeout":       s.Service.Timeout,
		"Role":          cfn.GetAtt(role, "Arn"),
		"Environment":   map[string]any{"Variables": env},
		"LoggingConfig": map[string]any{"LogGroup": cfn.Ref(logGroup), "LogFormat": "Text"},
	}
	if entryPoint != nil {
		props["ImageConfig"] = map[string]any{"EntryPoint": entryPoint}
	}
	return props
}

// InvokeModeEnv tells lowfare's Lambda adapter (internal/image/adapter,
// stream.go) that the function URL invokes with InvokeModeStream, so it
// answers function URL events as a stream. The adapter cannot tell from an
// event: a function URL sends the same event in either mode.
const (
	InvokeModeEnv    = "LOWFARE_INVOKE_MODE"
	InvokeModeStream = "RESPONSE_STREAM"
)

// StreamsResponses reports whether the function URL streams responses
// (InvokeMode RESPONSE_STREAM): "Lambda invokes your function using the
// InvokeWithResponseStream API operation. The maximum response payload
// size is 200 MB", against 6 MB buffered
// (https://docs.aws.amazon.com/lambda/latest/dg/config-rs-invoke-furls.html).
// So server-sent events and large downloads work, and binary bodies go
// without base64. Only a function URL streams here (API Gateway streams a
// Lambda answer only for REST APIs,
// https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode.html,
// and ingress apigw is an HTTP API), and only with an image lowfare
// builds, whose adapter writes the streamed format; an image of the
// user's own keeps the default, BUFFERED, which any runtime answers.
func StreamsResponses(s *spec.Spec) bool {
	return s.Profile == spec.ProfileServerless && s.Ingress.Kind == spec.IngressURL && s.Service.LocalPackage()
}

// serverless runs the same app as a Lambda function, reached through a
// function URL or an HTTP API. The image lowfare builds for it starts at
// spec.LambdaAdapter, which runs the app on $PORT and turns each Lambda
// invocation into an HTTP request to it, so PORT is set here as on ECS.
// Nothing runs, and nothing is billed, between requests.
func (b *builder) serverless() {
	s := b.s
	fn := b.appFunction("FunctionRole", "LogGroup", nil)
	// A public URL would otherwise run as many instances as the account
	// allows (1,000 by default), each billed. Reserved concurrency caps the
	// function at service.concurrency and costs nothing itself:
	// https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
	// ("Reserved concurrency acts as both a lower and upper bound ...
	// Configuring reserved concurrency for a function incurs no additional
	// charges"). The same page: "You can reserve up to the Unreserved
	// account concurrency value that is shown, minus 100 for functions that
	// don't have reserved concurrency", so an account whose limit is below
	// concurrency+100 (new accounts may start at 10) fails the deploy:
	// preflight checks this first and points to concurrency: 0. Only the
	// serverless function reserves: the idle function of serve: app
	// answers only while the service sleeps, and the wake alarm bounds
	// how long that lasts.
	if s.Service.Concurrency > 0 {
		// 0 reserves none: Lambda's own 0 would throttle every request.
		fn["ReservedConcurrentExecutions"] = s.Service.Concurrency
	}
	if StreamsResponses(s) {
		fn["Environment"].(map[string]any)["Variables"].(map[string]any)[InvokeModeEnv] = InvokeModeStream
	}
	b.add(PartServerless, "Function", "AWS::Lambda::Function", fn)
	b.output(OutputFunction, "The Lambda function", cfn.Ref("Function"))

	if s.Ingress.Kind == spec.IngressAPIGW {
		b.httpAPI(cfn.Props{
			"IntegrationType":      "AWS_PROXY",
			"IntegrationUri":       cfn.GetAtt("Function", "Arn"),
			"PayloadFormatVersion": "2.0",
		})
		b.add(PartServerless, "ApiPermission", "AWS::Lambda::Permission", cfn.Props{
			"FunctionName": cfn.Ref("Function"),
			"Action":       "lambda:InvokeFunction",
			"Principal":    "apigateway.amazonaws.com",
			"SourceArn":    cfn.Sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*"),
		})
	} else {
		url := cfn.Props{
			"TargetFunctionArn": cfn.GetAtt("Function", "Arn"),
			// The app authenticates its own admin calls; the redirects are
			// public by design.
			"AuthType": "NONE",
		}
		if StreamsResponses(s) {
			url["InvokeMode"] = InvokeModeStream
		}
		b.add(PartIngress, "FunctionUrl", "AWS::Lambda::Url", url)
		b.add(PartIngress, "FunctionUrlPermission", "AWS::Lambda::Permission", cfn.Props{
			"FunctionName":        cfn.Ref("Function"),
			"Action":              "lambda:InvokeFunctionUrl",
			"Principal":           "*",
			"FunctionUrlAuthType": "NONE",
		})
		// Since October 2025 a new public URL also needs InvokeFunction,
		// granted only for invocations that come through the URL.
		b.add(PartIngress, "FunctionUrlInvokePermission", "AWS::Lambda::Permission", cfn.Props{
			"FunctionName":          cfn.Ref("Function"),
			"Action":                "lambda:InvokeFunction",
			"Principal":             "*",
			"InvokedViaFunctionUrl": true,
		})
		b.urlValue = cfn.GetAtt("FunctionUrl", "FunctionUrl")
	}
	b.output(OutputURL, "Where the app answers", b.urlValue)
}
