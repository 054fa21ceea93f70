# lowfare wake controller, written inline into the template by
# internal/stack/idle.go. It puts the service to sleep when the idle alarm
# (or the schedule, or lowfare sleep) says so, wakes it when the busy alarm
# (serve: app), a request (serve: page) or lowfare wake says so, and every
# minute reconciles the service, its scaling bounds and the ingress with
# what the idle alarm and the schedule say. With serve: page it also
# answers requests while the service sleeps, with internal/wakepage's pages
# (PAGES). Configuration comes from the function's environment.
import calendar, html, json, os, time, urllib.request
import boto3

PAGES = __PAGES__
E = os.environ
ecs = boto3.client('ecs')
aas = boto3.client('application-autoscaling')
cw = boto3.client('cloudwatch')
if E['INGRESS'] == 'alb':
    elb = boto3.client('elbv2')
else:
    api = boto3.client('apigatewayv2')
    sd = boto3.client('servicediscovery')
# Local time comes from the zone's POSIX TZ rule through the C library: no
# time-zone files, which a Lambda runtime is not documented to carry.
if E.get('TZ_RULE'):
    os.environ['TZ'] = E['TZ_RULE']
    time.tzset()


def now():
    return time.time()


def app():
    return E.get('SERVE') == 'app'


# lowfare:page-begin (serve: page only; idle.go leaves it out for serve: app)
def wants_html(accept):
    # wakepage.WantsHTML: text/html named with a q-value other than 0.
    for part in (accept or '').split(','):
        f = part.split(';')
        if f[0].strip().lower() != 'text/html':
            continue
        q = '1'
        for p in f[1:]:
            k, _, v = p.strip().partition('=')
            if k.strip().lower() == 'q':
                q = v.strip()
        try:
            if float(q) > 0:
                return True
        except ValueError:
            return True
    return False


def rfc3339(t):
    lt = time.localtime(t)
    off = lt.tm_gmtoff
    zone = 'Z' if off == 0 else '%s%02d:%02d' % ('-' if off < 0 else '+', abs(off) // 3600, abs(off) % 3600 // 60)
    return time.strftime('%Y-%m-%dT%H:%M:%S', lt) + zone


def render(kind, accept, opens=None):
    # wakepage.Render, placeholder for placeholder.
    h = wants_html(accept)
    hd = {'Cache-Control': 'no-store', 'Content-Type': 'text/html; charset=utf-8' if h else 'application/json'}
    if kind == 'closed':
        hd['Retry-After'] = str(max(1, int(opens - now() + 0.999)))
        text = time.strftime('%a %-d %b %Y %H:%M %Z', time.localtime(opens))
        if h:
            body = PAGES['HTMLClosed'].replace('{{OPENS}}', html.escape(text))
        else:
            body = PAGES['JSONClosed'].replace('{{OPENS_AT}}', json.dumps(rfc3339(opens))).replace('{{OPENS}}', json.dumps(text))
    else:
        n = E.get('RETRY_AFTER', '5')
        hd['Retry-After'] = n
        body = PAGES['HTMLWaking' if h else 'JSONWaking'].replace('{{RETRY_AFTER}}', n)
    return 503, hd, body
# lowfare:page-end


def opens_after(t):
    # None when t (epoch seconds) is inside an awake window, or there is no
    # schedule; otherwise the start of the next window (epoch seconds).
    # WINDOWS: [[days (0 = Sunday), start minute, end minute], ...].
    ws = json.loads(E.get('WINDOWS') or '[]')
    if not ws:
        return None
    lt = time.localtime(t)
    m = lt.tm_hour * 60 + lt.tm_min
    wd = (lt.tm_wday + 1) % 7
    if any(wd in d and start <= m < end for d, start, end in ws):
        return None
    for ahead in range(8):
        starts = [start for d, start, end in ws if (wd + ahead) % 7 in d and (ahead > 0 or start > m)]
        if starts:
            s = min(starts)
            # mktime normalizes the day past the month's end; -1 lets the
            # rule decide summer time.
            return time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday + ahead, s // 60, s % 60, 0, 0, 0, -1))
    return None


def service():
    return ecs.describe_services(cluster=E['CLUSTER'], services=[E['SERVICE']], include=['TAGS'])['services'][0]


def tags_of(svc):
    return {t['key']: t['value'] for t in svc.get('tags', [])}


def mark(svc, state, reason):
    # The state lowfare status reads: lowfare:sleep = asleep|waking|awake,
    # lowfare:sleep-reason, lowfare:sleep-since (RFC 3339, UTC).
    ecs.tag_resource(resourceArn=svc['serviceArn'], tags=[
        {'key': 'lowfare:sleep', 'value': state},
        {'key': 'lowfare:sleep-reason', 'value': reason},
        {'key': 'lowfare:sleep-since', 'value': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now()))}])


def bounds(lo, hi):
    # Application Auto Scaling's bounds: 0/0 while asleep, so that CPU
    # target tracking (and its min) cannot start a task; the spec's min
    # (at least 1) and max when awake.
    aas.register_scalable_target(ServiceNamespace='ecs', ScalableDimension='ecs:service:DesiredCount',
                                 ResourceId='service/%s/%s' % (E['CLUSTER'], E['SERVICE']), MinCapacity=lo, MaxCapacity=hi)


def asleep_target():
    # What answers while the service sleeps: the app function's target group
    # or integration (serve: app), or the controller's own, which the
    # template cannot pass in (each refers to this function): looked up.
    if E['INGRESS'] == 'alb':
        if app():
            return E['ASLEEP_TG']
        return elb.describe_target_groups(Names=[E['CONTROLLER_TG_NAME']])['TargetGroups'][0]['TargetGroupArn']
    if app():
        return E['ASLEEP_INTEGRATION']
    for i in api.get_integrations(ApiId=E['API_ID'])['Items']:
        if i['IntegrationType'] == 'AWS_PROXY':
            return i['IntegrationId']
    raise RuntimeError('no Lambda integration on API ' + E['API_ID'])


def route(to_service):
    # Points the ingress at the service or at what answers while it sleeps,
    # when it does not already (a route that drifted is put back).
    if E['INGRESS'] == 'alb':
        tg = E['SERVICE_TG'] if to_service else asleep_target()
        for lst in E['LISTENERS'].split(','):
            cur = elb.describe_listeners(ListenerArns=[lst])['Listeners'][0]['DefaultActions']
            if [a.get('TargetGroupArn') for a in cur] != [tg]:
                elb.modify_listener(ListenerArn=lst, DefaultActions=[{'Type': 'forward', 'TargetGroupArn': tg}])
        return
    target = 'integrations/' + (E['SERVICE_INTEGRATION'] if to_service else asleep_target())
    if api.get_route(ApiId=E['API_ID'], RouteId=E['ROUTE_ID']).get('Target') != target:
        api.update_route(ApiId=E['API_ID'], RouteId=E['ROUTE_ID'], Target=target)


def healthy():
    if E['INGRESS'] == 'alb':
        th = elb.describe_target_health(TargetGroupArn=E['SERVICE_TG'])['TargetHealthDescriptions']
        return any(t['TargetHealth']['State'] == 'healthy' for t in th)
    st = sd.get_instances_health_status(ServiceId=E['DISCOVERY_SERVICE'])['Status']
    return any(v == 'HEALTHY' for v in st.values())


def link_ready():
    # An HTTP API's VPC link unused for 60 days goes INACTIVE and comes back
    # only when requests use it again: ask for the probe route (its answer
    # does not matter) and keep the ingress where it is until AVAILABLE.
    if E['INGRESS'] == 'alb':
        return True
    status = api.get_vpc_link(VpcLinkId=E['VPC_LINK'])['VpcLinkStatus']
    if status == 'INACTIVE':
        try:
            urllib.request.urlopen(E['PROBE_URL'], timeout=3).close()
        except Exception as e:  # noqa: BLE001 - any answer wakes the link
            print('vpc link probe: %s' % e)
    return status == 'AVAILABLE'


def sleep(reason):
    svc = service()
    if svc['desiredCount'] == 0 and tags_of(svc).get('lowfare:sleep') == 'asleep':
        route(False)
        return 'already asleep'
    if app():
        # Requests go to the app on Lambda first, so none meets a
        # draining task.
        route(False)
    bounds(0, 0)
    ecs.update_service(cluster=E['CLUSTER'], service=E['SERVICE'], desiredCount=0)
    # serve: page scales first, then routes: the other order would let a
    # request see a healthy task and route the ingress straight back.
    route(False)
    mark(svc, 'asleep', reason)
    return 'asleep'


def wake(svc, reason):
    # Setting (not adding) the bounds and the desired count is idempotent:
    # two requests that both find the service asleep both ask for one task,
    # and ECS starts one.
    bounds(int(E['MIN']), int(E['MAX']))
    ecs.update_service(cluster=E['CLUSTER'], service=E['SERVICE'], desiredCount=int(E['MIN']))
    mark(svc, 'waking', reason)


def since(text):
    return calendar.timegm(time.strptime(text, '%Y-%m-%dT%H:%M:%SZ'))


def woke_at(tags):
    # When the service last woke, as the controller recorded it.
    if tags.get('lowfare:sleep-since'):
        return since(tags['lowfare:sleep-since'])
    return now()


def should_sleep(svc, tags):
    # The schedule closed, or the idle alarm says nobody came: either it
    # turned ALARM after the wake (and its action did not sleep), or it has
    # said so since before the wake and `after` has passed without a
    # request since (a request would have turned it OK).
    if opens_after(now()) is not None:
        return True
    a = cw.describe_alarms(AlarmNames=[E['IDLE_ALARM']])['MetricAlarms']
    if not a or a[0]['StateValue'] != 'ALARM':
        return False
    # (The tag has whole seconds: a change within the wake's second counts
    # as before it.)
    woke = woke_at(tags)
    return a[0]['StateUpdatedTimestamp'].timestamp() >= woke + 1 or now() - woke >= int(E['AFTER'])


def reconcile():
    svc = service()
    tags = tags_of(svc)
    if svc['desiredCount'] > 0 and tags.get('lowfare:sleep') not in ('waking', 'awake'):
        # Something else started a task (a deploy, lowfare scale, a
        # scalable target update): from now on it is awake, and idle
        # counts from here.
        mark(svc, 'waking', 'external')
        svc = service()
        tags = tags_of(svc)
    if svc['desiredCount'] > 0 and should_sleep(svc, tags):
        return sleep('reconcile')
    if svc['desiredCount'] == 0:
        bounds(0, 0)
        route(False)
        if tags.get('lowfare:sleep') != 'asleep':
            mark(svc, 'asleep', 'reconcile')
        return 'asleep'
    # A task is wanted: the ingress goes to it once one is healthy (and a
    # VPC link can reach it), and stays with the function until then.
    ready = healthy() and link_ready()
    route(ready)
    if ready and tags.get('lowfare:sleep') != 'awake':
        mark(svc, 'awake', tags.get('lowfare:sleep-reason', 'reconcile'))
    return 'awake' if ready else 'waking'


# lowfare:page-begin
def request(accept):
    # serve: page: a request while the service sleeps.
    opens = opens_after(now())
    if opens is not None:
        return render('closed', accept, opens)
    svc = service()
    if svc['desiredCount'] == 0:
        wake(svc, 'request')
    elif healthy() and link_ready():
        route(True)
        mark(svc, 'awake', 'request')
    return render('waking', accept)
# lowfare:page-end


def handler(event, context):
    op = event.get('lowfare')
    if op == 'reconcile':
        return {'state': reconcile()}
    if op in ('sleep', 'wake'):
        # lowfare sleep / lowfare wake, and the schedule's sleep times.
        reason = event.get('reason', 'manual')
        if op == 'sleep':
            return {'state': sleep(reason)}
        svc = service()
        if svc['desiredCount'] == 0:
            wake(svc, reason)
        return {'state': 'waking'}
    if 'alarmData' in event:
        if event['alarmData']['state']['value'] != 'ALARM':
            return {'state': 'unchanged'}
        if event['alarmData'].get('alarmName') == E.get('BUSY_ALARM'):
            # Sustained traffic on the app function: a task is cheaper,
            # inside the schedule's windows.
            if opens_after(now()) is not None:
                return {'state': 'closed'}
            svc = service()
            if svc['desiredCount'] == 0:
                wake(svc, 'busy')
            return {'state': 'waking'}
        return {'state': sleep('idle')}
    # lowfare:page-begin
    headers = {k.lower(): v for k, v in (event.get('headers') or {}).items()}
    status, hd, body = request(headers.get('accept', ''))
    if event.get('version') == '2.0':
        return {'statusCode': status, 'headers': hd, 'body': body}
    if event.get('httpMethod') == 'HEAD':
        body = ''
    return {'statusCode': status, 'statusDescription': '503 Service Unavailable', 'headers': hd, 'body': body, 'isBase64Encoded': False}
    # lowfare:page-end
    raise ValueError('not an event the controller takes: %s' % json.dumps(event)[:200])
