"""Drive `assocstore serve` through BlueKing's own Python client.

Usage:
    bk_client_check.py ENDPOINT                  the scenario, on a fresh store
    bk_client_check.py ENDPOINT --save FILE      the same, then write what the store holds to FILE
    bk_client_check.py ENDPOINT --verify FILE    after a restart on the same --data: the store
                                                 still holds what FILE says, ids go on

ENDPOINT is what the server printed after `listening on `, e.g. http://127.0.0.1:40123.
The server must run with a short `--watch-timeout` (the scenario waits it out once), and the
environment variable WATCH_TIMEOUT (seconds, default 2) must name the same value.

Every call goes through `bkapi_component.open`'s `Client(endpoint=..., bk_api_ver="v2").cc.<api>`,
which POSTs the body as JSON to `{endpoint}/api/c/compapi/v2/cc/<api>/` and returns the parsed
envelope as a dict *whatever its `result`*: the package raises only on an HTTP status >= 400
(HTTPResponseError), a body that is not JSON (JSONResponseError), an API-gateway error header
(X-Bkapi-Error-Code) or a transport error. So a failing bk-cmdb call is a returned dict with
`result` false, and any exception here is itself a failure of the server. (The package sends
no body at all when the body is empty or `{}`, which the server rightly answers with 1199000;
every body here is non-empty.)

Prints one line per check (`ok  N  ...`), `passed N checks` at the end, and exits 1 at the
first failure with `FAIL ...` naming the call, its body, the field, what SPEC wants and what came.
"""

import json
import logging
import os
import re
import sys
import threading
import time

from bkapi_client_core.esb import Operation
# 2.1.0's `bkapi_component/open/__init__.py` holds only __version__: the client is imported from
# `shortcuts` (which re-exports client.Client next to the get_client_by_* helpers).
from bkapi_component.open.shortcuts import Client

# --- the checker ---------------------------------------------------------------------------------

ENVELOPE_KEYS = ["result", "code", "message", "data", "permission", "request_id"]
# SPEC §1: an instance association record's keys, in this order (zero values omitted).
RECORD_KEYS = ["id", "bk_inst_id", "bk_obj_id", "bk_asst_inst_id", "bk_asst_obj_id",
               "bk_obj_asst_id", "bk_asst_id"]
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
UNSET = object()  # `data` not compared


# bkapi-client-core logs every transport error with a traceback and a curl command; a failure here
# is reported once, by the FAIL line, with the exception's text (which names the URL).
logging.getLogger("bkapi_client_core").addHandler(logging.NullHandler())
logging.getLogger("bkapi_client_core").propagate = False


class CheckFailed(Exception):
    pass


class Checker:
    def __init__(self):
        self.passed = 0
        self.request_ids = set()

    def ok(self, what):
        self.passed += 1
        print("ok  %3d  %s" % (self.passed, what), flush=True)

    def fail(self, what, detail):
        raise CheckFailed("%s: %s" % (what, detail))

    def that(self, cond, what, detail=""):
        if not cond:
            self.fail(what, detail)
        self.ok(what)


CHECK = Checker()


def same(a, b):
    """Equality that also tells true from 1 and 1 from 1.0 (JSON types), dict key order aside."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def dump(v):
    return json.dumps(v, ensure_ascii=False, sort_keys=False)


def call(client, api, body, label, *, code=0, message="success", data=UNSET, data_check=None):
    """Call `client.cc.<api>(body)` and check the envelope field by field.

    On success (`code` 0) `data` is compared for equality when given (None = must be null), and/or handed to
    `data_check` (which returns an error string or None). On failure `data` must be null.
    Returns the envelope's `data`.
    """
    op = getattr(client.cc, api)
    what = "%s %s" % (api, label)
    try:
        env = op(body)
    except Exception as e:  # the package raises only on HTTP/JSON/transport errors
        CHECK.fail(what, "the client raised %s: %s (body %s)" % (type(e).__name__, e, dump(body)))
    check_envelope(what, body, env, code=code, message=message, data=data, data_check=data_check)
    return env["data"]


def check_envelope(what, body, env, *, code, message, data=UNSET, data_check=None):
    def bad(field, want, got):
        CHECK.fail(what, "field %s: want %s, got %s\n  request body: %s\n  response: %s"
                   % (field, want, dump(got), dump(body), dump(env)))

    if not isinstance(env, dict):
        bad("(envelope)", "a JSON object", env)
    if list(env) != ENVELOPE_KEYS:
        bad("(keys)", dump(ENVELOPE_KEYS) + " in this order", list(env))
    succeeded = code == 0
    if env["result"] is not succeeded:
        bad("result", dump(succeeded), env["result"])
    if type(env["code"]) is not int or env["code"] != code:
        bad("code", code, env["code"])
    if env["message"] != message:
        bad("message", dump(message), env["message"])
    if env["permission"] is not None:
        bad("permission", "null", env["permission"])
    rid = env["request_id"]
    if not isinstance(rid, str) or not REQUEST_ID.match(rid):
        bad("request_id", "32 lowercase hex digits", rid)
    if rid in CHECK.request_ids:
        bad("request_id", "a request id not seen before in this run", rid)
    CHECK.request_ids.add(rid)
    if not succeeded:
        if env["data"] is not None:
            bad("data", "null (a failure)", env["data"])
    else:
        if data is not UNSET and not same(env["data"], data):
            bad("data", dump(data), env["data"])
        if data_check is not None:
            problem = data_check(env["data"])
            if problem:
                bad("data", problem, env["data"])
    shown = "data=%s" % dump(env["data"]) if succeeded else "code=%d %s" % (code, dump(message))
    if len(shown) > 150:
        shown = shown[:147] + "..."
    CHECK.ok("%s -> result=%s %s" % (what, dump(env["result"]), shown))


def record(rid, src_obj, src, dst_obj, dst, obj_asst, kind):
    return {"id": rid, "bk_inst_id": src, "bk_obj_id": src_obj, "bk_asst_inst_id": dst,
            "bk_asst_obj_id": dst_obj, "bk_obj_asst_id": obj_asst, "bk_asst_id": kind}


def records_are(want):
    """data_check: a list equal to `want`, each record's keys in SPEC §1 order."""
    def check(got):
        if not same(got, want):
            return dump(want)
        for r in got:
            if list(r) != [k for k in RECORD_KEYS if k in r]:
                return "record keys in SPEC §1 order %s, got %s" % (RECORD_KEYS, list(r))
        return None
    return check


def positive_id(got):
    if not (isinstance(got, dict) and list(got) == ["id"] and type(got["id"]) is int and got["id"] > 0):
        return '{"id": <int > 0>}'
    return None


def events_are(want, watched=True):
    """data_check for resource_watch: bk_watched and the events (type, detail) in order."""
    def check(got):
        if not isinstance(got, dict) or list(got) != ["bk_watched", "bk_events"]:
            return '{"bk_watched": .., "bk_events": [..]}'
        if got["bk_watched"] is not watched:
            return "bk_watched %s" % dump(watched)
        events = got["bk_events"]
        if len(events) != len(want):
            return "%d event(s): %s" % (len(want), dump(want))
        for ev, (etype, detail) in zip(events, want):
            if list(ev) != ["bk_cursor", "bk_resource", "bk_event_type", "bk_detail"]:
                return "event keys bk_cursor, bk_resource, bk_event_type, bk_detail"
            if not isinstance(ev["bk_cursor"], str) or not ev["bk_cursor"]:
                return "a non-empty string bk_cursor"
            if ev["bk_resource"] != "inst_asst":
                return 'bk_resource "inst_asst"'
            if ev["bk_event_type"] != etype or not same(ev["bk_detail"], detail):
                return "event (%s, %s)" % (dump(etype), dump(detail))
            if detail is not None and list(ev["bk_detail"]) != [k for k in RECORD_KEYS if k in detail]:
                return "bk_detail keys in SPEC §1 order"
        cursors = [ev["bk_cursor"] for ev in events]
        if len(set(cursors)) != len(cursors):
            return "distinct cursors"
        return None
    return check


# --- the client ----------------------------------------------------------------------------------

# bkapi-component-open 2.1.0's CcGroup has no operation for these three bk-cmdb APIs (bk-cmdb
# exposes them to the web UI, not through ESB). The package's own generic mechanism adds them:
# bkapi-client-core's OperationGroup.register() with an Operation built exactly like the
# generated ones (POST, path "/api/c/compapi{bk_api_ver}/cc/<api>/"), so they go through the
# same session, URL rendering and response parsing as every other call. `no_such_api` is
# registered the same way to check the server's answer to an unknown api.
MISSING_FROM_PACKAGE = ["create_association_type", "create_object_association",
                        "delete_object_association", "no_such_api"]


def make_client(endpoint, bk_api_ver="v2"):
    client = Client(endpoint=endpoint, bk_api_ver=bk_api_ver)
    client.set_timeout(60)
    for api in MISSING_FROM_PACKAGE:
        if not hasattr(client.cc, api):
            client.cc.register(api, Operation(
                method="POST", path="/api/c/compapi{bk_api_ver}/cc/%s/" % api))
    return client


# --- the scenario --------------------------------------------------------------------------------

# The three seed requests (reference/seeds/000, 003, 004), verbatim: common arguments, metadata
# and all. 001 is 000 without `metadata`.
SEED_ADD = {
    "bk_app_code": "esb_test",
    "bk_app_secret": "xxx",
    "bk_username": "xxx",
    "bk_token": "xxx",
    "bk_obj_asst_id": "bk_switch_belong_bk_host",
    "bk_inst_id": 11,
    "bk_asst_inst_id": 21,
    "metadata": {"label": {"bk_biz_id": "1"}},
}
SEED_ADD_001 = {k: v for k, v in SEED_ADD.items() if k != "metadata"}
SEED_BATCH = {
    "bk_app_code": "esb_test",
    "bk_app_secret": "xxx",
    "bk_username": "xxx",
    "bk_token": "xxx",
    "bk_obj_id": "bk_switch",
    "bk_asst_obj_id": "host",
    "bk_obj_asst_id": "bk_switch_belong_host",
    "details": [
        {"bk_inst_id": 11, "bk_asst_inst_id": 21},
        {"bk_inst_id": 12, "bk_asst_inst_id": 22},
    ],
}
SEED_FIND = {
    "bk_app_code": "esb_test",
    "bk_app_secret": "xxx",
    "bk_username": "xxx",
    "bk_token": "xxx",
    "condition": {
        "bk_obj_asst_id": "bk_switch_belong_bk_host",
        "bk_asst_id": "",
        "bk_asst_obj_id": "",
    },
    "bk_obj_id": "xxx",
}
COMMON = {"bk_app_code": "esb_test", "bk_app_secret": "xxx", "bk_username": "admin", "bk_token": "xxx"}


def scenario(endpoint, watch_timeout):
    c = make_client(endpoint)

    # URL the package builds: SPEC §7's route.
    url = c.cc.find_instance_association.request(
        {"bk_obj_id": "bk_switch", "condition": {}}).url
    CHECK.that(url == endpoint + "/api/c/compapi/v2/cc/find_instance_association/",
               "the package calls %s" % url, "want %s/api/c/compapi/v2/cc/..." % endpoint)

    # -- definitions
    call(c, "create_association_type",
         {"bk_asst_id": "backup", "bk_asst_name": "backup", "src_des": "backs up",
          "dest_des": "backed up by", "direction": "src_to_dest"},
         "(new kind backup)", data_check=positive_id)
    call(c, "create_association_type", {"bk_asst_id": "belong", "bk_asst_name": "belong again"},
         "(built-in kind again: 1199014)", code=1199014,
         message="duplicated instances exist, fields [belong] duplicated")
    oa1 = call(c, "create_object_association",
               dict(COMMON, bk_obj_asst_id="bk_switch_belong_bk_host", bk_obj_asst_name="switch in host",
                    bk_obj_id="bk_switch", bk_asst_obj_id="bk_host", bk_asst_id="belong",
                    mapping="1:n", on_delete="none"),
               "(seed 000's bk_switch_belong_bk_host, 1:n)", data_check=positive_id)["id"]
    oa2 = call(c, "create_object_association",
               dict(COMMON, bk_obj_asst_id="bk_switch_belong_host", bk_obj_id="bk_switch",
                    bk_asst_obj_id="host", bk_asst_id="belong", mapping="1:n"),
               "(seed 003's bk_switch_belong_host, 1:n)", data_check=positive_id)["id"]
    CHECK.that(oa2 > oa1, "model association ids increase (%d, %d)" % (oa1, oa2))
    call(c, "create_object_association",
         {"bk_obj_asst_id": "bk_switch_belong_host_again", "bk_obj_id": "bk_switch",
          "bk_asst_obj_id": "host", "bk_asst_id": "belong", "mapping": "n:n"},
         "(same models and kind again: 1101038)", code=1101038,
         message="the associations bk_switch->host already exist")

    def model_assocs(got):
        if not isinstance(got, list):
            return "a list"
        want = [(oa1, "bk_switch_belong_bk_host", "bk_host"), (oa2, "bk_switch_belong_host", "host")]
        have = sorted((m.get("id"), m.get("bk_obj_asst_id"), m.get("bk_asst_obj_id")) for m in got)
        if have != want:
            return "model associations (id, bk_obj_asst_id, bk_asst_obj_id) %s" % dump(want)
        for m in got:
            if (m.get("bk_obj_id"), m.get("bk_asst_id"), m.get("mapping"), m.get("on_delete")) != \
                    ("bk_switch", "belong", "1:n", "none"):
                return "bk_obj_id bk_switch, bk_asst_id belong, mapping 1:n, on_delete none"
        return None
    call(c, "find_object_association", {"condition": {"bk_obj_id": "bk_switch"}},
         "(bk_obj_id bk_switch)", data_check=model_assocs)
    # The client sends no body at all for {}: the server takes that as an empty body.
    call(c, "find_object_association", {}, "({}: the client sends no body)",
         data_check=model_assocs)

    # -- instances (host 22 is left out, so seed 003's second item fails as in its example)
    for obj, iid, name in [("bk_switch", 11, "switch-11"), ("bk_switch", 12, "switch-12"),
                           ("bk_host", 21, "bk-host-21"), ("host", 21, "host-21")]:
        call(c, "create_inst", dict(COMMON, bk_obj_id=obj, bk_inst_name=name, bk_inst_id=iid),
             "(%s %d)" % (obj, iid), data={"bk_inst_id": iid})
    call(c, "create_inst", {"bk_obj_id": "host", "bk_inst_name": "host-21-again", "bk_inst_id": 21},
         "(host 21 again: 1199014)", code=1199014,
         message="duplicated instances exist, fields [bk_inst_id] duplicated")

    # -- the three seed requests, verbatim
    id1 = call(c, "add_instance_association", SEED_ADD, "(seed 000 verbatim, metadata included)",
               data_check=positive_id)["id"]
    rec1 = record(id1, "bk_switch", 11, "bk_host", 21, "bk_switch_belong_bk_host", "belong")

    def batch_outcome(got):
        if not isinstance(got, dict) or list(got) != ["success_created", "error_msg"]:
            return '{"success_created": {..}, "error_msg": {..}}'
        sc = got["success_created"]
        if list(sc) != ["0"] or type(sc["0"]) is not int or sc["0"] <= id1:
            return 'success_created {"0": <id > %d>}' % id1
        if got["error_msg"] != {"1": "the  inst to asst  is not exist"}:
            return 'error_msg {"1": "the  inst to asst  is not exist"} (1101074 text: host 22 is not registered)'
        return None
    id2 = call(c, "batch_create_instance_association", SEED_BATCH,
               "(seed 003 verbatim: item 0 created, item 1's target host 22 missing)",
               data_check=batch_outcome)["success_created"]["0"]
    rec2 = record(id2, "bk_switch", 11, "host", 21, "bk_switch_belong_host", "belong")
    # No record touches a model "xxx": seed 004 verbatim finds nothing (and is no error).
    call(c, "find_instance_association", SEED_FIND, '(seed 004 verbatim, bk_obj_id "xxx")', data=[])

    # -- reads
    call(c, "find_instance_association",
         dict(SEED_FIND, bk_obj_id="bk_host"), "(seed 004's condition, bk_obj_id bk_host: target side)",
         data_check=records_are([rec1]))
    call(c, "find_instance_association",
         {"bk_obj_id": "bk_switch", "condition": {"bk_asst_id": "belong"}},
         "(bk_switch, bk_asst_id belong: both, id order)", data_check=records_are([rec1, rec2]))
    call(c, "search_instance_associations",
         {"bk_obj_id": "host",
          "conditions": {"condition": "AND", "rules": [
              {"field": "bk_obj_asst_id", "operator": "equal", "value": "bk_switch_belong_host"}]},
          "fields": ["id", "bk_inst_id", "bk_asst_inst_id"],
          "page": {"start": 0, "limit": 10, "sort": "-id"}},
         "(host, rule equal, fields projected)",
         data={"info": [{"id": id2, "bk_inst_id": 11, "bk_asst_inst_id": 21}]})
    call(c, "search_instance_associations",
         {"bk_obj_id": "bk_switch", "page": {"start": 0, "limit": 10, "sort": "-id"}},
         "(bk_switch, sort -id)", data={"info": [rec2, rec1]})
    call(c, "search_instance_associations", {"bk_obj_id": "host", "page": {"start": 0, "limit": 501}},
         "(page.limit 501: 1199006)", code=1199006,
         message="'page.limit' data parameter verification does not pass")
    call(c, "count_instance_associations", {"bk_obj_id": "bk_switch"}, "(bk_switch: source side)",
         data={"count": 2})
    call(c, "count_instance_associations", {"bk_obj_id": "host"},
         "(host: only target of records, counts 0 like bk-cmdb)", data={"count": 0})
    call(c, "count_instance_associations",
         {"bk_obj_id": "bk_switch", "conditions": {"condition": "AND", "rules": [
             {"field": "bk_asst_obj_id", "operator": "equal", "value": "host"}]}},
         "(bk_switch, bk_asst_obj_id equal host)", data={"count": 1})

    def topo(got):
        if not isinstance(got, list) or len(got) != 2:
            return "two groups (bk_host, host)"
        want_children = {
            "bk_host": [{"id": "21", "bk_obj_id": "bk_host", "bk_inst_id": 21,
                         "bk_inst_name": "bk-host-21", "asso_id": id1}],
            "host": [{"id": "21", "bk_obj_id": "host", "bk_inst_id": 21,
                      "bk_inst_name": "host-21", "asso_id": id2}],
        }
        for g in sorted(got, key=lambda g: str(g.get("bk_obj_id"))):
            if list(g) != ["bk_obj_id", "bk_obj_name", "bk_obj_icon", "count", "children"]:
                return "group keys bk_obj_id, bk_obj_name, bk_obj_icon, count, children"
            if g["bk_obj_id"] not in want_children:
                return "groups bk_host and host"
            if not isinstance(g["bk_obj_name"], str) or not isinstance(g["bk_obj_icon"], str):
                return "string bk_obj_name and bk_obj_icon"
            if g["count"] != 1 or g["children"] != want_children[g["bk_obj_id"]]:
                return "count 1, children %s" % dump(want_children[g["bk_obj_id"]])
        return None
    call(c, "search_inst_association_topo", {"bk_obj_id": "bk_switch", "bk_inst_id": 11},
         "(bk_switch 11: downstream grouped by model)", data_check=topo)
    call(c, "search_inst_association_topo", {"bk_obj_id": "host", "bk_inst_id": 21},
         "(host 21: no downstream)", data=[])
    call(c, "search_related_inst_asso",
         {"condition": {"bk_obj_id": "host", "bk_inst_id": 21}, "fields": ["id", "bk_obj_asst_id"],
          "page": {"start": 0, "limit": 0}},
         "(host 21)", data=[{"id": id2, "bk_obj_asst_id": "bk_switch_belong_host"}])
    c0 = make_client(endpoint, bk_api_ver="")
    url = c0.cc.find_instance_association.request({"bk_obj_id": "bk_switch", "condition": {}}).url
    CHECK.that(url == endpoint + "/api/c/compapi/cc/find_instance_association/",
               "bk_api_ver \"\": the package calls %s" % url)
    call(c0, "find_instance_association", {"bk_obj_id": "bk_switch", "condition": {}},
         "(unversioned route)", data_check=records_are([rec1, rec2]))

    # -- the change feed from the start: the two creates
    feed = call(c, "resource_watch", {"bk_resource": "inst_asst", "bk_start_from": 1},
                "(bk_start_from 1: both creates)",
                data_check=events_are([("create", rec1), ("create", rec2)]))
    after_creates = feed["bk_events"][-1]["bk_cursor"]
    call(c, "resource_watch",
         {"bk_resource": "inst_asst", "bk_start_from": 1, "bk_event_types": ["create"],
          "bk_fields": ["id", "bk_obj_asst_id"], "bk_filter": {"bk_sub_resource": "bk_host"}},
         "(creates touching bk_host, bk_fields projected)",
         data_check=events_are([("create", {"id": id1, "bk_obj_asst_id": "bk_switch_belong_bk_host"})]))

    # -- failures: HTTP 200, result false, SPEC's code and message, data null
    op = c.cc.add_instance_association
    resp = op.request(SEED_ADD)
    CHECK.that(resp.status_code == 200 and resp.headers.get("Content-Type", "").startswith("application/json"),
               "a failing call still answers HTTP 200 application/json (seed 000 again)",
               "status %s, content-type %s" % (resp.status_code, resp.headers.get("Content-Type")))
    check_envelope("add_instance_association (seed 000 again, parsed by the package)", SEED_ADD,
                   c.parse_response(op, resp), code=1101061,
                   message="The relationship is 1:n, and multiple source model instances cannot be associated at the same time.")
    call(c, "add_instance_association", SEED_ADD_001,
         "(seed 001 verbatim = duplicate under 1:n: mapping check first, 1101061)", code=1101061,
         message="The relationship is 1:n, and multiple source model instances cannot be associated at the same time.")
    call(c, "add_instance_association",
         dict(COMMON, bk_obj_asst_id="bk_switch_belong_nothing", bk_inst_id=11, bk_asst_inst_id=21),
         "(unknown model association: 1101046)", code=1101046,
         message="object association does not exist.")
    call(c, "batch_create_instance_association", dict(SEED_BATCH, details=[]),
         "(empty details: 1199038)", code=1199038, message="need data details is null")
    call(c, "delete_object_association", {"id": oa1}, "(in use: 1101043)", code=1101043,
         message="object association has already been instantiated, can not be deleted.")
    call(c, "delete_inst", {"bk_obj_id": "bk_host", "bk_inst_id": 21}, "(linked: 1101075)",
         code=1101075, message="the inst has association")
    call(c, "no_such_api", {"bk_obj_id": "host"}, "(unknown api: 1199011)", code=1199011,
         message="'api' the parameter is invalid or does not exist")
    call(c, "resource_watch", {"bk_resource": "host"}, "(bk_resource host: 1199006)", code=1199006,
         message="'bk_resource' data parameter verification does not pass")
    call(c, "resource_watch", {"bk_resource": "inst_asst", "bk_cursor": "not-a-cursor-of-this-store"},
         "(foreign cursor: 1103007)", code=1103007,
         message="the event cursor does not exist or has expired")

    # -- a delete, seen by a watch after the previous cursor (and the failures above made no event)
    call(c, "delete_instance_association", {"bk_obj_id": "bk_switch", "id": id1}, "(record %d)" % id1,
         data=None)
    call(c, "find_instance_association", {"bk_obj_id": "bk_switch", "condition": {}},
         "(after the delete)", data_check=records_are([rec2]))
    feed = call(c, "resource_watch", {"bk_resource": "inst_asst", "bk_cursor": after_creates},
                "(after the creates' cursor: exactly the delete)",
                data_check=events_are([("delete", rec1)]))
    after_delete = feed["bk_events"][-1]["bk_cursor"]

    # -- long poll: nothing new answers bk_watched false after --watch-timeout, with a cursor
    started = time.monotonic()
    feed = call(c, "resource_watch", {"bk_resource": "inst_asst", "bk_cursor": after_delete},
                "(after the delete: nothing, waits the watch timeout)",
                data_check=events_are([("", None)], watched=False))
    waited = time.monotonic() - started
    CHECK.that(watch_timeout * 0.75 <= waited < watch_timeout + 5,
               "the empty watch waited %.2fs (--watch-timeout %gs)" % (waited, watch_timeout))
    quiet = feed["bk_events"][0]["bk_cursor"]
    CHECK.that(quiet == after_delete, "the empty answer's cursor is the newest position (the delete's)",
               "want %s, got %s" % (after_delete, quiet))

    # -- long poll woken by a commit: a second client waits, this one writes
    woken = {}

    def waiter():
        w = make_client(endpoint)
        t0 = time.monotonic()
        try:
            woken["env"] = w.cc.resource_watch({"bk_resource": "inst_asst", "bk_cursor": quiet})
        except Exception as e:
            woken["error"] = e
        woken["took"] = time.monotonic() - t0
    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(min(0.4, watch_timeout / 4))
    id3 = call(c, "add_instance_association",
               dict(COMMON, bk_obj_asst_id="bk_switch_belong_bk_host", bk_inst_id=12, bk_asst_inst_id=21),
               "(bk_switch 12 -> bk_host 21, while a watch waits)", data_check=positive_id)["id"]
    thread.join(watch_timeout + 30)
    CHECK.that(not thread.is_alive() and "error" not in woken, "the waiting watch answered",
               repr(woken.get("error")))
    CHECK.that(id3 > id2, "ids go on, never reused (%d after %d, %d deleted)" % (id3, id2, id1))
    rec3 = record(id3, "bk_switch", 12, "bk_host", 21, "bk_switch_belong_bk_host", "belong")
    check_envelope("resource_watch (waiting since the quiet cursor)", {"bk_cursor": quiet}, woken["env"],
                   code=0, message="success", data_check=events_are([("create", rec3)]))
    CHECK.that(woken["took"] < watch_timeout * 0.9,
               "the waiting watch answered on the commit, in %.2fs (before the %gs timeout)"
               % (woken["took"], watch_timeout))

    # -- delete many; the feed tells it, the topology reflects it
    call(c, "delete_related_inst_asso", {"bk_obj_id": "bk_host", "id": [id3, 999999]},
         "(one present, one missing)", data=1)
    call(c, "resource_watch",
         {"bk_resource": "inst_asst", "bk_cursor": woken["env"]["data"]["bk_events"][-1]["bk_cursor"]},
         "(after the waited create: its delete)", data_check=events_are([("delete", rec3)]))
    call(c, "search_inst_association_topo", {"bk_obj_id": "bk_switch", "bk_inst_id": 12},
         "(bk_switch 12 after the delete)", data=[])

    # What a restart on the same --data must still show.
    full = call(c, "resource_watch", {"bk_resource": "inst_asst", "bk_start_from": 1},
                "(whole feed: create, create, delete, create, delete)",
                data_check=events_are([("create", rec1), ("create", rec2), ("delete", rec1),
                                       ("create", rec3), ("delete", rec3)]))
    return {"records": [rec2], "events": full["bk_events"], "max_id": id3,
            "model_associations": [oa1, oa2]}


def after_restart(endpoint, state, watch_timeout):
    c = make_client(endpoint)
    call(c, "find_instance_association", {"bk_obj_id": "bk_switch", "condition": {}},
         "(after restart: the same records)", data_check=records_are(state["records"]))
    call(c, "count_instance_associations", {"bk_obj_id": "bk_switch"}, "(after restart)",
         data={"count": len(state["records"])})
    call(c, "resource_watch", {"bk_resource": "inst_asst", "bk_start_from": 1},
         "(after restart: the same events, same cursors)",
         data={"bk_watched": True, "bk_events": state["events"]})
    last = state["events"][-1]["bk_cursor"]
    call(c, "create_inst", {"bk_obj_id": "bk_switch", "bk_inst_name": "switch-11", "bk_inst_id": 11},
         "(after restart: instances kept, 1199014)", code=1199014,
         message="duplicated instances exist, fields [bk_inst_id] duplicated")
    call(c, "delete_object_association", {"id": state["model_associations"][1]},
         "(after restart: still in use, 1101043)", code=1101043,
         message="object association has already been instantiated, can not be deleted.")
    new = call(c, "add_instance_association",
               dict(COMMON, bk_obj_asst_id="bk_switch_belong_bk_host", bk_inst_id=11, bk_asst_inst_id=21),
               "(after restart)", data_check=positive_id)["id"]
    CHECK.that(new > state["max_id"], "ids go on after the restart (%d > %d)" % (new, state["max_id"]))
    call(c, "resource_watch", {"bk_resource": "inst_asst", "bk_cursor": last},
         "(after restart, after the old last cursor: the new create)",
         data_check=events_are([("create", record(new, "bk_switch", 11, "bk_host", 21,
                                                  "bk_switch_belong_bk_host", "belong"))]))


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] not in ("--save", "--verify")):
        print(__doc__, file=sys.stderr)
        return 2
    endpoint = argv[1].rstrip("/")
    watch_timeout = float(os.environ.get("WATCH_TIMEOUT", "2"))
    try:
        if len(argv) == 4 and argv[2] == "--verify":
            with open(argv[3]) as f:
                after_restart(endpoint, json.load(f), watch_timeout)
        else:
            state = scenario(endpoint, watch_timeout)
            if len(argv) == 4:
                with open(argv[3], "w") as f:
                    json.dump(state, f)
    except CheckFailed as e:
        print("FAIL %s" % e, flush=True)
        print("passed %d checks before the failure" % CHECK.passed, flush=True)
        return 1
    except Exception as e:  # a transport error in a raw .request(), a state file that is missing
        print("FAIL after check %d: %s: %s" % (CHECK.passed, type(e).__name__, e), flush=True)
        print("passed %d checks before the failure" % CHECK.passed, flush=True)
        return 1
    print("passed %d checks" % CHECK.passed, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
