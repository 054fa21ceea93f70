package price

import "math"

// The busy alarm of service.idle serve: app, as the template builds it and
// the estimate and lowfare dev model it, written once.
const (
	// BusyMinutes is how many consecutive minutes at or above the
	// break-even rate wake the service: one busy minute is a burst Lambda
	// serves well; three are traffic a task serves cheaper.
	BusyMinutes = 3
	// DefaultLambdaMS is the average billed duration of one request on
	// Lambda when none is given (lowfare cost --lambda-ms): a cached
	// redirect in Go is a few ms; 50 ms leaves room for DynamoDB. The
	// template's break-even rate assumes it.
	DefaultLambdaMS = 50.0
)

// AppOnLambda describes the two ways of serving one app that
// service.idle.serve: app chooses between: a Fargate task (always billed
// while it runs, with its public IPv4 address) and the same app as a
// Lambda function of the same memory (billed per request).
type AppOnLambda struct {
	// CPU and MemoryMB are the task's size (Fargate units: 1024 = 1 vCPU);
	// the function gets the same memory.
	CPU, MemoryMB int
	// ARM64 prices the task on Graviton (x86 otherwise), and the function
	// too: serve: app runs the app's image on Lambda with the service's
	// architecture, and Lambda bills x86 GB-seconds higher than arm64.
	ARM64 bool
	// LambdaMS is the average billed duration of one request, in ms.
	LambdaMS float64
}

// FargateHourUSD is what one running task costs an hour: vCPU, memory and
// its public IPv4 address (tasks pull images without a NAT gateway).
func (a AppOnLambda) FargateHourUSD(p RegionPrices) float64 {
	cpu, mem := p.FargateVCPUHourX86.USD, p.FargateGBHourX86.USD
	if a.ARM64 {
		cpu, mem = p.FargateVCPUHourARM64.USD, p.FargateGBHourARM64.USD
	}
	return float64(a.CPU)/1024*cpu + float64(a.MemoryMB)/1024*mem + p.PublicIPv4Hour.USD
}

// LambdaRequestUSD is what one request costs on Lambda beyond the free
// tier: the request charge and its GB-seconds.
func (a AppOnLambda) LambdaRequestUSD(p RegionPrices) float64 {
	return p.LambdaMillionRequests.USD/1e6 + a.LambdaMS/1000*float64(a.MemoryMB)/1024*p.LambdaGBSecond(a.ARM64).USD
}

// LambdaGBSecond is the Lambda duration price for an architecture: arm64,
// or x86_64 when arm64 is false.
func (p RegionPrices) LambdaGBSecond(arm64 bool) Price {
	if arm64 {
		return p.LambdaGBSecondARM64
	}
	return p.LambdaGBSecondX86
}

// BreakEvenPerMinute is the request rate above which one Fargate task costs
// less than serving the same requests on Lambda, ignoring Lambda's free
// tier (which only moves the break-even up): the rate at which
// service.idle.serve: app wakes the service. Rounded up to whole requests.
func (a AppOnLambda) BreakEvenPerMinute(p RegionPrices) float64 {
	per := a.LambdaRequestUSD(p)
	if per <= 0 {
		return math.Inf(1)
	}
	return math.Ceil(a.FargateHourUSD(p) / per / 60)
}
