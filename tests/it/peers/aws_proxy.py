#!/usr/bin/env python3
"""A loopback HTTP proxy in front of a moto server, for the `charterguard audit aws` tests.

    aws_proxy.py proxy --upstream http://127.0.0.1:MOTO [--parent PID] [--idle SECONDS]
    aws_proxy.py moto --port PORT [--parent PID]

`proxy` listens on 127.0.0.1 on a free port and prints `listening http://127.0.0.1:PORT` on
its first line. It forwards every request to moto, except that it

  - strips a leading 12-digit account label from the Host header: S3 Control puts the account
    id in the host name (`123456789012.127.0.0.1:PORT`), which an S3 emulator may read as a
    virtual-hosted bucket (moto 5.2.5 routes S3 Control's /v20180820/ paths before looking at
    the host, so there it is belt and braces; the client still has to resolve that name: the
    audit's resolver does, boto3 in aws_seed.py rewrites the URL);
  - answers operations the audit calls that moto does not implement, with real-shaped answers:
    kafka ListReplicators (GET /replication/v1/replicators -> {"replicators": []});
  - keeps AWS Backup selections, which moto does not implement: CreateBackupSelection,
    ListBackupSelections and GetBackupSelection of a plan (kept like moto's data: /__reset
    leaves them);
  - makes EC2 DescribeRegions answer like a real account's: no regions of other partitions
    (moto lists cn-* and us-gov-* as enabled), and opt-in statuses set by POST /__regions
    (default: ap-south-2 "opted-in", which moto hard-codes "not-opted-in");
  - adds BucketRegion to each bucket of S3 ListBuckets, as S3 answers (moto leaves it out,
    which would make the audit ask GetBucketLocation for every bucket); POST /__options
    {"list_buckets_region": false} turns this off to exercise that fallback;
  - gives naive timestamps in JSON answers a UTC offset: moto writes kafka's creationTime as
    `2026-12-02T18:33:24.427369`, which the Rust SDK rejects (RFC 3339 needs an offset),
    failing the whole ListClustersV2; the proxy appends `Z` (moto's clock is UTC);
  - corrects KMS DescribeKey of a multi-region primary key: once any replica has been
    described, moto answers MultiRegionKeyType REPLICA for the primary too (its replicas share
    one configuration dict); the proxy answers PRIMARY when the key is its own primary;
  - percent-encodes the trust policies of IAM ListRoles, as IAM does (moto encodes them in
    CreateRole and GetRole only), so the audit's decoding is what reads them;
  - injects faults set with POST /__faults, matched on the AWS service and region (the SigV4
    credential scope of the Authorization header) and the operation (X-Amz-Target for JSON
    protocols, Action= for query protocols, method + path for REST services), answering with
    the error each service's protocol really uses;
  - counts requests per (service, region, operation): GET /__stats.

Control endpoints (never forwarded):
  GET  /__health               200 "ok"
  POST /__faults   [FAULT...]  replaces the faults; DELETE /__faults clears them; GET lists them
  POST /__regions  {"REGION": "opted-in" | "not-opted-in" | "opt-in-not-required"}, merged in
  GET  /__stats                {"requests": [{"service", "region", "operation", "count", "faulted"}]}
  POST /__options  {"list_buckets_region": bool}   (default true)
  POST /__reset                clears faults, stats, region overrides and options

A FAULT is {"service"?, "region"?, "operation"?, "params"?, "error", "times"?, "seconds"?,
"status"?, "code"?, "message"?}: absent matchers match anything; `params` ({"RoleArn": ARN}) must
all equal request parameters (query string, form body or top-level JSON body: STS AssumeRole of
one role is denied with {"service": "sts", "operation": "AssumeRole", "params": {"RoleArn": ..}},
as AWS denies a role that does not exist or does not trust the caller); `times` is how many
matching requests it answers (absent or null: all of them), after which requests are forwarded
again. `error`:
  "AccessDenied"    403, the service's access-denied code (EC2: UnauthorizedOperation)
  "Throttling"      the service's throttling answer (EC2 RequestLimitExceeded 503, S3 SlowDown
                    503, query services Throttling 400, JSON services ThrottlingException 400)
  "RegionDisabled"  what a region not enabled for the account answers (EC2 AuthFailure 401,
                    query InvalidClientTokenId 403, JSON UnrecognizedClientException 400,
                    S3 InvalidAccessKeyId 403)
  "close"           closes the connection without an answer
  "delay"           waits `seconds` (default 30) before answering the request normally
  "custom"          `status`, `code` and `message` as given, in the service's error format

`moto` runs moto's own server (moto.server.main, as the moto_server command does) with a
watchdog. Both modes bind 127.0.0.1 only and end by themselves: when the parent process
(`--parent`, the test binary) is gone, and the proxy also after `--idle` seconds without a
request. Standard library only (the moto mode imports the pinned moto).
"""

import argparse
import http.client
import http.server
import json
import os
import re
import socket
import sys
import threading
import time
import urllib.parse
import uuid
import xml.sax.saxutils

# ---------------------------------------------------------------------------------------------
# Protocols: how each service (by SigV4 signing name) shapes its errors.

QUERY_XML = {"ec2", "rds", "elasticache", "elasticloadbalancing", "sts", "iam", "sns", "sqs", "autoscaling", "cloudformation"}
REST_XML = {"s3", "s3control"}
# Everything else the audit calls speaks JSON (awsJson1.x: kms, logs, secretsmanager, acm, ecr;
# restJson: eks, kafka, backup).

ACCESS_DENIED = {"ec2": ("UnauthorizedOperation", 403), "kafka": ("ForbiddenException", 403)}
THROTTLING = {"ec2": ("RequestLimitExceeded", 503), "s3": ("SlowDown", 503), "s3control": ("SlowDown", 503)}


def protocol(service):
    if service in REST_XML:
        return "rest-xml"
    if service == "ec2":
        return "ec2"
    if service in QUERY_XML:
        return "query"
    return "json"


def error_for(service, kind, fault):
    """(status, code, message) of a fault's error for `service`."""
    p = protocol(service)
    if kind == "AccessDenied":
        code, status = ACCESS_DENIED.get(service, ("AccessDenied" if p in ("query", "rest-xml") else "AccessDeniedException", 403))
        return status, code, f"User: arn:aws:sts::123456789012:assumed-role/charterguard-audit/test is not authorized to perform this operation ({service})"
    if kind == "Throttling":
        code, status = THROTTLING.get(service, ("Throttling" if p == "query" else "ThrottlingException", 400))
        return status, code, "Rate exceeded"
    if kind == "RegionDisabled":
        code, status = {"ec2": ("AuthFailure", 401), "query": ("InvalidClientTokenId", 403), "rest-xml": ("InvalidAccessKeyId", 403)}.get(
            p, ("UnrecognizedClientException", 400))
        return status, code, "The security token included in the request is invalid."
    if kind == "custom":
        return int(fault.get("status", 400)), fault.get("code", "InternalFailure"), fault.get("message", "injected by the test proxy")
    raise ValueError(f"unknown fault error {kind!r}")


def error_body(service, status, code, message):
    """Headers and body of an AWS error in the service's protocol."""
    request_id = str(uuid.uuid4())
    p = protocol(service)
    if p == "ec2":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>'
                f"<RequestID>{request_id}</RequestID></Response>")
        return {"Content-Type": "text/xml;charset=UTF-8"}, body
    if p == "query" or service == "s3control":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>'
                f"<RequestId>{request_id}</RequestId></ErrorResponse>")
        return {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body
    if p == "rest-xml":
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>'
        return {"Content-Type": "application/xml", "x-amz-request-id": request_id}, body
    body = json.dumps({"__type": code, "message": message, "Message": message})
    return {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code, "x-amzn-RequestId": request_id}, body


# ---------------------------------------------------------------------------------------------
# Naming a request: service, region, operation.

CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
ACCOUNT_LABEL = re.compile(r"^\d{12}\.")

S3_SUBRESOURCES = [("encryption", "BucketEncryption"), ("object-lock", "ObjectLockConfiguration"), ("versioning", "BucketVersioning"),
                   ("publicAccessBlock", "PublicAccessBlock"), ("lifecycle", "BucketLifecycleConfiguration"), ("replication", "BucketReplication"),
                   ("tagging", "BucketTagging"), ("policy", "BucketPolicy"), ("location", "BucketLocation")]


def rest_operation(service, method, path, query):
    """The operation name of a REST request the audit makes, else `METHOD /path`."""
    parts = [urllib.parse.unquote(p) for p in path.split("/") if p]
    verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method, method.title())
    if service == "s3control" and parts[-1:] == ["publicAccessBlock"]:
        return f"{verb}PublicAccessBlock"
    if service == "s3":
        if not parts:
            return "ListBuckets" if method == "GET" else f"{method} /"
        if len(parts) == 1:
            for key, name in S3_SUBRESOURCES:
                if key in query:
                    return f"{verb}{name}"
            return {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket", "GET": "ListObjects"}.get(method, f"{method} /{parts[0]}")
    if service == "eks" and method == "GET" and parts[:1] == ["clusters"]:
        return {1: "ListClusters", 2: "DescribeCluster", 3: "ListNodegroups", 4: "DescribeNodegroup"}.get(len(parts), f"GET {path}")
    if service == "kafka" and method == "GET":
        if parts == ["api", "v2", "clusters"]:
            return "ListClustersV2"
        if parts == ["replication", "v1", "replicators"]:
            return "ListReplicators"
    if service == "backup" and parts[:2] == ["backup", "plans"] and parts[3:4] == ["selections"]:
        return {("PUT", 4): "CreateBackupSelection", ("GET", 4): "ListBackupSelections", ("GET", 5): "GetBackupSelection"}.get((method, len(parts)), f"{method} {path}")
    if service == "backup" and method == "GET" and parts[:2] == ["backup", "plans"]:
        return {2: "ListBackupPlans", 3: "GetBackupPlan"}.get(len(parts), f"GET {path}")
    return f"{method} {path}"


def request_params(query, headers, body):
    """The request's parameters by name: query string, form body, or a JSON body's top level."""
    params = {k: v[0] for k, v in query.items() if v}
    content_type = headers.get("Content-Type", "")
    if "x-www-form-urlencoded" in content_type:
        params.update({k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace")).items() if v})
    elif "json" in content_type and body:
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if isinstance(document, dict):
            params.update({k: v for k, v in document.items() if isinstance(v, str)})
    return params


def name_request(method, path, query, headers, params):
    """(service, region, operation) of a request: the SigV4 scope, then the operation."""
    scope = CREDENTIAL_SCOPE.search(headers.get("Authorization", ""))
    region, service = (scope.group(1), scope.group(2)) if scope else ("", "")
    if service == "s3" and path.startswith("/v20180820/"):
        service = "s3control"  # S3 Control signs as s3; its paths tell it apart
    target = headers.get("X-Amz-Target")
    if target:
        return service, region, target.rsplit(".", 1)[-1]
    if params.get("Action"):
        return service, region, params["Action"]
    return service, region, rest_operation(service, method, path, query)


# ---------------------------------------------------------------------------------------------
# Shared state: faults, counts, region overrides.

DEFAULT_REGIONS = {"ap-south-2": "opted-in"}
DEFAULT_OPTIONS = {"list_buckets_region": True}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.faults = []
        self.counts = {}
        self.regions = dict(DEFAULT_REGIONS)
        self.options = dict(DEFAULT_OPTIONS)
        self.last_request = time.monotonic()
        self.selections = {}  # backup plan id -> [(selection id, created, request body)]

    def reset(self):
        with self.lock:
            self.faults, self.counts, self.regions, self.options = [], {}, dict(DEFAULT_REGIONS), dict(DEFAULT_OPTIONS)

    def take_fault(self, service, region, operation, params):
        """The first fault matching the request, its remaining count decremented."""
        with self.lock:
            for fault in self.faults:
                if any(fault.get(k) not in (None, v) for k, v in (("service", service), ("region", region), ("operation", operation))):
                    continue
                if any(params.get(k) != v for k, v in fault.get("params", {}).items()):
                    continue
                times = fault.get("times")
                if times is not None:
                    if times <= 0:
                        continue
                    fault["times"] = times - 1
                return dict(fault)
        return None

    def count(self, service, region, operation, faulted):
        with self.lock:
            entry = self.counts.setdefault((service, region, operation), [0, 0])
            entry[0] += 1
            entry[1] += 1 if faulted else 0


STATE = State()
KNOWN_ERRORS = {"AccessDenied", "Throttling", "RegionDisabled", "close", "delay", "custom"}


def check_fault(fault):
    if not isinstance(fault, dict) or fault.get("error") not in KNOWN_ERRORS:
        raise ValueError(f"a fault needs `error` in {sorted(KNOWN_ERRORS)}: {fault!r}")
    unknown = set(fault) - {"service", "region", "operation", "params", "error", "times", "seconds", "status", "code", "message"}
    if unknown:
        raise ValueError(f"unknown fault keys {sorted(unknown)}")
    if not isinstance(fault.get("params", {}), dict):
        raise ValueError(f"a fault's `params` is an object of parameter names and values: {fault!r}")
    return dict(fault)


# ---------------------------------------------------------------------------------------------
# Answers moto cannot give.


def synthesized(service, operation):
    """A real-shaped answer for an operation moto does not implement, or None."""
    if service == "kafka" and operation == "ListReplicators":
        return 200, {"Content-Type": "application/json"}, json.dumps({"replicators": []})
    return None


def backup_selection(operation, path, body):
    """AWS Backup selections of a plan (REST JSON, timestamps in epoch seconds), or None."""
    if operation not in ("CreateBackupSelection", "ListBackupSelections", "GetBackupSelection"):
        return None
    parts = [urllib.parse.unquote(p) for p in path.split("/") if p]
    plan_id = parts[2]
    json_answer = lambda document: (200, {"Content-Type": "application/json"}, json.dumps(document))  # noqa: E731
    with STATE.lock:
        selections = STATE.selections.setdefault(plan_id, [])
        if operation == "CreateBackupSelection":
            selection_id = str(uuid.uuid4())
            selections.append((selection_id, time.time(), json.loads(body or b"{}").get("BackupSelection", {})))
            return json_answer({"SelectionId": selection_id, "BackupPlanId": plan_id, "CreationDate": selections[-1][1]})
        if operation == "ListBackupSelections":
            return json_answer({"BackupSelectionsList": [
                {"SelectionId": i, "SelectionName": sel.get("SelectionName"), "BackupPlanId": plan_id, "CreationDate": at, "IamRoleArn": sel.get("IamRoleArn")}
                for i, at, sel in selections]})
        for i, at, sel in selections:
            if i == parts[4]:
                return json_answer({"BackupSelection": sel, "SelectionId": i, "BackupPlanId": plan_id, "CreationDate": at})
    headers, text = error_body("backup", 404, "ResourceNotFoundException", f"no selection {parts[4]} in plan {plan_id}")
    return 404, headers, text


REGION_ITEM = re.compile(r"<item>(?:(?!</item>).)*?<regionName>([^<]+)</regionName>(?:(?!</item>).)*?</item>", re.S)


NAIVE_TIMESTAMP = re.compile(rb'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)"')


def utc_timestamps(body):
    """`"2026-12-02T18:33:24.427369"` as `"2026-12-02T18:33:24.427369Z"` (moto's times are UTC)."""
    return NAIVE_TIMESTAMP.sub(rb'"\1Z"', body)


def fix_primary_key(body):
    """DescribeKey of a multi-region primary key says PRIMARY, as KMS does."""
    answer = json.loads(body)
    meta = answer.get("KeyMetadata", {})
    config = meta.get("MultiRegionConfiguration")
    if config and config.get("PrimaryKey", {}).get("Arn") == meta.get("Arn"):
        config["MultiRegionKeyType"] = "PRIMARY"
    return json.dumps(answer).encode("utf-8")


TRUST_POLICY = re.compile(r"<AssumeRolePolicyDocument>([^<]*)</AssumeRolePolicyDocument>")


def encode_trust_policies(body):
    """ListRoles with every trust policy percent-encoded (RFC 3986), as IAM answers it."""

    def encode(match):
        document = xml.sax.saxutils.unescape(match.group(1), {"&quot;": '"', "&apos;": "'"})
        if not document.lstrip().startswith("{"):
            return match.group(0)  # encoded already
        return f"<AssumeRolePolicyDocument>{urllib.parse.quote(document, safe='')}</AssumeRolePolicyDocument>"

    return TRUST_POLICY.sub(encode, body.decode("utf-8")).encode("utf-8")


def rewrite_regions(body):
    """DescribeRegions as a real account of the aws partition answers it."""
    with STATE.lock:
        overrides = dict(STATE.regions)
    text = body.decode("utf-8")

    def item(match):
        region = match.group(1)
        if region.startswith(("cn-", "us-gov-", "us-iso")):
            return ""
        status = overrides.get(region)
        if status is None:
            return match.group(0)
        return re.sub(r"<optInStatus>[^<]*</optInStatus>", f"<optInStatus>{status}</optInStatus>", match.group(0))

    return REGION_ITEM.sub(item, text).encode("utf-8")


BUCKET = re.compile(r"<Bucket>(?:(?!</Bucket>).)*?<Name>([^<]+)</Name>(?:(?!</Bucket>).)*?</Bucket>", re.S)


def add_bucket_regions(handler, body):
    """ListBuckets with each bucket's BucketRegion: moto filters by `bucket-region`, so ask it
    once per region of the partition (the request's own credentials: the same account)."""
    text = body.decode("utf-8")
    if "<BucketRegion>" in text or "<Bucket>" not in text:
        return body
    auth = handler.headers.get("Authorization", "")
    ec2_auth = CREDENTIAL_SCOPE.sub(lambda m: m.group(0).replace(f"/{m.group(2)}/", "/ec2/"), auth)
    form = b"Action=DescribeRegions&Version=2016-11-15&AllRegions=true"
    status, _, regions = handler.upstream_call("POST", "/", {"Authorization": ec2_auth, "Content-Type": "application/x-www-form-urlencoded"}, form)
    if status != 200:
        return body
    region_of = {}
    for region in re.findall(r"<regionName>([^<]+)</regionName>", regions.decode("utf-8")):
        if region.startswith(("cn-", "us-gov-", "us-iso")):
            continue
        status, _, listed = handler.upstream_call("GET", f"/?bucket-region={region}", {"Authorization": auth}, b"")
        if status == 200:
            for name in BUCKET.findall(listed.decode("utf-8")):
                region_of[name] = region

    def bucket(match):
        region = region_of.get(match.group(1))
        if region is None:
            return match.group(0)
        return match.group(0)[: -len("</Bucket>")] + f"<BucketRegion>{region}</BucketRegion></Bucket>"

    return BUCKET.sub(bucket, text).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# The proxy.

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None  # (host, port)

    def log_message(self, *_):
        pass  # quiet: tests read stats, not logs

    def setup(self):
        super().setup()
        # Headers and body go out as one write (see `answer`), and without Nagle: otherwise a
        # small second write waits for the client's delayed ACK, 40 ms a request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self, status, headers, body):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        for key, value in headers.items():
            if key.lower() not in HOP_BY_HOP and key.lower() != "date":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(data)
        self.flush_headers()

    def handle_any(self):
        STATE.last_request = time.monotonic()
        url = urllib.parse.urlsplit(self.path)
        body = self.read_body()
        if url.path.startswith("/__"):
            return self.control(url.path, body)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        params = request_params(query, self.headers, body)
        service, region, operation = name_request(self.command, url.path, query, self.headers, params)
        fault = STATE.take_fault(service, region, operation, params)
        STATE.count(service, region, operation, fault is not None and fault["error"] != "delay")
        if fault:
            if fault["error"] == "close":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if fault["error"] == "delay":
                time.sleep(float(fault.get("seconds", 30)))
            else:
                status, code, message = error_for(service, fault["error"], fault)
                headers, text = error_body(service, status, code, message)
                return self.answer(status, headers, text)
        made = synthesized(service, operation) or (service == "backup" and backup_selection(operation, url.path, body))
        if made:
            return self.answer(*made)
        status, headers, answer = self.forward(body)
        if protocol(service) == "json":  # by protocol: moto labels kafka's JSON text/html
            answer = utc_timestamps(answer)
        if service == "ec2" and operation == "DescribeRegions" and status == 200:
            answer = rewrite_regions(answer)
        if service == "kms" and operation == "DescribeKey" and status == 200:
            answer = fix_primary_key(answer)
        if service == "iam" and operation == "ListRoles" and status == 200:
            answer = encode_trust_policies(answer)
        if service == "s3" and operation == "GetBucketVersioning" and status == 200:
            # moto names the root GetBucketVersioningResponse; S3 (and the Rust SDK's parser)
            # say VersioningConfiguration. boto3 does not check the root, the Rust SDK does.
            answer = answer.replace(b"GetBucketVersioningResponse", b"VersioningConfiguration")
        with STATE.lock:
            bucket_regions = STATE.options["list_buckets_region"]
        if service == "s3" and operation == "ListBuckets" and status == 200 and bucket_regions and "bucket-region" not in query:
            answer = add_bucket_regions(self, answer)
        self.answer(status, headers, answer)

    def forward(self, body):
        # Header names are case-insensitive: the Rust SDK writes `host`, which must not reach
        # moto beside the rewritten `Host` (two Host headers make moto miss every bucket).
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "host"}
        headers["Host"] = ACCOUNT_LABEL.sub("", self.headers.get("Host", ""))
        return self.upstream_call(self.command, self.path, headers, body)

    def upstream_call(self, method, path, headers, body):
        """One request to moto: (status, headers, body); 502 when moto cannot be reached."""
        headers = dict(headers)
        headers.setdefault("Host", "%s:%d" % self.upstream)
        headers["Content-Length"] = str(len(body))
        connection = http.client.HTTPConnection(*self.upstream, timeout=300)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        except OSError as e:
            text = f"the test proxy could not reach moto at {self.upstream}: {e}"
            return 502, {"Content-Type": "text/plain"}, text.encode()
        finally:
            connection.close()

    def control(self, path, body):
        try:
            if path == "/__health":
                return self.answer(200, {"Content-Type": "text/plain"}, "ok")
            if path == "/__faults" and self.command == "POST":
                faults = json.loads(body or b"[]")
                faults = [check_fault(f) for f in (faults if isinstance(faults, list) else [faults])]
                with STATE.lock:
                    STATE.faults = faults
                return self.answer(200, {"Content-Type": "application/json"}, json.dumps({"faults": faults}))
            if path == "/__faults" and self.command == "DELETE":
                with STATE.lock:
                    STATE.faults = []
                return self.answer(200, {"Content-Type": "application/json"}, "{}")
            if path == "/__faults":
                with STATE.lock:
                    return self.answer(200, {"Content-Type": "application/json"}, json.dumps({"faults": STATE.faults}))
            if path == "/__regions" and self.command == "POST":
                overrides = json.loads(body or b"{}")
                with STATE.lock:
                    STATE.regions.update(overrides)
                    return self.answer(200, {"Content-Type": "application/json"}, json.dumps(STATE.regions))
            if path == "/__options" and self.command == "POST":
                options = json.loads(body or b"{}")
                unknown = set(options) - set(DEFAULT_OPTIONS)
                if unknown:
                    raise ValueError(f"unknown options {sorted(unknown)} (known: {sorted(DEFAULT_OPTIONS)})")
                with STATE.lock:
                    STATE.options.update(options)
                    return self.answer(200, {"Content-Type": "application/json"}, json.dumps(STATE.options))
            if path == "/__stats":
                with STATE.lock:
                    rows = [{"service": s, "region": r, "operation": o, "count": c, "faulted": f} for (s, r, o), (c, f) in sorted(STATE.counts.items())]
                return self.answer(200, {"Content-Type": "application/json"}, json.dumps({"requests": rows}))
            if path == "/__reset" and self.command == "POST":
                STATE.reset()
                return self.answer(200, {"Content-Type": "application/json"}, "{}")
            return self.answer(404, {"Content-Type": "text/plain"}, f"no control endpoint {self.command} {path}")
        except (ValueError, json.JSONDecodeError) as e:
            return self.answer(400, {"Content-Type": "text/plain"}, str(e))


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The audit opens many connections at once (services x regions x concurrency); the
    # default backlog of 5 would make the rest wait a SYN retransmit (1 s and more).
    request_queue_size = 256

    def handle_error(self, request, client_address):
        # A client that gave up (its timeout during a `delay` fault, a `close` fault) is the
        # test working as meant: only other errors are worth a traceback.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def watchdog(parent, idle, what):
    """Ends the process when the parent is gone or (idle > 0) nothing came for `idle` seconds."""

    def watch():
        while True:
            time.sleep(1)
            gone = parent and (os.getppid() != parent and not alive(parent))
            quiet = idle > 0 and time.monotonic() - STATE.last_request > idle
            if gone or quiet:
                try:
                    print(f"aws_proxy.py {what}: exiting ({'parent gone' if gone else f'idle {idle}s'})", file=sys.stderr, flush=True)
                finally:
                    # Whatever happens to the message (standard error may be a pipe whose
                    # reader died with the parent), the process ends.
                    os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def run_proxy(args):
    host, _, port = urllib.parse.urlsplit(args.upstream).netloc.partition(":")
    if host not in ("127.0.0.1", "localhost"):
        sys.exit(f"aws_proxy.py: the upstream must be on loopback, not {host}")
    Proxy.upstream = (host, int(port or 80))
    server = Server(("127.0.0.1", args.port), Proxy)
    watchdog(args.parent, args.idle, "proxy")
    print(f"listening http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


def run_moto(args):
    """moto's own server (what the moto_server command runs), under a watchdog."""
    from moto.server import main as moto_server

    watchdog(args.parent, 0, "moto")
    moto_server(["-H", "127.0.0.1", "-p", str(args.port)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    proxy = sub.add_parser("proxy")
    proxy.add_argument("--upstream", required=True)
    proxy.add_argument("--port", type=int, default=0)
    proxy.add_argument("--parent", type=int, default=0)
    proxy.add_argument("--idle", type=float, default=1800)
    moto = sub.add_parser("moto")
    moto.add_argument("--port", type=int, required=True)
    moto.add_argument("--parent", type=int, default=0)
    args = parser.parse_args()
    {"proxy": run_proxy, "moto": run_moto}[args.mode](args)


if __name__ == "__main__":
    main()
