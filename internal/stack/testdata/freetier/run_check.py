# Runs the daily free tier check once, as the template carries it, against
# moto_server (SSM, SNS, SQS) and lowfare's Free Tier API double, and
# prints what happened as JSON: the handler's result, the emails the alarm
# topic delivered (through an SQS queue subscribed to it), and the state
# parameter. go test runs it (TestFreeTierCheckAgainstMoto) with:
#   MOTO_URL      the test's private moto_server
#   FREETIER_URL  the Free Tier double (internal/awsfake FreeTier)
#   CHECK         a file with the function's Code.ZipFile
#   NOW           the check's clock, ISO 8601 in UTC
#   SERVICES, APP the function's environment, as the template sets it
import datetime
import json
import os
import types

os.environ.update({
    "AWS_ENDPOINT_URL": os.environ["MOTO_URL"], "AWS_ENDPOINT_URL_FREETIER": os.environ["FREETIER_URL"],
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1",
})
import boto3  # noqa: E402  (after the endpoints are set)

sns, sqs, ssm = boto3.client("sns"), boto3.client("sqs"), boto3.client("ssm")
topic = sns.create_topic(Name="alarms")["TopicArn"]
queue = sqs.create_queue(QueueName="mail")["QueueUrl"]
if not sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
    qarn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
try:
    ssm.get_parameter(Name="freetier-state")
except ssm.exceptions.ParameterNotFound:
    ssm.put_parameter(Name="freetier-state", Type="String", Value="{}")  # as the template creates it
os.environ.update({"STATE": "freetier-state", "TOPIC": topic})

index = types.ModuleType("index")
exec(compile(open(os.environ["CHECK"]).read(), "index.py", "exec"), index.__dict__)
fixed = datetime.datetime.fromisoformat(os.environ["NOW"])
index.now = lambda: fixed
result = index.handler({}, None)

emails = []
while True:
    msgs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    if not msgs:
        break
    for m in msgs:
        body = json.loads(m["Body"])
        emails.append({"subject": body.get("Subject"), "message": body["Message"]})
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
state = json.loads(ssm.get_parameter(Name="freetier-state")["Parameter"]["Value"])
print(json.dumps({"result": result, "emails": emails, "state": state}))
