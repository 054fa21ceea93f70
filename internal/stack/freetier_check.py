# The daily free tier check: reads this month's free tier usage (Free
# Tier API GetFreeTierUsage, one endpoint in us-east-1) and emails the
# alarm topic once per limit and month when the forecast reaches
# 80% of the limit (stack.FreeTierWarnShare) for a service the app uses (SERVICES, matched as
# lowfare status matches them: the name without case or spaces contains
# one of them). What was sent is kept in the stack's SSM standard parameter
# (STATE, free) as {"YYYY-MM": ["service|usage type|region", ...]} (the
# last 40: a standard parameter holds 4 KB), so it resets itself each
# month. Each email is recorded right after it is sent: a failure later
# in a run repeats at most the emails not yet recorded, never loses one.
# internal/stack/freetier_check.go builds the function (without these
# comments, one space of indentation per level);
# testdata/freetier/test_check.py runs it against moto and lowfare's Free
# Tier double.
import datetime, json, os
import boto3
E = os.environ


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def handler(event, context):
    m = now().strftime("%Y-%m")
    ft, ssm, sns = boto3.client("freetier", region_name="us-east-1"), boto3.client("ssm"), boto3.client("sns")
    try:
        sent = json.loads(ssm.get_parameter(Name=E["STATE"])["Parameter"]["Value"]).get(m, [])
    except Exception:
        sent = []
    a, new = {"maxResults": 1000}, 0
    while True:
        out = ft.get_free_tier_usage(**a)
        for u in out.get("freeTierUsages", []):
            g = u.get
            lim, fc, h = g("limit") or 0, g("forecastedUsageAmount") or 0, "%s|%s|%s" % (g("service"), g("usageType"), g("region"))
            if any(k in str(g("service")).lower().replace(" ", "") for k in E["SERVICES"].split(",")) and 0 < lim <= fc / 0.8 and h not in sent:
                p = "%s %s at %.0f%% by forecast" % (g("service"), g("usageType"), 100 * fc / lim)
                sns.publish(TopicArn=E["TOPIC"], Subject=("lowfare %s: free tier" % E["APP"])[:100],
                    Message="%s: %g of %g %s used, forecast %g (account-wide; once per limit and month)" % (p, g("actualUsageAmount") or 0, lim, g("unit"), fc))
                sent = (sent + [h])[-40:]
                ssm.put_parameter(Name=E["STATE"], Value=json.dumps({m: sent}), Overwrite=True)
                new += 1
        if not out.get("nextToken"):
            break
        a["nextToken"] = out["nextToken"]
    return {"emailed": new}
