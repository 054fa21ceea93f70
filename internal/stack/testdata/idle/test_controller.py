# The wake controller (internal/stack/idle_controller.py, as the template
# carries it) against moto_server with boto3, the SDK its Lambda runtime
# has. go test runs this file (TestIdleControllerAgainstMoto) with:
#   MOTO_URL         the private moto_server of that test
#   CONTROLLER_PAGE  the controller's source for serve: page, no schedule
#   CONTROLLER_SCHED the same with closed pages (a schedule)
#   CONTROLLER_APP   the controller's source for serve: app
#   EXPECTED         a JSON file of the pages internal/wakepage renders
# The controller's clock is its now() function; the schedule tests replace
# it with a fixed time. Two things moto does not do are added here, each as
# AWS documents it: target health that depends on listener rules, and a
# VPC link that goes INACTIVE.
import datetime
import http.server
import importlib.util
import json
import os
import threading
import time
import unittest
import zoneinfo

import boto3

MOTO = os.environ["MOTO_URL"]
os.environ.update({
    "AWS_ENDPOINT_URL": MOTO, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
})
EXPECTED = json.load(open(os.environ["EXPECTED"]))
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")  # the test's own reference, not the controller's
BERLIN_RULE = "CET-1CEST,M3.5.0,M10.5.0/3"  # what the template passes (TZ_RULE)
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


def _remember_request(params, context, **_):
    context["lowfare_params"] = params


def _not_in_use(parsed, context, **_):
    tg = context.get("lowfare_params", {}).get("TargetGroupArn")
    if tg and not target_group_in_use(tg):
        for d in parsed.get("TargetHealthDescriptions", []):
            d["TargetHealth"] = {"State": "unused", "Reason": "Target.NotInUse",
                                 "Description": "Target group is not configured to receive traffic from the load balancer"}


# A VPC link's status as API Gateway would report it: "If no traffic is sent
# over the VPC link for 60 days, it becomes INACTIVE ... If API requests
# resume, API Gateway reprovisions network interfaces"
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vpc-links.html).
# moto's links are always AVAILABLE; a test sets LINK_STATUS instead.
LINK_STATUS = {}


def _link_status(parsed, context, **_):
    link = context.get("lowfare_params", {}).get("VpcLinkId")
    if link in LINK_STATUS:
        parsed["VpcLinkStatus"] = LINK_STATUS[link]


boto3.setup_default_session()
_events = boto3.DEFAULT_SESSION.events
_events.register("before-parameter-build.elastic-load-balancing-v2.DescribeTargetHealth", _remember_request)
_events.register("after-call.elastic-load-balancing-v2.DescribeTargetHealth", _not_in_use)
_events.register("before-parameter-build.apigatewayv2.GetVpcLink", _remember_request)
_events.register("after-call.apigatewayv2.GetVpcLink", _link_status)

ecs = boto3.client("ecs")
aas = boto3.client("application-autoscaling")
elb = boto3.client("elbv2")
ec2 = boto3.client("ec2")
api = boto3.client("apigatewayv2")
sd = boto3.client("servicediscovery")
cw = boto3.client("cloudwatch")

counter = [0]


class Probe(http.server.BaseHTTPRequestHandler):
    """The HTTP API's VPC link probe route: a request resumes traffic, and
    API Gateway starts reprovisioning the link."""
    hits = []

    def do_GET(self):
        Probe.hits.append(self.path)
        link = self.path.rsplit("/", 1)[-1]
        if LINK_STATUS.get(link) == "INACTIVE":
            LINK_STATUS[link] = "PENDING"
        self.send_response(503)
        self.end_headers()

    def log_message(self, *_):
        pass


PROBE = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Probe)
threading.Thread(target=PROBE.serve_forever, daemon=True).start()


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
    cw.put_metric_alarm(AlarmName=f"idle{n}", Namespace="AWS/ApiGateway", MetricName="Count", Statistic="Sum",
                        Period=60, EvaluationPeriods=15, Threshold=1, ComparisonOperator="LessThanThreshold")
    return cluster, svc["serviceArn"], rid, f"idle{n}"


def load(source_env, env):
    """Import the controller as Lambda would, with its environment."""
    for k in ["WINDOWS", "TZ_NAME", "TZ_RULE", "TZ", "LISTENERS", "SERVICE_TG", "CONTROLLER_TG_NAME", "ASLEEP_TG",
              "API_ID", "ROUTE_ID", "SERVICE_INTEGRATION", "ASLEEP_INTEGRATION", "DISCOVERY_SERVICE", "VPC_LINK",
              "PROBE_URL", "BUSY_ALARM", "RETRY_AFTER", "SERVE"]:
        os.environ.pop(k, None)
    time.tzset()
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


def alarm_event(name, state="ALARM"):
    return {"source": "aws.cloudwatch", "alarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + name,
            "alarmData": {"alarmName": name, "state": {"value": state}, "previousState": {"value": "OK"}}}


RECONCILE = {"lowfare": "reconcile"}


class Base(unittest.TestCase):
    serve = "page"
    source = "CONTROLLER_PAGE"

    def common_env(self):
        env = {"CLUSTER": self.cluster, "SERVICE": "links", "MIN": "1", "MAX": "2", "AFTER": "900",
               "IDLE_ALARM": self.idle_alarm, "SERVE": self.serve}
        if self.serve == "app":
            env["BUSY_ALARM"] = "busy" + self.idle_alarm
        else:
            env["RETRY_AFTER"] = "5"
        return env

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

    def woke_ago(self, seconds):
        """Moves the controller's record of the last wake into the past."""
        t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds))
        ecs.tag_resource(resourceArn=self.arn, tags=[{"key": "lowfare:sleep-since", "value": t}])

    def idle(self, state="ALARM"):
        cw.set_alarm_state(AlarmName=self.idle_alarm, StateValue=state, StateReason="test")


class ALBBase(Base):
    def setUp(self):
        self.cluster, self.arn, self.rid, self.idle_alarm = fresh_service()
        n = counter[0]
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
                   for i, az in enumerate(["us-east-1a", "us-east-1b"])]
        lb = elb.create_load_balancer(Name=f"lb{n}", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        self.service_tg = elb.create_target_group(Name=f"svc{n}", Protocol="HTTP", Port=8080, VpcId=vpc,
                                                  TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        asleep_name = f"asleep{n}"
        self.asleep_tg = elb.create_target_group(Name=asleep_name, TargetType="lambda")["TargetGroups"][0]["TargetGroupArn"]
        self.listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "forward", "TargetGroupArn": self.service_tg}])["Listeners"][0]["ListenerArn"]
        # The rule the template adds (ServiceAnchorRule): the service's
        # target group stays in a listener rule while the default action
        # points at a Lambda target group.
        self.anchor = elb.create_rule(ListenerArn=self.listener, Priority=50000, Conditions=[
            {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Lowfare-Anchor", "Values": ["x"]}}],
            Actions=[{"Type": "forward", "TargetGroupArn": self.service_tg}])["Rules"][0]["RuleArn"]
        env = self.common_env()
        env.update({"INGRESS": "alb", "LISTENERS": self.listener, "SERVICE_TG": self.service_tg})
        if self.serve == "app":
            env["ASLEEP_TG"] = self.asleep_tg
        else:
            env["CONTROLLER_TG_NAME"] = asleep_name
        self.c = load(self.source, env)

    def routed_to(self):
        return elb.describe_listeners(ListenerArns=[self.listener])["Listeners"][0]["DefaultActions"][0]["TargetGroupArn"]

    def drift_to_service(self):
        elb.modify_listener(ListenerArn=self.listener, DefaultActions=[{"Type": "forward", "TargetGroupArn": self.service_tg}])

    def task_healthy(self):
        # ECS registers the task; moto marks it healthy, and the strict rule
        # above only while its target group is in a listener rule.
        elb.register_targets(TargetGroupArn=self.service_tg, Targets=[{"Id": "10.0.0.10", "Port": 8080}])

    def to_service(self):
        return self.service_tg

    def to_asleep(self):
        return self.asleep_tg


class APIBase(Base):
    def setUp(self):
        self.cluster, self.arn, self.rid, self.idle_alarm = fresh_service()
        n = counter[0]
        self.api = api.create_api(Name=f"api{n}", ProtocolType="HTTP")["ApiId"]
        self.link = api.create_vpc_link(Name=f"link{n}", SubnetIds=["subnet-1"])["VpcLinkId"]
        self.svc_int = api.create_integration(ApiId=self.api, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                              ConnectionType="VPC_LINK", ConnectionId=self.link,
                                              IntegrationUri="http://example", PayloadFormatVersion="1.0")["IntegrationId"]
        self.asleep_int = api.create_integration(ApiId=self.api, IntegrationType="AWS_PROXY",
                                                 IntegrationUri="arn:aws:lambda:us-east-1:123456789012:function:asleep",
                                                 PayloadFormatVersion="2.0")["IntegrationId"]
        self.route = api.create_route(ApiId=self.api, RouteKey="$default", Target="integrations/" + self.svc_int)["RouteId"]
        ns = sd.create_private_dns_namespace(Name=f"ns{n}.local", Vpc=f"vpc-{n}")["OperationId"]
        ns_id = sd.get_operation(OperationId=ns)["Operation"]["Targets"]["NAMESPACE"]
        self.disc = sd.create_service(Name="links", NamespaceId=ns_id, HealthCheckCustomConfig={"FailureThreshold": 1},
                                      DnsConfig={"DnsRecords": [{"Type": "SRV", "TTL": 10}]})["Service"]["Id"]
        env = self.common_env()
        env.update({"INGRESS": "apigw", "API_ID": self.api, "ROUTE_ID": self.route, "SERVICE_INTEGRATION": self.svc_int,
                    "DISCOVERY_SERVICE": self.disc, "VPC_LINK": self.link,
                    "PROBE_URL": "http://127.0.0.1:%d/.well-known/lowfare-vpc-link/%s" % (PROBE.server_address[1], self.link)})
        if self.serve == "app":
            env["ASLEEP_INTEGRATION"] = self.asleep_int
        env.update(self.extra_env())
        self.c = load(self.source, env)

    def extra_env(self):
        return {}

    def routed_to(self):
        return api.get_route(ApiId=self.api, RouteId=self.route)["Target"]

    def drift_to_service(self):
        api.update_route(ApiId=self.api, RouteId=self.route, Target="integrations/" + self.svc_int)

    def task_healthy(self):
        # ECS registers the task in Cloud Map and reports it healthy.
        sd.register_instance(ServiceId=self.disc, InstanceId="task-1", Attributes={"AWS_INSTANCE_IPV4": "10.0.0.10", "AWS_INSTANCE_PORT": "8080"})
        sd.update_instance_custom_health_status(ServiceId=self.disc, InstanceId="task-1", Status="HEALTHY")

    def to_service(self):
        return "integrations/" + self.svc_int

    def to_asleep(self):
        return "integrations/" + self.asleep_int


class Lifecycle:
    """Sleep, wake, route back and the repairs, for each ingress and serve mode."""

    def wake_request(self):
        raise NotImplementedError

    def test_sleep_wake_route_back(self):
        # Idle alarm -> zero tasks, bounds 0/0 (target tracking cannot start
        # one), ingress to what answers while asleep.
        self.assertEqual(self.c.handler(alarm_event(self.idle_alarm), None), {"state": "asleep"})
        self.assertEqual((self.desired(), self.bounds(), self.routed_to()), (0, (0, 0), self.to_asleep()))
        self.assertEqual(self.state(), ("asleep", "idle"))
        self.assertEqual(self.c.handler(alarm_event(self.idle_alarm), None), {"state": "already asleep"})

        # The first request (page) or sustained traffic (app) wakes it.
        reason = self.wake_request()
        self.assertEqual((self.desired(), self.bounds(), self.state()), (1, (1, 2), ("waking", reason)))
        self.assertEqual(self.routed_to(), self.to_asleep())

        # No task healthy yet: reconcile keeps the ingress where it is.
        self.assertEqual(self.c.handler(RECONCILE, None), {"state": "waking"})
        self.assertEqual(self.routed_to(), self.to_asleep())

        # A healthy task: reconcile routes the ingress back.
        self.task_healthy()
        self.assertEqual(self.c.handler(RECONCILE, None), {"state": "awake"})
        self.assertEqual((self.routed_to(), self.state(), self.desired()), (self.to_service(), ("awake", reason), 1))

    def test_failed_sleep_is_repaired_by_reconcile(self):
        # Awake, then the idle alarm turns ALARM but its invocation of the
        # controller failed: alarm actions run once per state change.
        self.c.handler({"lowfare": "sleep", "reason": "manual"}, None)
        self.c.handler({"lowfare": "wake", "reason": "manual"}, None)
        self.task_healthy()
        self.c.handler(RECONCILE, None)
        self.woke_ago(120)
        self.idle()
        self.assertEqual(self.desired(), 1)
        self.assertEqual(self.c.handler(RECONCILE, None), {"state": "asleep"})
        self.assertEqual((self.desired(), self.bounds(), self.routed_to(), self.state()),
                         (0, (0, 0), self.to_asleep(), ("asleep", "reconcile")))

    def test_woken_without_requests_sleeps_after_idle(self):
        # Idle since before a manual wake and no request since: the alarm
        # never changes state again, so reconcile sleeps it once `after`
        # has passed since the wake, not before.
        self.c.handler({"lowfare": "sleep", "reason": "manual"}, None)
        self.idle()
        self.woke_ago(5)  # the alarm's change is seconds before the wake
        time.sleep(1.1)
        self.c.handler({"lowfare": "wake", "reason": "manual"}, None)
        self.assertEqual(self.state(), ("waking", "manual"))
        self.assertEqual(self.c.handler(RECONCILE, None), {"state": "waking"})
        self.assertEqual(self.desired(), 1)
        self.woke_ago(901)
        self.assertEqual(self.c.handler(RECONCILE, None), {"state": "asleep"})
        self.assertEqual(self.desired(), 0)

    def test_a_task_started_by_something_else_sleeps(self):
        # A deploy or lowfare scale starts a task of a sleeping service
        # (no controller tag says it woke): reconcile records the wake, and
        # puts it back to sleep once the idle alarm has said so for `after`
        # since.
        self.c.handler(alarm_event(self.idle_alarm), None)
        self.idle()
        ecs.update_service(cluster=self.cluster, service="links", desiredCount=1)
        self.assertEqual(self.c.handler(RECONCILE, None)["state"], "waking")
        self.assertEqual((self.desired(), self.state()), (1, ("waking", "external")))
        self.c.now = lambda: time.time() + 901
        self.assertEqual(self.c.handler(RECONCILE, None), {"state": "asleep"})
        self.assertEqual(self.desired(), 0)

    def test_drifted_route_is_repaired(self):
        self.c.handler(alarm_event(self.idle_alarm), None)
        # Asleep, but someone pointed the ingress at the service.
        self.drift_to_service()
        self.assertEqual(self.c.handler(RECONCILE, None), {"state": "asleep"})
        self.assertEqual((self.routed_to(), self.bounds()), (self.to_asleep(), (0, 0)))
        # Awake with a healthy task, but the ingress drifted to the function.
        self.c.handler({"lowfare": "wake", "reason": "manual"}, None)
        self.task_healthy()
        self.c.handler(RECONCILE, None)
        self.assertEqual(self.routed_to(), self.to_service())
        self.c.route(False)
        self.c.handler(RECONCILE, None)
        self.assertEqual(self.routed_to(), self.to_service())

    def test_manual_sleep_and_wake(self):
        self.assertEqual(self.c.handler({"lowfare": "sleep", "reason": "manual"}, None), {"state": "asleep"})
        self.assertEqual((self.desired(), self.routed_to(), self.state()), (0, self.to_asleep(), ("asleep", "manual")))
        self.assertEqual(self.c.handler({"lowfare": "wake", "reason": "manual"}, None), {"state": "waking"})
        self.assertEqual((self.desired(), self.bounds(), self.state()), (1, (1, 2), ("waking", "manual")))


class PageWake:
    def wake_request(self):
        r = self.c.handler(self.event(), None)
        self.assertEqual(r["statusCode"], 503)
        return "request"


class AppWake:
    serve = "app"
    source = "CONTROLLER_APP"

    def wake_request(self):
        # The app answered on Lambda; the busy alarm says a task is cheaper.
        self.assertEqual(self.c.handler(alarm_event("busy" + self.idle_alarm, "OK"), None), {"state": "unchanged"})
        self.assertEqual(self.desired(), 0)
        self.assertEqual(self.c.handler(alarm_event("busy" + self.idle_alarm), None), {"state": "waking"})
        return "busy"


class ALBPage(PageWake, Lifecycle, ALBBase):
    event = staticmethod(alb_event)

    def test_page_requests(self):
        self.c.handler(alarm_event(self.idle_alarm), None)
        # A browser's request while asleep: the waking page, and one task.
        r = self.c.handler(alb_event(), None)
        want = EXPECTED["waking_html"]
        self.assertEqual((r["statusCode"], r["body"], r["headers"]), (want["Status"], want["Body"], want["Headers"]))
        self.assertEqual(r["statusDescription"], "503 Service Unavailable")
        self.assertIs(r["isBase64Encoded"], False)
        self.assertEqual(self.desired(), 1)
        # An API client's request while no task is healthy yet: JSON, and
        # the ingress stays with the controller.
        r = self.c.handler(alb_event("application/json"), None)
        want = EXPECTED["waking_json"]
        self.assertEqual((r["statusCode"], r["body"], r["headers"]), (want["Status"], want["Body"], want["Headers"]))
        self.assertEqual(self.routed_to(), self.asleep_tg)
        # A healthy task: the next request routes the ingress back.
        self.task_healthy()
        self.c.handler(alb_event(), None)
        self.assertEqual((self.routed_to(), self.state()), (self.service_tg, ("awake", "request")))

    def test_without_the_anchor_rule_a_woken_task_is_never_healthy(self):
        # What AWS does without ServiceAnchorRule: once the listener points
        # at the controller, the service's targets are unused and the
        # ingress never routes back.
        elb.delete_rule(RuleArn=self.anchor)
        self.c.handler(alarm_event(self.idle_alarm), None)
        self.c.handler(alb_event(), None)
        self.task_healthy()
        health = elb.describe_target_health(TargetGroupArn=self.service_tg)["TargetHealthDescriptions"]
        self.assertEqual([(h["TargetHealth"]["State"], h["TargetHealth"].get("Reason")) for h in health], [("unused", "Target.NotInUse")])
        self.c.handler(alb_event(), None)
        self.c.handler(RECONCILE, None)
        self.assertEqual(self.routed_to(), self.asleep_tg)

    def test_two_requests_at_once_start_one_task(self):
        self.c.handler(alarm_event(self.idle_alarm), None)
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

    def test_head_has_no_body(self):
        self.c.handler(alarm_event(self.idle_alarm), None)
        ev = alb_event()
        ev["httpMethod"] = "HEAD"
        r = self.c.handler(ev, None)
        self.assertEqual((r["statusCode"], r["body"]), (503, ""))


class ALBApp(AppWake, Lifecycle, ALBBase):
    def test_sleep_routes_to_the_app_before_scaling(self):
        calls = []
        real_route, real_update = self.c.route, self.c.ecs.update_service
        self.c.route = lambda to_service: (calls.append(("route", to_service)), real_route(to_service))
        self.c.ecs.update_service = lambda **kw: (calls.append(("scale", kw["desiredCount"])), real_update(**kw))[1]
        try:
            self.c.handler(alarm_event(self.idle_alarm), None)
        finally:
            self.c.route, self.c.ecs.update_service = real_route, real_update
        self.assertEqual(calls[0], ("route", False))
        self.assertLess(calls.index(("route", False)), calls.index(("scale", 0)))


class APIPage(PageWake, Lifecycle, APIBase):
    event = staticmethod(api_event)


class APIApp(AppWake, Lifecycle, APIBase):
    def test_inactive_vpc_link_keeps_serving_from_lambda(self):
        self.c.handler(alarm_event(self.idle_alarm), None)
        self.c.handler(alarm_event("busy" + self.idle_alarm), None)
        self.task_healthy()
        # Unused for 60 days while the app answered on Lambda: INACTIVE.
        LINK_STATUS[self.link] = "INACTIVE"
        Probe.hits.clear()
        self.assertEqual(self.c.handler(RECONCILE, None), {"state": "waking"})
        self.assertEqual(self.routed_to(), self.to_asleep())
        self.assertEqual(len(Probe.hits), 1)  # the probe resumed traffic on the link
        self.assertEqual(LINK_STATUS[self.link], "PENDING")
        self.assertEqual(self.c.handler(RECONCILE, None), {"state": "waking"})
        self.assertEqual(self.routed_to(), self.to_asleep())
        LINK_STATUS[self.link] = "AVAILABLE"
        self.assertEqual(self.c.handler(RECONCILE, None), {"state": "awake"})
        self.assertEqual(self.routed_to(), self.to_service())


class Schedule(APIBase):
    source = "CONTROLLER_SCHED"

    def extra_env(self):
        return {"TZ_NAME": "Europe/Berlin", "TZ_RULE": BERLIN_RULE, "WINDOWS": WINDOWS}

    def at(self, *ymdhm):
        t = datetime.datetime(*ymdhm, tzinfo=BERLIN).timestamp()
        self.c.now = lambda: t

    def test_outside_the_schedule_is_closed_and_does_not_wake(self):
        self.c.handler({"lowfare": "sleep", "reason": "schedule"}, None)
        self.assertEqual((self.desired(), self.routed_to(), self.state()),
                         (0, self.to_asleep(), ("asleep", "schedule")))
        self.at(2026, 12, 5, 15, 0)  # Saturday 15:00: the Saturday window closed at 14:00
        for accept, key in [("text/html", "closed_html"), ("application/json", "closed_json")]:
            r = self.c.handler(api_event(accept), None)
            want = EXPECTED[key]
            self.assertEqual((r["statusCode"], r["body"], r["headers"]), (want["Status"], want["Body"], want["Headers"]))
        self.assertEqual(self.desired(), 0)
        self.assertEqual(self.state(), ("asleep", "schedule"))

    def test_reconcile_sleeps_outside_the_schedule(self):
        self.c.handler({"lowfare": "wake", "reason": "manual"}, None)
        self.at(2026, 12, 5, 15, 0)
        self.assertEqual(self.c.handler(RECONCILE, None), {"state": "asleep"})
        self.assertEqual(self.desired(), 0)

    def test_inside_the_schedule_idle_applies(self):
        self.c.handler(alarm_event(self.idle_alarm), None)
        self.at(2026, 12, 7, 9, 30)  # Monday 09:30, inside Mon-Fri 08:00-20:00
        r = self.c.handler(api_event(), None)
        want = EXPECTED["waking_json"]
        self.assertEqual((r["statusCode"], r["body"], r["headers"]), (want["Status"], want["Body"], want["Headers"]))
        self.assertEqual((self.desired(), self.bounds(), self.state()), (1, (1, 2), ("waking", "request")))
        self.assertEqual(self.routed_to(), self.to_asleep())
        sd.register_instance(ServiceId=self.disc, InstanceId="task-1", Attributes={"AWS_INSTANCE_IPV4": "10.0.0.10", "AWS_INSTANCE_PORT": "8080"})
        sd.update_instance_custom_health_status(ServiceId=self.disc, InstanceId="task-1", Status="UNHEALTHY")
        self.c.handler(api_event(), None)
        self.assertEqual(self.routed_to(), self.to_asleep())
        sd.update_instance_custom_health_status(ServiceId=self.disc, InstanceId="task-1", Status="HEALTHY")
        self.c.handler(api_event(), None)
        self.assertEqual(self.routed_to(), self.to_service())
        self.assertEqual(self.state(), ("awake", "request"))

    def test_next_opening(self):
        # From the POSIX rule alone (the controller imports no zoneinfo),
        # compared with the IANA data the test has.
        cases = [
            ((2026, 12, 5, 15, 0), (2026, 12, 7, 8, 0)),   # Sat after the window -> Mon 08:00
            ((2026, 12, 5, 9, 59), (2026, 12, 5, 10, 0)),  # Sat before the window -> the same day
            ((2026, 12, 4, 20, 0), (2026, 12, 5, 10, 0)),  # Fri 20:00 (end is exclusive) -> Sat 10:00
            ((2026, 12, 7, 8, 0), None),                    # Mon 08:00: open
            ((2026, 3, 29, 1, 0), (2026, 3, 30, 8, 0)),    # across the change to summer time
            ((2026, 10, 24, 15, 0), (2026, 10, 26, 8, 0)),  # across the change back
            ((2026, 12, 31, 21, 0), (2027, 1, 1, 8, 0)),   # across the year's end (a Friday)
        ]
        for now, want in cases:
            got = self.c.opens_after(datetime.datetime(*now, tzinfo=BERLIN).timestamp())
            self.assertEqual(got, None if want is None else datetime.datetime(*want, tzinfo=BERLIN).timestamp(), now)

    def test_source_needs_no_time_zone_files(self):
        src = open(os.environ["CONTROLLER_SCHED"]).read()
        self.assertNotIn("zoneinfo", src)


class Busy(APIBase):
    serve = "app"
    source = "CONTROLLER_APP"

    def extra_env(self):
        return {"TZ_NAME": "Europe/Berlin", "TZ_RULE": BERLIN_RULE, "WINDOWS": WINDOWS}

    def test_busy_outside_the_schedule_does_not_wake(self):
        self.c.handler(alarm_event(self.idle_alarm), None)
        self.c.now = lambda: datetime.datetime(2026, 12, 5, 15, 0, tzinfo=BERLIN).timestamp()
        self.assertEqual(self.c.handler(alarm_event("busy" + self.idle_alarm), None), {"state": "closed"})
        self.assertEqual(self.desired(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
