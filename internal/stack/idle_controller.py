# lowfare wake controller, written inline into the template by
# internal/stack/idle.go. It puts the service to sleep when the idle alarm
# (or the schedule, or lowfare sleep) says so, answers requests while it
# sleeps with internal/wakepage's pages, starts it on the first request, and
# routes the ingress back once a task is healthy. Configuration comes from
# the function's environment; the pages from wakepage's templates (PAGES).
import datetime, html, json, os, zoneinfo
import boto3

PAGES = __PAGES__
E = os.environ
ecs = boto3.client('ecs')
aas = boto3.client('application-autoscaling')
if E['INGRESS'] == 'alb':
    elb = boto3.client('elbv2')
else:
    api = boto3.client('apigatewayv2')
    sd = boto3.client('servicediscovery')


def now():
    return datetime.datetime.now(zoneinfo.ZoneInfo(E.get('TZ_NAME') or 'UTC'))


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


def render(kind, accept, opens=None):
    # wakepage.Render, placeholder for placeholder.
    h = wants_html(accept)
    hd = {'Cache-Control': 'no-store', 'Content-Type': 'text/html; charset=utf-8' if h else 'application/json'}
    if kind == 'closed':
        hd['Retry-After'] = str(max(1, int((opens - now()).total_seconds() + 0.999)))
        text = opens.strftime('%a %-d %b %Y %H:%M %Z')
        if h:
            body = PAGES['HTMLClosed'].replace('{{OPENS}}', html.escape(text))
        else:
            body = PAGES['JSONClosed'].replace('{{OPENS_AT}}', json.dumps(opens.isoformat(timespec='seconds').replace('+00:00', 'Z'))).replace('{{OPENS}}', json.dumps(text))
    else:
        n = E.get('RETRY_AFTER', '5')
        hd['Retry-After'] = n
        body = PAGES['HTMLWaking' if h else 'JSONWaking'].replace('{{RETRY_AFTER}}', n)
    return 503, hd, body


def windows():
    # [[days (0 = Sunday, as time.Weekday), start minute, end minute], ...]
    return json.loads(E.get('WINDOWS') or '[]')


def opens_after(t):
    # None when t is inside an awake window (or there is no schedule);
    # otherwise the start of the next window.
    ws = windows()
    if not ws:
        return None
    day0 = t.replace(hour=0, minute=0, second=0, microsecond=0)
    m = t.hour * 60 + t.minute
    wd = (t.weekday() + 1) % 7
    for d, start, end in ws:
        if wd in d and start <= m < end:
            return None
    best = None
    for ahead in range(8):
        for d, start, end in ws:
            if (wd + ahead) % 7 in d and (ahead > 0 or start > m):
                c = (day0 + datetime.timedelta(days=ahead)).replace(tzinfo=None) + datetime.timedelta(minutes=start)
                c = c.replace(tzinfo=t.tzinfo)
                best = c if best is None or c < best else best
        if best:
            return best
    return None


def service():
    return ecs.describe_services(cluster=E['CLUSTER'], services=[E['SERVICE']], include=['TAGS'])['services'][0]


def mark(svc, state, reason):
    # The state lowfare status reads: lowfare:sleep = asleep|waking|awake,
    # lowfare:sleep-reason, lowfare:sleep-since (RFC 3339, UTC).
    since = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    ecs.tag_resource(resourceArn=svc['serviceArn'], tags=[
        {'key': 'lowfare:sleep', 'value': state},
        {'key': 'lowfare:sleep-reason', 'value': reason},
        {'key': 'lowfare:sleep-since', 'value': since}])


def bounds(lo, hi):
    # Application Auto Scaling's bounds: 0/0 while asleep, so that CPU
    # target tracking (and its min) cannot start a task; the spec's min
    # (at least 1) and max when awake.
    aas.register_scalable_target(ServiceNamespace='ecs', ScalableDimension='ecs:service:DesiredCount',
                                 ResourceId='service/%s/%s' % (E['CLUSTER'], E['SERVICE']), MinCapacity=lo, MaxCapacity=hi)


def own_target():
    # The controller's own target group or integration. The template cannot
    # pass its ID in: each refers to this function, so it is looked up.
    if E['INGRESS'] == 'alb':
        return elb.describe_target_groups(Names=[E['CONTROLLER_TG_NAME']])['TargetGroups'][0]['TargetGroupArn']
    for i in api.get_integrations(ApiId=E['API_ID'])['Items']:
        if i['IntegrationType'] == 'AWS_PROXY':
            return i['IntegrationId']
    raise RuntimeError('no Lambda integration on API ' + E['API_ID'])


def route(to_service):
    if E['INGRESS'] == 'alb':
        tg = E['SERVICE_TG'] if to_service else own_target()
        for lst in E['LISTENERS'].split(','):
            elb.modify_listener(ListenerArn=lst, DefaultActions=[{'Type': 'forward', 'TargetGroupArn': tg}])
    else:
        target = E['SERVICE_INTEGRATION'] if to_service else own_target()
        api.update_route(ApiId=E['API_ID'], RouteId=E['ROUTE_ID'], Target='integrations/' + target)


def healthy():
    if E['INGRESS'] == 'alb':
        th = elb.describe_target_health(TargetGroupArn=E['SERVICE_TG'])['TargetHealthDescriptions']
        return any(t['TargetHealth']['State'] == 'healthy' for t in th)
    st = sd.get_instances_health_status(ServiceId=E['DISCOVERY_SERVICE'])['Status']
    return any(v == 'HEALTHY' for v in st.values())


def sleep(reason):
    svc = service()
    tags = {t['key']: t['value'] for t in svc.get('tags', [])}
    if svc['desiredCount'] == 0 and tags.get('lowfare:sleep') == 'asleep':
        return 'already asleep'
    # Scale first, then route: in between, requests meet a draining target
    # group for a few seconds; the other order would let a request see a
    # healthy task and route the ingress straight back.
    bounds(0, 0)
    ecs.update_service(cluster=E['CLUSTER'], service=E['SERVICE'], desiredCount=0)
    route(False)
    mark(svc, 'asleep', reason)
    return 'asleep'


def wake(svc, reason):
    # Setting (not adding) the bounds and the desired count is idempotent:
    # two requests that both find the service asleep both ask for one task,
    # and ECS starts one.
    bounds(max(1, int(E['MIN'])), int(E['MAX']))
    ecs.update_service(cluster=E['CLUSTER'], service=E['SERVICE'], desiredCount=max(1, int(E['MIN'])))
    mark(svc, 'waking', reason)


def request(accept):
    opens = opens_after(now())
    if opens is not None:
        return render('closed', accept, opens)
    svc = service()
    if svc['desiredCount'] == 0:
        wake(svc, 'request')
    elif healthy():
        route(True)
        mark(svc, 'awake', 'request')
    return render('waking', accept)


def handler(event, context):
    if event.get('lowfare') in ('sleep', 'wake'):
        # lowfare sleep / lowfare wake, and the schedule's sleep times.
        reason = event.get('reason', 'manual')
        if event['lowfare'] == 'sleep':
            return {'state': sleep(reason)}
        svc = service()
        if svc['desiredCount'] == 0:
            wake(svc, reason)
        return {'state': 'waking'}
    if 'alarmData' in event:
        if event['alarmData']['state']['value'] == 'ALARM':
            return {'state': sleep('idle')}
        return {'state': 'unchanged'}
    headers = {k.lower(): v for k, v in (event.get('headers') or {}).items()}
    status, hd, body = request(headers.get('accept', ''))
    if event.get('version') == '2.0':
        return {'statusCode': status, 'headers': hd, 'body': body}
    if event.get('httpMethod') == 'HEAD':
        body = ''
    return {'statusCode': status, 'statusDescription': '503 Service Unavailable', 'headers': hd, 'body': body, 'isBase64Encoded': False}
