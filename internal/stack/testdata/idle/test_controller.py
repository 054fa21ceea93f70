# The wake controller (internal/stack/idle_controller.py, as the template
# carries it) against moto_server with boto3, the SDK its Lambda runtime
# has. go test runs this file (TestIdleControllerAgainstMoto) with:
#   MOTO_URL         the private moto_server of that test
#   CONTROLLER_PLAIN the controller's source without a schedule
#   CONTROLLER_SCHED the controller's source with closed pages
#   EXPECTED         a JSON file of the pages internal/wakepage renders
# The controller's clock is its now() function; the schedule tests replace
# it with a fixed time, nothing else is stubbed.
import datetime
import importlib.util
import json
import os
import sys
import threading
import unittest
import zoneinfo

import boto3

MOTO = os.environ["MOTO_URL"]
os.environ.update({
    "AWS_ENDPOINT_URL": MOTO, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
})
EXPECTED = json.load(open(os.environ["EXPECTED"]))
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
WINDOWS = "[[[1,2,3,4,5],480,1200],[[6],600,840]]"  # Mon-Fri 08:00-20:00, Sat 10:00-14:00



# Stricter target health than moto's, which reports every registered target
# healthy (moto/elbv2/models.py FakeTargetGroup.health_for). On AWS "health
# checks are performed on all targets registered to a target group that is
# specified in a listener rule for your load balancer"
# (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html),
# and the targets of a target group no rule names are "unused", reason
# Target.NotInUse
# (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html).
# botocore's event hooks put that rule into every DescribeTargetHealth
# answer of the default session, the one the controller's clients come from.
_probe = boto3.session.Session().client("elbv2")  # a session of its own: no hooks


def _named(action):
    tgs = [action.get("TargetGroupArn")]
    tgs += [t["TargetGroupArn"] for t in action.get("ForwardConfig", {}).get("TargetGroups", [])]
    return [t for t in tgs if t]


def target_group_in_use(tg):
    for lb in _probe.describe_load_balancers()["LoadBalancers"]:
        for lst in _probe.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
            actions = list(lst["DefaultActions"])
            for rule in _probe.describe_rules(ListenerArn=lst["ListenerArn"])["Rules"]:
                actions += rule["Actions"]
            if any(tg in _named(a) for a in actions):
                return True
    return False


def _remember_target_group(params, context, **_):
    context["lowfare_tg"] = params.get("TargetGroupArn")


def _not_in_use(parsed, context, **_):
    tg = context.get("lowfare_tg")
    if tg and not target_group_in_use(tg):
        for d in parsed.get("TargetHealthDescriptions", []):
            d["TargetHealth"] = {"State": "unused", "Reason": "Target.NotInUse",
                                 "Description": "Target group is not configured to receive traffic from the load balancer"}


boto3.setup_default_session()
boto3.DEFAULT_SESSION.events.register("before-parameter-build.elastic-load-balancing-v2.DescribeTargetHealth", _remember_target_group)
boto3.DEFAULT_SESSION.events.register("after-call.elastic-load-balancing-v2.DescribeTargetHealth", _not_in_use)

ecs = boto3.client("ecs")
aas = boto3.client("application-autoscaling")
elb = boto3.client("elbv2")
ec2 = boto3.client("ec2")
api = boto3.client("apigatewayv2")
sd = boto3.client("servicediscovery")

counter = [0]


def fresh_service():
    """A cluster and a service at one task, registered with Application Auto Scaling."""
    counter[0] += 1
    n = counter[0]
    cluster = f"c{n}"
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(family=f"f{n}", containerDefinitions=[{"name": "app", "image": "app", "memory": 512}])
    svc = ecs.create_service(cluster=cluster, serviceName="links", taskDefinition=f"f{n}", desiredCount=1)["service"]
    rid = f"service/{cluster}/links"
    aas.register_scalable_target(ServiceNamespace="ecs", ScalableDimension="ecs:service:DesiredCount",
                                 ResourceId=rid, MinCapacity=1, MaxCapacity=2)
    return cluster, svc["serviceArn"], rid


def load(source_env, env):
    """Import the controller as Lambda would, with its environment."""
    for k in ["WINDOWS", "TZ_NAME", "LISTENERS", "SERVICE_TG", "CONTROLLER_TG_NAME", "API_ID", "ROUTE_ID",
              "SERVICE_INTEGRATION", "DISCOVERY_SERVICE"]:
        os.environ.pop(k, None)
    os.environ.update(env)
    counter[0] += 1
    spec = importlib.util.spec_from_file_location(f"controller{counter[0]}", os.environ[source_env])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def alb_event(accept="text/html,application/xhtml+xml,*/*;q=0.8"):
    return {"requestContext": {"elb": {"targetGroupArn": "arn"}}, "httpMethod": "GET", "path": "/",
            "headers": {"accept": accept, "host": "example"}, "body": "", "isBase64Encoded": False}


def api_event(accept="application/json"):
    return {"version": "2.0", "routeKey": "$default", "rawPath": "/", "headers": {"accept": accept},
            "requestContext": {"http": {"method": "GET", "path": "/"}}}


ALARM = {"source": "aws.cloudwatch", "alarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:idle",
         "alarmData": {"alarmName": "idle", "state": {"value": "ALARM"}, "previousState": {"value": "OK"}}}


class Base(unittest.TestCase):
    def desired(self):
        return ecs.describe_services(cluster=self.cluster, services=["links"])["services"][0]["desiredCount"]

    def bounds(self):
        t = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[self.rid])["ScalableTargets"][0]
        return t["MinCapacity"], t["MaxCapacity"]

    def tags(self):
        got = ecs.list_tags_for_resource(resourceArn=self.arn)["tags"]
        return {t["key"]: t["value"] for t in got}

    def state(self):
        t = self.tags()
        return t.get("lowfare:sleep"), t.get("lowfare:sleep-reason")


class ALB(Base):
    def setUp(self):
        self.cluster, self.arn, self.rid = fresh_service()
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
                   for i, az in enumerate(["us-east-1a", "us-east-1b"])]
        lb = elb.create_load_balancer(Name=f"lb{counter[0]}", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        self.service_tg = elb.create_target_group(Name=f"svc{counter[0]}", Protocol="HTTP", Port=8080, VpcId=vpc,
                                                  TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        wake_name = f"wake{counter[0]}"
        self.wake_tg = elb.create_target_group(Name=wake_name, TargetType="lambda")["TargetGroups"][0]["TargetGroupArn"]
        self.listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "forward", "TargetGroupArn": self.service_tg}])["Listeners"][0]["ListenerArn"]
        # The rule the template adds (ServiceAnchorRule): the service's
        # target group stays in a listener rule while the default action
        # points at the controller.
        self.anchor = elb.create_rule(ListenerArn=self.listener, Priority=50000, Conditions=[
            {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Lowfare-Anchor", "Values": ["x"]}}],
            Actions=[{"Type": "forward", "TargetGroupArn": self.service_tg}])["Rules"][0]["RuleArn"]
        self.env = {"INGRESS": "alb", "CLUSTER": self.cluster, "SERVICE": "links", "MIN": "1", "MAX": "2", "RETRY_AFTER": "5", "LISTENERS": self.listener,
                    "SERVICE_TG": self.service_tg, "CONTROLLER_TG_NAME": wake_name}
        self.c = load("CONTROLLER_PLAIN", self.env)

    def routed_to(self):
        return elb.describe_listeners(ListenerArns=[self.listener])["Listeners"][0]["DefaultActions"][0]["TargetGroupArn"]

    def test_idle_alarm_then_request_then_healthy(self):
        # Idle alarm -> zero tasks, bounds 0/0 (target tracking cannot start
        # one), ingress to the controller.
        self.assertEqual(self.c.handler(ALARM, None), {"state": "asleep"})
        self.assertEqual(self.desired(), 0)
        self.assertEqual(self.bounds(), (0, 0))
        self.assertEqual(self.routed_to(), self.wake_tg)
        self.assertEqual(self.state(), ("asleep", "idle"))
        # The alarm again (a second ALARM action) changes nothing.
        self.assertEqual(self.c.handler(ALARM, None), {"state": "already asleep"})

        # A browser's request while asleep: the waking page, and one task.
        r = self.c.handler(alb_event(), None)
        want = EXPECTED["waking_html"]
        self.assertEqual((r["statusCode"], r["body"], r["headers"]), (want["Status"], want["Body"], want["Headers"]))
        self.assertEqual(r["statusDescription"], "503 Service Unavailable")
        self.assertIs(r["isBase64Encoded"], False)
        self.assertEqual(self.desired(), 1)
        self.assertEqual(self.bounds(), (1, 2))
        self.assertEqual(self.state(), ("waking", "request"))
        self.assertEqual(self.routed_to(), self.wake_tg)

        # An API client's request while no task is healthy yet: JSON, and
        # the ingress stays with the controller.
        r = self.c.handler(alb_event("application/json"), None)
        want = EXPECTED["waking_json"]
        self.assertEqual((r["statusCode"], r["body"], r["headers"]), (want["Status"], want["Body"], want["Headers"]))
        self.assertEqual(self.routed_to(), self.wake_tg)
        self.assertEqual(self.desired(), 1)

        # ECS registers the task and it passes the health check (moto marks a
        # registered IP target healthy, and the anchor rule keeps its target
        # group in use): the next request routes the ingress back.
        elb.register_targets(TargetGroupArn=self.service_tg, Targets=[{"Id": "10.0.0.10", "Port": 8080}])
        self.c.handler(alb_event(), None)
        self.assertEqual(self.routed_to(), self.service_tg)
        self.assertEqual(self.state(), ("awake", "request"))
        self.assertEqual(self.desired(), 1)

    def test_without_the_anchor_rule_a_woken_task_is_never_healthy(self):
        # What AWS does without ServiceAnchorRule: once the listener points
        # at the controller, the service's targets are unused and the
        # ingress never routes back.
        elb.delete_rule(RuleArn=self.anchor)
        self.c.handler(ALARM, None)
        self.c.handler(alb_event(), None)
        elb.register_targets(TargetGroupArn=self.service_tg, Targets=[{"Id": "10.0.0.10", "Port": 8080}])
        health = elb.describe_target_health(TargetGroupArn=self.service_tg)["TargetHealthDescriptions"]
        self.assertEqual([(h["TargetHealth"]["State"], h["TargetHealth"].get("Reason")) for h in health], [("unused", "Target.NotInUse")])
        self.c.handler(alb_event(), None)
        self.assertEqual(self.routed_to(), self.wake_tg)

    def test_two_requests_at_once_start_one_task(self):
        self.c.handler(ALARM, None)
        results, errors = [], []

        def call():
            try:
                results.append(self.c.handler(alb_event(), None)["statusCode"])
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=call) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(results, [503, 503])
        self.assertEqual(self.desired(), 1)  # set, not added: one task
        self.assertEqual(self.bounds(), (1, 2))

    def test_manual_sleep_and_wake(self):
        self.assertEqual(self.c.handler({"lowfare": "sleep", "reason": "manual"}, None), {"state": "asleep"})
        self.assertEqual((self.desired(), self.routed_to(), self.state()), (0, self.wake_tg, ("asleep", "manual")))
        self.assertEqual(self.c.handler({"lowfare": "wake", "reason": "manual"}, None), {"state": "waking"})
        self.assertEqual((self.desired(), self.bounds(), self.state()), (1, (1, 2), ("waking", "manual")))

    def test_head_has_no_body(self):
        self.c.handler(ALARM, None)
        ev = alb_event()
        ev["httpMethod"] = "HEAD"
        r = self.c.handler(ev, None)
        self.assertEqual((r["statusCode"], r["body"]), (503, ""))


class Schedule(Base):
    def setUp(self):
        self.cluster, self.arn, self.rid = fresh_service()
        self.api = api.create_api(Name=f"api{counter[0]}", ProtocolType="HTTP")["ApiId"]
        self.svc_int = api.create_integration(ApiId=self.api, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                              IntegrationUri="http://example", PayloadFormatVersion="1.0")["IntegrationId"]
        self.wake_int = api.create_integration(ApiId=self.api, IntegrationType="AWS_PROXY",
                                               IntegrationUri="arn:aws:lambda:us-east-1:123456789012:function:wake",
                                               PayloadFormatVersion="2.0")["IntegrationId"]
        self.route = api.create_route(ApiId=self.api, RouteKey="$default", Target="integrations/" + self.svc_int)["RouteId"]
        ns = sd.create_private_dns_namespace(Name=f"ns{counter[0]}.local", Vpc=f"vpc-{counter[0]}")["OperationId"]
        ns_id = sd.get_operation(OperationId=ns)["Operation"]["Targets"]["NAMESPACE"]
        self.disc = sd.create_service(Name="links", NamespaceId=ns_id, HealthCheckCustomConfig={"FailureThreshold": 1},
                                      DnsConfig={"DnsRecords": [{"Type": "SRV", "TTL": 10}]})["Service"]["Id"]
        self.env = {"INGRESS": "apigw", "CLUSTER": self.cluster, "SERVICE": "links", "MIN": "1", "MAX": "2", "RETRY_AFTER": "5", "API_ID": self.api, "ROUTE_ID": self.route,
                    "SERVICE_INTEGRATION": self.svc_int, "DISCOVERY_SERVICE": self.disc,
                    "TZ_NAME": "Europe/Berlin", "WINDOWS": WINDOWS}
        self.c = load("CONTROLLER_SCHED", self.env)

    def at(self, *ymdhm):
        t = datetime.datetime(*ymdhm, tzinfo=BERLIN)
        self.c.now = lambda: t

    def routed_to(self):
        return api.get_route(ApiId=self.api, RouteId=self.route)["Target"]

    def test_outside_the_schedule_is_closed_and_does_not_wake(self):
        self.c.handler({"lowfare": "sleep", "reason": "schedule"}, None)
        self.assertEqual((self.desired(), self.routed_to(), self.state()),
                         (0, "integrations/" + self.wake_int, ("asleep", "schedule")))
        self.at(2026, 12, 5, 15, 0)  # Saturday 15:00: the Saturday window closed at 14:00
        for accept, key in [("text/html", "closed_html"), ("application/json", "closed_json")]:
            r = self.c.handler(api_event(accept), None)
            want = EXPECTED[key]
            self.assertEqual((r["statusCode"], r["body"], r["headers"]), (want["Status"], want["Body"], want["Headers"]))
        self.assertEqual(self.desired(), 0)
        self.assertEqual(self.state(), ("asleep", "schedule"))

    def test_inside_the_schedule_idle_applies(self):
        self.c.handler(ALARM, None)
        self.at(2026, 12, 7, 9, 30)  # Monday 09:30, inside Mon-Fri 08:00-20:00
        r = self.c.handler(api_event(), None)
        want = EXPECTED["waking_json"]
        self.assertEqual((r["statusCode"], r["body"], r["headers"]), (want["Status"], want["Body"], want["Headers"]))
        self.assertEqual((self.desired(), self.bounds(), self.state()), (1, (1, 2), ("waking", "request")))
        self.assertEqual(self.routed_to(), "integrations/" + self.wake_int)
        # ECS registers the task in Cloud Map and reports it healthy.
        sd.register_instance(ServiceId=self.disc, InstanceId="task-1", Attributes={"AWS_INSTANCE_IPV4": "10.0.0.10", "AWS_INSTANCE_PORT": "8080"})
        sd.update_instance_custom_health_status(ServiceId=self.disc, InstanceId="task-1", Status="UNHEALTHY")
        self.c.handler(api_event(), None)
        self.assertEqual(self.routed_to(), "integrations/" + self.wake_int)
        sd.update_instance_custom_health_status(ServiceId=self.disc, InstanceId="task-1", Status="HEALTHY")
        self.c.handler(api_event(), None)
        self.assertEqual(self.routed_to(), "integrations/" + self.svc_int)
        self.assertEqual(self.state(), ("awake", "request"))

    def test_next_opening(self):
        cases = [
            ((2026, 12, 5, 15, 0), (2026, 12, 7, 8, 0)),   # Sat after the window -> Mon 08:00
            ((2026, 12, 5, 9, 59), (2026, 12, 5, 10, 0)),  # Sat before the window -> the same day
            ((2026, 12, 4, 20, 0), (2026, 12, 5, 10, 0)),  # Fri 20:00 (end is exclusive) -> Sat 10:00
            ((2026, 12, 7, 8, 0), None),                    # Mon 08:00: open
            ((2026, 3, 29, 1, 0), (2026, 3, 30, 8, 0)),    # across the change to summer time
        ]
        for now, want in cases:
            got = self.c.opens_after(datetime.datetime(*now, tzinfo=BERLIN))
            self.assertEqual(got, None if want is None else datetime.datetime(*want, tzinfo=BERLIN), now)
            if want is not None:
                self.assertEqual(got.utcoffset(), datetime.datetime(*want, tzinfo=BERLIN).utcoffset(), now)


if __name__ == "__main__":
    unittest.main(verbosity=2)
