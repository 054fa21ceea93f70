package stack

import "github.com/lowfare/lowfare/internal/cfn"

// logs is the one log group the service (or function) writes to, with the
// spec's retention: logs are the first thing to grow a bill unseen.
func (b *builder) logs() {
	b.add(PartLogs, "LogGroup", "AWS::Logs::LogGroup", cfn.Props{
		"LogGroupName":    b.n.LogGroup,
		"RetentionInDays": b.s.Logs.RetentionDays,
	})
	b.output(OutputLogGroup, "The service's log group", cfn.Ref("LogGroup"))
}
